// Diagnostic, not part of `npm run bench`: RSS of one idle station second by second, under
// the given NODE_OPTIONS, then its largest mappings (/proc/<pid>/smaps) and smaps_rollup.
//   node dist/bench/diagnostics/diagnose-idle.js [seconds] [NODE_OPTIONS...]
// e.g. --import dist/bench/diagnostics/mem-probe.js
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startMosquitto } from '../../support/mosquitto.js';
import { makeKey, writeStationConfig } from '../../support/station.js';
import { fixture, rssKb, sleep, spawnStation } from '../lib.js';

const seconds = Number(process.argv[2] ?? 30);
const nodeOptions = process.argv.slice(3).join(' ');
const broker = await startMosquitto();
const dir = mkdtempSync(path.join(os.tmpdir(), 'loa-diag-idle-'));
const cfg = writeStationConfig({
  id: 'idle-ward',
  dir,
  brokerUrl: broker.url,
  keys: [makeKey('k')],
  chimes: { emergency: fixture('chime-emergency.wav'), priority: fixture('chime-priority.wav'), normal: fixture('chime-normal.wav') },
  extra: { telemetrySec: 30 },
});
const st = spawnStation('idle-ward', dir, cfg, { NODE_OPTIONS: nodeOptions });
st.proc.stderr!.on('data', (b: Buffer) => process.stdout.write(b));
await st.waitForLog((l) => l.msg === 'subscribed', 60_000);
const series: number[] = [];
for (let i = 0; i < seconds; i++) {
  series.push(Math.round(rssKb(st.proc.pid!) / 1024));
  await sleep(1000);
}
console.log(`NODE_OPTIONS="${nodeOptions}" rss MiB per s: ${series.join(' ')}`);
{
  const { readFileSync } = await import('node:fs');
  const smaps = readFileSync(`/proc/${st.proc.pid}/smaps`, 'utf8').split('\n');
  const by = new Map<string, number>();
  let cur = '';
  for (const l of smaps) {
    const head = /^[0-9a-f]+-[0-9a-f]+ \S+ \S+ \S+ \S+\s*(.*)$/.exec(l);
    if (head) {
      cur = head[1] || '[anon]';
      continue;
    }
    const m = /^Rss:\s+(\d+) kB/.exec(l);
    if (m) by.set(cur, (by.get(cur) ?? 0) + Number(m[1]));
  }
  console.log(
    [...by]
      .sort((a, b) => b[1] - a[1])
      .slice(0, 12)
      .map(([k, v]) => `${(v / 1024).toFixed(1)} MiB ${k}`)
      .join('\n'),
  );
  console.log(readFileSync(`/proc/${st.proc.pid}/smaps_rollup`, 'utf8'));
}
await st.stop();
await broker.stop();
rmSync(dir, { recursive: true, force: true });
