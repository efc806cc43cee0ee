// Diagnostic, not part of `npm run bench`: the emergency path on N stations, round by round
// (each station's time-to-air and its `received` ack time), or the schedule path per item.
//   node dist/bench/diagnostics/diagnose.js [stations=13] [rounds=6] [chime|nochime|schedule]
// Env: DIAG_NODE_OPTIONS (e.g. "--import dist/bench/diagnostics/sqlite-normal.js"), DIAG_NODE_ARGS
// (e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof"), DIAG_PAUSE=<ms> (time to attach strace).

import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startMosquitto } from '../../support/mosquitto.js';
import { TestController } from '../../support/station.js';
import { loadAvg, sleep, wallNow } from '../lib.js';
import { benchKeys, makeClips, startFleet } from '../stations.js';

const n = Number(process.argv[2] ?? 13);
const rounds = Number(process.argv[3] ?? 6);
const chime = (process.argv[4] ?? 'chime') === 'chime';
const broker = await startMosquitto();
const ctl = await TestController.connect(broker.url);
const keys = benchKeys();
const fleet = await startFleet(broker, keys, {
  chime,
  tag: 'diag',
  count: n,
  nodeArgs: process.env.DIAG_NODE_ARGS ? process.env.DIAG_NODE_ARGS.split(' ') : [],
  env: process.env.DIAG_NODE_OPTIONS ? { NODE_OPTIONS: process.env.DIAG_NODE_OPTIONS } : {},
});
console.log('pids', fleet.stations.map((s) => s.proc.pid).join(' '));
if (process.env.DIAG_PAUSE) await sleep(Number(process.env.DIAG_PAUSE));
const work = mkdtempSync(path.join(os.tmpdir(), 'loa-diag-'));
const clips = await makeClips(work, rounds + 1, 'u', 300);
const [shortClip] = await makeClips(work, 1, 's', 440, 0.5);
const clip = await ctl.publishMedia(shortClip!);
if (process.argv[4] === 'schedule') {
  const { scheduledRun } = await import('../stations.js');
  // prefetch via a first alert so the clip is cached
  const warm = ctl.cosign(ctl.envelope('alert', { title: 'w', test: false, maxDurationSec: 1, audio: { kind: 'media', ...clip } }, { all: true }, keys.office), keys.deputy);
  await ctl.client.publishAsync(ctl.topics.allCmd(), JSON.stringify(warm), { qos: 1 });
  await sleep(4000);
  const r = await scheduledRun(fleet, ctl, keys, clip, rounds);
  for (const a of ctl.acks.filter((x) => x.state === 'scheduled' && x.commandType === 'schedule')) {
    const st = fleet.stations.find((x) => x.id === a.station)!;
    console.log(a.broadcastId, 'fired', Date.parse(a.at) - Date.parse(a.plannedAt!), 'first', ((st.firstFrames.get(a.broadcastId!) ?? NaN) - Date.parse(a.plannedAt!)).toFixed(1));
  }
  console.log('schedule errors (ms):', r.errors.map((e) => e.toFixed(1)).join(' '), 'missing', r.missing, 'load', loadAvg());
  await fleet.stop();
  await ctl.close();
  await broker.stop();
  rmSync(work, { recursive: true, force: true });
  process.exit(0);
}
// bench-side delivery time of all/cmd
const seen = new Map<string, number>();
ctl.client.on('message', (t, p) => {
  if (t.endsWith('/all/cmd')) seen.set(JSON.parse(p.toString()).id, wallNow());
});
await ctl.client.subscribeAsync(ctl.topics.allCmd(), { qos: 1 });
const all: number[] = [];
for (let r = 0; r < rounds; r++) {
  const media = chime ? clip : await ctl.publishMedia(clips[r]!);
  const env = ctl.cosign(ctl.envelope('alert', { title: 'd', test: false, maxDurationSec: 1, audio: { kind: 'media', ...media } }, { all: true }, keys.office), keys.deputy);
  const payload = JSON.stringify(env);
  const t0 = wallNow();
  await ctl.client.publishAsync(ctl.topics.allCmd(), payload, { qos: 1 });
  const deadline = Date.now() + 30000;
  while (fleet.stations.some((s) => !ctl.acks.some((a) => a.station === s.id && a.broadcastId === env.id && a.state === 'completed')) && Date.now() < deadline) await sleep(20);
  await sleep(300);
  const rows = fleet.stations
    .map((s) => {
      const rec = ctl.acks.find((a) => a.station === s.id && a.broadcastId === env.id && a.state === 'received');
      const ff = s.firstFrames.get(env.id)!;
      return { id: s.id, received: rec ? Date.parse(rec.at) - t0 : NaN, first: ff - t0 };
    })
    .sort((a, b) => a.first - b.first);
  console.log(`t0 ${(t0 / 1000).toFixed(6)}`);
  all.push(...rows.map((x) => x.first));
  console.log(`round ${r} load ${loadAvg()} bench-delivery ${(seen.get(env.id)! - t0).toFixed(1)}`);
  console.log('  first:    ' + rows.map((x) => x.first.toFixed(0)).join(' '));
  console.log('  received: ' + rows.map((x) => x.received.toFixed(0)).join(' '));
  if (!chime) await Promise.all(fleet.stations.map((s) => s.waitForLog((l) => l.msg === 'media prepared' && l.sha256 === media.sha256, 60_000)));
  await sleep(250);
}
await fleet.stop();
await ctl.close();
await broker.stop();
rmSync(work, { recursive: true, force: true });
{
  const { dist } = await import('../lib.js');
  const d = dist(all.slice(n));
  console.log(`after round 0: p50 ${d.p50.toFixed(1)} p95 ${d.p95.toFixed(1)} p99 ${d.p99.toFixed(1)} n=${d.n}`);
}
