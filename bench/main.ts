// `npm run bench`: measures Loa against its performance goals on real parts (private Mosquitto,
// real loa-station / loa collect processes, real ffmpeg), prints one table and writes it, with
// the machine description, to docs/performance.md. A hand-written analysis below the marker
// line in that file is kept across runs.
//
// BENCH_ONLY=emergency,preemption,schedule,uncached,transcode,collector,idle runs a subset
// (then docs/performance.md is only written with BENCH_WRITE=1).
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startMosquitto } from '../support/mosquitto.js';
import { TestController } from '../support/station.js';
import { collectorIngest, type IngestResult, mosquittoSubIngest } from './collector.js';
import { bareFirstByte } from './ffmpeg-first-byte.js';
import { idleFootprint } from './idle.js';
import { type Dist, dist, fixture, loadAvg, median, progress, ROOT, wallNow } from './lib.js';
import { describeMachine, type Machine } from './machine.js';
import { benchKeys, cachedRounds, makeClips, naiveRounds, preemptionRounds, STATION_COUNT, scheduledRun, startFleet, uncachedRounds, warmClip } from './stations.js';
import { transcodeBench } from './transcode.js';

const DOC = path.join(ROOT, 'docs/performance.md');
const KEEP_MARKER = '<!-- analysis: hand-written below this line, kept by npm run bench -->';

// Sizes. Emergency: ROUNDS rounds x 13 stations.
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 20);
const WARMUP = 2;
const PREEMPT_ROUNDS = Number(process.env.BENCH_PREEMPT_ROUNDS ?? 8);
const SCHEDULE_PER_STATION = 8; // 13 x 8 = 104 items
const TRANSCODE_RUNS = 5;
const COLLECT_STATIONS = 1000;
const COLLECT_PER_STATION = Number(process.env.BENCH_ACKS_PER_STATION ?? 100);
const COLLECT_DUPS = 2000;
const IDLE_WINDOW_MS = 60_000;
const IDLE_SETTLE_MS = 15_000;

interface Row {
  name: string;
  measured: string;
  goal: string;
  pass: boolean | undefined;
  detail?: string;
}

const rows: Row[] = [];
const notes: string[] = [];
const loads: string[] = [];
const only = process.env.BENCH_ONLY?.split(',')
  .map((s) => s.trim())
  .filter(Boolean);
const want = (k: string) => !only || only.includes(k);

async function section(name: string, fn: () => Promise<void>): Promise<void> {
  const t = wallNow();
  const l0 = loadAvg().split(' ')[0];
  progress(`${name}: start (load ${loadAvg()})`);
  try {
    await fn();
  } catch (e) {
    rows.push({ name, measured: `error: ${(e as Error).message.split('\n')[0]}`, goal: '', pass: false });
    progress(`${name}: FAILED ${(e as Error).stack}`);
  }
  progress(`${name}: done in ${((wallNow() - t) / 1000).toFixed(1)} s (load ${loadAvg()})`);
  loads.push(`${name} ${((wallNow() - t) / 1000).toFixed(0)} s, load ${l0} → ${loadAvg().split(' ')[0]}`);
}

const verdict = (p: boolean | undefined) => (p === undefined ? '—' : p ? 'PASS' : 'FAIL');
const d1 = (d: Dist) => `p50 ${d.p50.toFixed(1)} · p95 ${d.p95.toFixed(1)} · p99 ${d.p99.toFixed(1)} ms (n=${d.n})`;

function table(): string {
  const head = '| Row | Measured | Goal | Result |\n|---|---|---|---|';
  return [head, ...rows.map((r) => `| ${r.name} | ${r.measured} | ${r.goal} | ${verdict(r.pass)} |`)].join('\n');
}

function machineBlock(m: Machine, totalS: number, loadEnd: string): string {
  return [
    `- CPU: ${m.cpu}, ${m.cores} cores; RAM ${m.ramGiB} GiB; ${m.os}, kernel ${m.kernel}`,
    `- Node ${m.node}; ${m.ffmpeg}; ${m.mosquitto}`,
    `- Temp files (station data, WAV outputs, SQLite): ${m.disk}`,
    `- Run: ${m.date}, ${totalS.toFixed(0)} s; load average at start ${m.loadAtStart}, at end ${loadEnd} (1/5/15 min)`,
    ...(loads.length ? [`- 1-min load average per section (other work shares this machine): ${loads.join('; ')}`] : []),
  ].join('\n');
}

async function main(): Promise<void> {
  const started = wallNow();
  const machine = await describeMachine();
  progress(`machine: ${machine.cpu}, ${machine.cores} cores, load ${machine.loadAtStart}`);
  const work = mkdtempSync(path.join(os.tmpdir(), 'loa-bench-'));
  const keys = benchKeys();

  // Distinct clips: one per uncached round (and naive / bare ffmpeg use the same files).
  const clips = await makeClips(work, WARMUP + ROUNDS, 'uncached', 300);
  const [shortClip] = await makeClips(work, 1, 'short', 440, 0.5);

  // ---- transcode first: it wants a quiet machine -----------------------------------------
  if (want('transcode')) {
    await section('transcode', async () => {
      const r = await transcodeBench(fixture('music-10s.mp3'), TRANSCODE_RUNS);
      const p = median(r.prepareMs);
      const b = median(r.bareMs);
      const ratio = p / b;
      rows.push({
        name: 'Transcode + normalise (music-10s.mp3)',
        measured: `prepareAudio median ${p.toFixed(0)} ms vs bare two-pass ffmpeg median ${b.toFixed(0)} ms → ratio **${ratio.toFixed(3)}** (${TRANSCODE_RUNS} runs each, interleaved; ${r.passes} ffmpeg passes, linear=${r.linear})`,
        goal: 'ratio ≤ 1.10',
        pass: ratio <= 1.1,
      });
      notes.push(`Transcode runs (ms): prepareAudio ${r.prepareMs.map((x) => x.toFixed(0)).join(', ')}; bare ${r.bareMs.map((x) => x.toFixed(0)).join(', ')}.`);
    });
  }

  // ---- bare ffmpeg spawn-to-first-byte --------------------------------------------------------
  let bare: { serial: Dist; concurrent: Dist } | undefined;
  if (want('uncached') || want('emergency')) {
    await section('bare ffmpeg', async () => {
      const r = await bareFirstByte(clips, { serial: 40, rounds: ROUNDS, width: STATION_COUNT });
      bare = { serial: dist(r.serial), concurrent: dist(r.concurrent) };
    });
  }

  // ---- 13 stations with the emergency chime: cached, preemption, schedule ----------------
  if (want('emergency') || want('preemption') || want('schedule')) {
    const broker = await startMosquitto();
    const ctl = await TestController.connect(broker.url);
    try {
      const fleet = await startFleet(broker, keys, { chime: true, tag: 'chime' });
      try {
        const clip = await ctl.publishMedia(shortClip!);
        // One untimed alert first, so the clip is in every station's cache before any timed round.
        await warmClip(fleet, ctl, keys, clip);
        if (want('emergency')) {
          await section('emergency cached', async () => {
            const r = await cachedRounds(fleet, ctl, keys, clip, ROUNDS, WARMUP);
            const d = dist(r.samples);
            rows.push({
              name: `Emergency time-to-air, cached chime (${STATION_COUNT} stations)`,
              measured: d1(d),
              goal: 'p99 ≤ 50 ms',
              pass: d.p99 <= 50,
            });
            // Same path, one station addressed on its own (the other 12 idle): what the daemon
            // costs without 13 daemons sharing 2 cores.
            const one = dist((await cachedRounds(fleet, ctl, keys, clip, ROUNDS, WARMUP, fleet.stations[0])).samples);
            rows.push({ name: '↳ same, 1 station addressed alone (12 idle)', measured: d1(one), goal: '—', pass: undefined });
          });
        }
        if (want('preemption')) {
          await section('preemption', async () => {
            const r = await preemptionRounds(fleet, ctl, keys, clip, PREEMPT_ROUNDS, 1);
            const d = dist(r.samples);
            rows.push({ name: `Preemption latency (${STATION_COUNT} stations)`, measured: d1(d), goal: 'p99 ≤ 50 ms', pass: d.p99 <= 50 });
          });
        }
        if (want('schedule')) {
          await section('schedule', async () => {
            const r = await scheduledRun(fleet, ctl, keys, clip, SCHEDULE_PER_STATION);
            const abs = r.errors.map((e) => Math.abs(e));
            const d = dist(abs);
            const mean = r.errors.reduce((a, b) => a + b, 0) / Math.max(1, r.errors.length);
            rows.push({
              name: `Scheduled start error (${r.errors.length + r.missing} items on ${STATION_COUNT} stations)`,
              measured: `abs(actual − planned) p50 ${d.p50.toFixed(1)} · p99 ${d.p99.toFixed(1)} · max ${d.max.toFixed(1)} ms (mean signed ${mean >= 0 ? '+' : ''}${mean.toFixed(1)} ms; ${r.missing} not aired)`,
              goal: 'p99 ≤ 20 ms',
              pass: d.p99 <= 20 && r.missing === 0,
            });
          });
        }
      } finally {
        await fleet.stop();
      }
    } finally {
      await ctl.close();
      await broker.stop();
    }
  }

  // ---- 13 stations without chime: uncached clips; then the naive baseline -----------------
  if (want('uncached')) {
    const broker = await startMosquitto();
    const ctl = await TestController.connect(broker.url);
    try {
      let uncached: Dist | undefined;
      await section('emergency uncached', async () => {
        const fleet = await startFleet(broker, keys, { chime: false, tag: 'nochime' });
        try {
          const r = await uncachedRounds(fleet, ctl, keys, clips, ROUNDS, WARMUP);
          uncached = dist(r.samples);
        } finally {
          await fleet.stop();
        }
      });
      let naive: Dist | undefined;
      await section('naive baseline', async () => {
        naive = dist(await naiveRounds(broker.url, clips, ROUNDS, WARMUP));
      });
      if (uncached && bare) {
        const limit = bare.concurrent.p99 + 20;
        rows.push({
          name: `Emergency time-to-air, uncached clip (${STATION_COUNT} stations)`,
          measured: d1(uncached),
          goal: `p99 ≤ bare ffmpeg p99 (${STATION_COUNT} at once) + 20 = ${limit.toFixed(1)} ms`,
          pass: uncached.p99 <= limit,
        });
      }
      if (naive) {
        rows.push({ name: `↳ baseline: naive subscriber + ffmpeg per message (${STATION_COUNT} processes)`, measured: d1(naive), goal: '—', pass: undefined });
      }
    } finally {
      await ctl.close();
      await broker.stop();
    }
  }
  if (bare) {
    rows.push({ name: `↳ baseline: bare ffmpeg spawn → first byte, ${STATION_COUNT} at once`, measured: d1(bare.concurrent), goal: '—', pass: undefined });
    rows.push({ name: '↳ baseline: bare ffmpeg spawn → first byte, one at a time', measured: d1(bare.serial), goal: '—', pass: undefined });
  }

  // ---- collector --------------------------------------------------------------------------------
  if (want('collector')) {
    await section('collector', async () => {
      const c = await collectorIngest(COLLECT_STATIONS, COLLECT_PER_STATION, COLLECT_DUPS);
      const fmt = (r: IngestResult, what: string) =>
        `**${Number.isFinite(r.perSec) ? Math.round(r.perSec).toLocaleString('en-US') : 'n/a'} acks/s** (${r.unique.toLocaleString('en-US')} unique + ${r.duplicatesSent.toLocaleString('en-US')} duplicates in ${(r.elapsedMs / 1000).toFixed(2)} s; ${r.received.toLocaleString('en-US')} ${what}; lost ${r.lost}${what === 'rows' ? `, duplicate rows ${r.duplicateRows}` : ''}; publisher done in ${(r.publishElapsedMs / 1000).toFixed(2)} s)`;
      rows.push({
        name: `Collector ingestion (${COLLECT_STATIONS.toLocaleString('en-US')} stations → loa collect → SQLite)`,
        measured: fmt(c, 'rows'),
        goal: '≥ 10,000 acks/s, 0 lost, 0 duplicate rows',
        pass: c.perSec >= 10_000 && c.lost === 0 && c.duplicateRows === 0,
      });
      const s = await mosquittoSubIngest(COLLECT_STATIONS, COLLECT_PER_STATION, COLLECT_DUPS);
      rows.push({ name: '↳ baseline: mosquitto_sub -q 1 draining the same stream', measured: fmt(s, 'lines'), goal: '—', pass: undefined });
    });
  }

  // ---- idle footprint ----------------------------------------------------------------------------
  if (want('idle')) {
    await section('idle', async () => {
      const r = await idleFootprint(IDLE_WINDOW_MS, IDLE_SETTLE_MS);
      rows.push({
        name: 'Station idle footprint (1 loa-station, 60 s)',
        measured: `RSS max ${r.rssMaxMb.toFixed(1)} MiB (median ${r.rssMedianMb.toFixed(1)}; start-up peak ${r.startupPeakMb.toFixed(1)}); CPU ${r.cpuPct.toFixed(2)} % of one core over ${(r.windowMs / 1000).toFixed(0)} s`,
        goal: 'RSS ≤ 70 MB, CPU < 1 %',
        pass: r.rssMaxMb * 1.048576 <= 70 && r.cpuPct < 1,
      });
    });
  }

  rmSync(work, { recursive: true, force: true });
  const totalS = (wallNow() - started) / 1000;
  const out = table();
  process.stdout.write(`\n${out}\n\n`);
  process.stdout.write(machineBlock(machine, totalS, loadAvg()) + '\n');
  for (const n of notes) process.stdout.write(`- ${n}\n`);

  if (!only || process.env.BENCH_WRITE === '1') {
    let kept = `${KEEP_MARKER}\n`;
    if (existsSync(DOC)) {
      const old = readFileSync(DOC, 'utf8');
      const i = old.indexOf(KEEP_MARKER);
      if (i >= 0) kept = old.slice(i);
    }
    const doc = [
      '# Performance',
      '',
      'Generated by `npm run bench` (bench/main.ts); every figure below is from the last run on the machine described.',
      'Real parts throughout: a private Mosquitto on a loopback port, real `loa-station` and `loa collect` child processes, real ffmpeg.',
      '',
      '## Machine',
      '',
      machineBlock(machine, totalS, loadAvg()),
      '',
      '## Results',
      '',
      out,
      '',
      '## How each row is measured',
      '',
      METHOD,
      ...(notes.length ? ['', ...notes.map((n) => `- ${n}`)] : []),
      '',
      kept.trimEnd(),
      '',
    ].join('\n');
    writeFileSync(DOC, doc);
    progress(`wrote ${path.relative(ROOT, DOC)}`);
  }
  if (rows.some((r) => r.measured.startsWith('error:'))) process.exitCode = 1;
}

const METHOD = `- **Emergency time-to-air**: ${STATION_COUNT} \`loa-station\` processes (\`file\` outputs) on one private Mosquitto.
  Each round the bench publishes one alert on \`loa/v1/all/cmd\` (QoS 1), a live alert (\`test: false\`) signed by two
  keys (alertQuorum 2), \`maxDurationSec: 1\`. Time-to-air = the daemon's \`"first frame on air"\` \`at\` minus the
  wall time taken just before the bench's publish call (both \`performance.timeOrigin + performance.now()\`, one machine).
  ${WARMUP} warm-up rounds are discarded, then ${ROUNDS} rounds × ${STATION_COUNT} stations.
  (a) *cached*: \`chimes.emergency = audio-fixtures/chime-emergency.wav\`, clip already in every cache; the first frame is the chime.
  (b) *uncached*: stations without chime; each round a fresh 1 s 44.1 kHz sine WAV (distinct frequency) is published
  retained to \`media/<sha256>\` first, so each station fetches it over MQTT and decodes it with ffmpeg at air time.
- **Baselines for (b)**, same clips: *naive* — ${STATION_COUNT} node+mqtt subscriber processes each running
  \`ffmpeg -i clip -f s16le pipe:1\` per message on a local copy of the file (no fetch, no verification), publish → first
  stdout byte; *bare ffmpeg* — spawn → first stdout byte with the daemon's decode arguments, one at a time (n=40) and
  ${STATION_COUNT} at once (the stations share this machine's cores the same way). The uncached goal uses the ${STATION_COUNT}-at-once figure.
- **Preemption latency**: every station plays a normal announce (music-10s.mp3, cached); 0.8 s after all acked
  \`started\`, the bench publishes an alert (T0). The preempted WAV stops sounding at its first-frame time (daemon log) +
  its duration (WAV header; the \`file\` output is paced in 20 ms chunks); latency = that end − T0.
  1 warm-up round, then ${PREEMPT_ROUNDS} rounds × ${STATION_COUNT} stations.
- **Scheduled start error**: each station gets a signed schedule (retained) of ${SCHEDULE_PER_STATION} \`at\` items 1 s apart
  (0.5 s cached clip); station k is offset by k × ${Math.floor(1000 / STATION_COUNT)} ms so the ${STATION_COUNT} daemons do not fire in the same instant.
  Error = "first frame on air" \`at\` − planned time.
- **Transcode + normalise**: \`prepareAudio()\` (daemon/media/prepare.ts) on audio-fixtures/music-10s.mp3 vs the two
  ffmpeg command lines a person would type for two-pass loudnorm to the same target and on-air format
  (measure with \`print_format=json\`, then apply with the measured values, \`linear=true\`), ${TRANSCODE_RUNS} runs each, interleaved, medians compared.
- **Collector ingestion**: a fleet file of ${COLLECT_STATIONS.toLocaleString('en-US')} stations, a real \`loa collect\` process, Mosquitto with the
  queue settings \`loa broker config\` writes (persistence, max_queued_messages 200000, max_inflight_messages 100).
  One publisher client sends ${COLLECT_PER_STATION} valid \`Ack\` messages per station (QoS 1, schema-checked before sending) on the
  ${COLLECT_STATIONS.toLocaleString('en-US')} station ack topics, plus ${COLLECT_DUPS.toLocaleString('en-US')} exact re-sends of earlier acks. Rate = unique acks / (last row
  committed, polled with COUNT(*) on the central SQLite DB every 25 ms − first publish). Lost = unique acks without a row;
  duplicate rows = rows − distinct (station, seq). Baseline: \`mosquitto_sub -t 'loa/v1/station/+/ack' -q 1\` on a fresh broker, same stream, lines counted.
- **Idle footprint**: one station (3 chimes configured, default 30 s telemetry) connected and idle; after ${IDLE_SETTLE_MS / 1000} s settling,
  VmRSS from /proc/<pid>/status every second for 60 s, CPU = Δ(utime+stime) from /proc/<pid>/stat over the window.`;

main().catch((e) => {
  progress(`bench crashed: ${(e as Error).stack}`);
  process.exit(1);
});
