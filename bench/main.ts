// `npm run bench`: measures Loa against its performance goals on real parts (private Mosquitto,
// real loa-station / loa collect processes, real ffmpeg), prints one table and writes it, with
// the machine description, to docs/performance.md. A hand-written analysis below the marker
// line in that file is kept across runs.
//
// BENCH_ONLY=emergency,preemption,schedule,uncached,transcode,collector,idle,console-fanout,
// console-render,live-mic (or `npm run bench -- --only console-fanout,live-mic`) runs a subset
// (then docs/performance.md is only written with BENCH_WRITE=1).
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startMosquitto } from '../support/mosquitto.js';
import { TestController } from '../support/station.js';
import { alsaRounds } from './alsa.js';
import { collectorIngest, type IngestResult, mosquittoSubIngest } from './collector.js';
import { consoleFanout } from './console-fanout.js';
import { consoleRender } from './console-render.js';
import { bareFirstByte } from './ffmpeg-first-byte.js';
import { cachedWithFloor, floorRatio } from './floor.js';
import { idleFootprint } from './idle.js';
import { type Dist, dist, fixture, loadAvg, median, progress, ROOT, wallNow } from './lib.js';
import { liveMicLatency, relayStartup } from './live-mic.js';
import { describeMachine, type Machine } from './machine.js';
import { DEFAULT_SCALE, scaleBench } from './scale.js';
import {
  approvedRounds,
  benchKeys,
  cachedRounds,
  makeClips,
  naiveRounds,
  preemptionRounds,
  STATION_COUNT,
  scheduledRun,
  startFleet,
  uncachedRounds,
  warmClip,
} from './stations.js';
import { makeTtsClip, transcodeBench } from './transcode.js';

/** The stations' default loudness target (station config `loudness.targetLufs`). */
const TARGET_LUFS = -16;

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
const FANOUT_STATIONS = 1000;
const FANOUT_PAGES = 20;
const FANOUT_WARMUP_MS = 10_000;
const FANOUT_WINDOW_MS = Number(process.env.BENCH_FANOUT_WINDOW_MS ?? 60_000);
const RENDER_NAVS = 8;
const RENDER_BURSTS = 10;
const MIC_SESSIONS = Number(process.env.BENCH_MIC_SESSIONS ?? 7);
const RELAY_RUNS = 5;

interface Row {
  name: string;
  measured: string;
  goal: string;
  pass: boolean | undefined;
  detail?: string;
  /** Set when the section ran while the 1-minute load average exceeded the core count. */
  flag?: string;
}

const rows: Row[] = [];
const notes: string[] = [];
const loads: string[] = [];
const onlyArg = process.argv.indexOf('--only');
const only = (onlyArg >= 0 ? process.argv[onlyArg + 1] : process.env.BENCH_ONLY)
  ?.split(',')
  .map((s) => s.trim())
  .filter(Boolean);
const want = (k: string) => !only || only.includes(k);

async function section(name: string, fn: () => Promise<void>): Promise<void> {
  const t = wallNow();
  const l0 = loadAvg().split(' ')[0];
  progress(`${name}: start (load ${loadAvg()})`);
  const first = rows.length;
  try {
    await fn();
    // A row measured while other work loaded the machine says so: the 1-minute load average
    // when the section started (before its own processes) above the core count.
    if (Number(l0) > os.cpus().length) for (const r of rows.slice(first)) if (r.pass !== undefined) r.flag = `⚠ load ${l0} at start`;
  } catch (e) {
    rows.push({ name, measured: `error: ${(e as Error).message.split('\n')[0]}`, goal: '', pass: false });
    progress(`${name}: FAILED ${(e as Error).stack}`);
  }
  progress(`${name}: done in ${((wallNow() - t) / 1000).toFixed(1)} s (load ${loadAvg()})`);
  loads.push(`${name} ${((wallNow() - t) / 1000).toFixed(0)} s, load ${l0} → ${loadAvg().split(' ')[0]}`);
}

const verdict = (p: boolean | undefined) => (p === undefined ? '—' : p ? 'PASS' : 'FAIL');
const d1 = (d: Dist) => `n=${d.n} · p50 ${d.p50.toFixed(1)} · p95 ${d.p95.toFixed(1)} · p99 ${d.p99.toFixed(1)} · max ${d.max.toFixed(1)} ms`;
const d0 = (d: Dist) => `p50 ${d.p50.toFixed(0)} · p95 ${d.p95.toFixed(0)} · p99 ${d.p99.toFixed(0)} · max ${d.max.toFixed(0)} ms (n=${d.n})`;
/** The machine, on rows that are often run on their own (`--only`). */
const onMachine = (m: Machine, load0: string) => `[${m.cores} × ${m.cpu}, ${m.ramGiB} GiB RAM; 1-min load ${load0} → ${loadAvg().split(' ')[0]}]`;

function table(): string {
  const head = '| Row | Measured | Goal | Result |\n|---|---|---|---|';
  return [head, ...rows.map((r) => `| ${r.name} | ${r.measured} | ${r.goal} | ${verdict(r.pass)}${r.flag ? ` ${r.flag}` : ''} |`)].join('\n');
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

const SCALE_BEGIN = '<!-- scale: written by `npm run bench -- --scale` (bench/scale.ts); replaced by the next such run -->';
const SCALE_END = '<!-- /scale -->';

/**
 * `npm run bench -- --scale`: only the Scale section of docs/performance.md is replaced (it
 * sits below the keep marker, so a full `npm run bench` keeps it); nothing else is touched.
 */
async function scaleMain(): Promise<void> {
  const started = wallNow();
  const machine = await describeMachine();
  progress(`machine: ${machine.cpu}, ${machine.cores} cores, load ${machine.loadAtStart}`);
  const r = await scaleBench(DEFAULT_SCALE);
  const totalS = (wallNow() - started) / 1000;
  const section = [
    SCALE_BEGIN,
    '## Scale',
    '',
    `Generated by \`npm run bench -- --scale\` (bench/scale.ts). ${DEFAULT_SCALE.stations.toLocaleString('en-US')} simulated stations (bench/sim-stations.ts: one MQTT client each, persistent session, verifying every signed command with protocol/verify.ts and acking like a station, with an outbox re-sent on central/state changes) and ${DEFAULT_SCALE.daemons} real \`loa-station\` daemons on one Mosquitto; \`loa collect --shared\` writing PostgreSQL ${'(the local server)'} or one SQLite file. Rows marked ⚠ ran while the 1-minute load average was above the core count (other work shared the machine).`,
    '',
    '### Machine',
    '',
    `- CPU: ${machine.cpu}, ${machine.cores} cores; RAM ${machine.ramGiB} GiB; ${machine.os}, kernel ${machine.kernel}`,
    `- Node ${machine.node}; ${machine.mosquitto}; ${machine.disk}`,
    `- Run: ${machine.date}, ${totalS.toFixed(0)} s; load average at start ${machine.loadAtStart}, at end ${loadAvg()}`,
    '',
    '### Results',
    '',
    '| Row | Measured | Goal | Result |',
    '|---|---|---|---|',
    ...r.rows,
    '',
    ...r.notes.map((n) => `- ${n}`),
    SCALE_END,
  ].join('\n');
  process.stdout.write(`\n${section}\n`);
  let doc = existsSync(DOC) ? readFileSync(DOC, 'utf8') : `# Performance\n\n${KEEP_MARKER}\n`;
  const i = doc.indexOf(SCALE_BEGIN);
  const j = doc.indexOf(SCALE_END);
  if (i >= 0 && j > i) doc = doc.slice(0, i) + section + doc.slice(j + SCALE_END.length);
  else {
    const k = doc.indexOf(KEEP_MARKER);
    doc = k >= 0 ? `${doc.slice(0, k + KEEP_MARKER.length)}\n\n${section}\n${doc.slice(k + KEEP_MARKER.length)}` : `${doc.trimEnd()}\n\n${section}\n`;
  }
  if (process.env.BENCH_WRITE !== '0') {
    writeFileSync(DOC, doc);
    progress(`wrote the Scale section of ${path.relative(ROOT, DOC)}`);
  }
}

async function main(): Promise<void> {
  if (process.argv.includes('--scale')) return scaleMain();
  const started = wallNow();
  const machine = await describeMachine();
  progress(`machine: ${machine.cpu}, ${machine.cores} cores, load ${machine.loadAtStart}`);
  const work = mkdtempSync(path.join(os.tmpdir(), 'loa-bench-'));
  const keys = benchKeys();

  // Distinct clips: one per uncached round (and naive / bare ffmpeg use the same files).
  const clips = await makeClips(work, WARMUP + ROUNDS, 'uncached', 300);
  const [shortClip] = await makeClips(work, 1, 'short', 440, 0.5);
  const approvedClips = await makeClips(work, WARMUP + ROUNDS, 'approved', 700);

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
      // Speech is what wards air most: TTS as \`loa announce --say\` makes it.
      const tts = await makeTtsClip(work);
      if (!tts) throw new Error('espeak-ng is needed for the speech row (apt-get install espeak-ng)');
      const sp = await transcodeBench(tts, TRANSCODE_RUNS);
      const ps = median(sp.prepareMs);
      const bs = median(sp.bareMs);
      rows.push({
        name: 'Transcode + normalise (Vietnamese TTS speech, espeak-ng WAV)',
        measured: `prepareAudio median ${ps.toFixed(0)} ms vs bare two-pass ffmpeg median ${bs.toFixed(0)} ms → ratio **${(ps / bs).toFixed(3)}** (${TRANSCODE_RUNS} runs each, interleaved; ${sp.passes} ffmpeg passes incl. the probe, linear=${sp.linear}; output ${sp.outputLufs.toFixed(1)} LUFS)`,
        goal: 'ratio ≤ 1.10',
        pass: ps / bs <= 1.1,
      });
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
            // The physical floor interleaved round by round: 13 minimal subscribers writing a
            // cached PCM frame to the same file output as soon as the message arrives.
            const r = await cachedWithFloor(fleet, ctl, broker.url, keys, clip, ROUNDS, WARMUP);
            const d = dist(r.samples);
            const f = dist(r.floor);
            const ratio = floorRatio(d, f);
            rows.push({
              name: `Emergency time-to-air, cached chime (${STATION_COUNT} stations)`,
              measured: `${d1(d)}; ${ratio.text}`,
              goal: 'p99 ≤ 40 ms and ≤ 2.0 × floor',
              pass: d.p99 <= 40 && ratio.p99 <= 2.0,
            });
            rows.push({
              name: `↳ physical floor: ${STATION_COUNT} minimal subscribers write a cached PCM frame to a file output on arrival (no verification, no durability)`,
              measured: d1(f),
              goal: '—',
              pass: undefined,
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
            rows.push({
              name: `Preemption latency (${STATION_COUNT} stations): alert published → the preempted airing's last frame written`,
              measured: d1(d),
              goal: 'p99 ≤ 50 ms',
              pass: d.p99 <= 50,
            });
            if (r.estimated.length)
              rows.push({ name: '↳ the earlier estimate: its first frame + its recorded duration', measured: d1(dist(r.estimated)), goal: '—', pass: undefined });
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
          const off = r.loudness.map((l) => Math.abs(l - TARGET_LUFS));
          const dev = dist(off);
          rows.push({
            name: `First airing of an uncached clip (decoded live): loudness vs the ${TARGET_LUFS} LUFS target`,
            measured: `|integrated − target| n=${dev.n} · p50 ${dev.p50.toFixed(2)} · max ${dev.max.toFixed(2)} LU`,
            goal: '≤ 2 LU',
            pass: dev.max <= 2,
          });
          // A live alert approved after its draft's prefetch hint: the clip is prepared already.
          const a = dist((await approvedRounds(fleet, ctl, keys, approvedClips, ROUNDS, WARMUP)).samples);
          rows.push({
            name: `Approved live alert after the draft's prefetch, no chime (${STATION_COUNT} stations)`,
            measured: d1(a),
            goal: 'p99 ≤ 40 ms',
            pass: a.p99 <= 40,
          });
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
  if (want('alsa')) {
    await section('alsa', async () => {
      const broker = await startMosquitto();
      try {
        const r = await alsaRounds(broker, keys, ROUNDS, WARMUP);
        const toAlsa = dist(r.toAlsa);
        rows.push({
          name: `Emergency time-to-air at alsa-lib, cached chime (${STATION_COUNT} stations, \`alsa\` output on the ALSA \`file\` plugin)`,
          measured: d1(toAlsa),
          // No goal yet: a new row, measured so that the next goal is set against it.
          goal: '— (none set yet)',
          pass: undefined,
        });
        rows.push({ name: "↳ same rounds: first chunk handed to the alsa output's ffmpeg", measured: d1(dist(r.toPipe)), goal: '—', pass: undefined });
        const got = dist(r.receivedMs);
        rows.push({
          name: '↳ audio alsa-lib received per airing (the chime, cut at 1 s)',
          measured: `n=${got.n} · p50 ${got.p50.toFixed(0)} · min ${got.min.toFixed(0)} ms`,
          goal: '—',
          pass: undefined,
        });
      } finally {
        await broker.stop();
      }
    });
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

  // ---- console: live fan-out, overview render, live microphone ---------------------------------
  if (want('console-fanout')) {
    await section('console fan-out', async () => {
      const l0 = loadAvg().split(' ')[0]!;
      const r = await consoleFanout({ stations: FANOUT_STATIONS, pages: FANOUT_PAGES, warmupMs: FANOUT_WARMUP_MS, windowMs: FANOUT_WINDOW_MS });
      const expected = r.sentInWindow * r.pages;
      rows.push({
        name: `Console live fan-out (${r.stations.toLocaleString('en-US')} stations × 1 telemetry/s → \`loa serve --collect\` → ${r.pages} SSE pages)`,
        measured: `publish → page event ${d0(r.endToEnd)}; delivered ${r.delivered.toLocaleString('en-US')} of ${expected.toLocaleString('en-US')} events (${(r.bytesPerSecPerPage / 1e6).toFixed(2)} MB/s of event stream per page); serve CPU **${r.serve.cpuPct.toFixed(1)} %** of one core, RSS median ${r.serve.rssMedianMb.toFixed(0)} MiB (max ${r.serve.rssMaxMb.toFixed(0)}) over ${(r.windowMs / 1000).toFixed(0)} s ${onMachine(machine, l0)}`,
        goal: '— (none set yet)',
        pass: undefined,
      });
      rows.push({ name: '↳ split: publish → collector receive (StationView.lastSeen, whole ms)', measured: d1(r.toCollector), goal: '—', pass: undefined });
      rows.push({ name: '↳ split: collector receive → page event (200 ms batch commit, 50 ms hub tick, socket)', measured: d0(r.collectorToPage), goal: '—', pass: undefined });
      rows.push({
        name: '↳ other processes in the same window',
        measured: `mosquitto ${r.mosquitto.cpuPct.toFixed(1)} %, simulated stations ${r.simulator.cpuPct.toFixed(1)} %, the bench's ${r.pages} SSE clients ${r.readers.cpuPct.toFixed(1)} % of one core (their event-loop delay p99 ${r.readers.loopDelayP99Ms.toFixed(0)} ms); 4 KiB write + fsync every 200 ms on the database's filesystem ${d0(r.fsyncProbe)}; load average ${r.loadBefore} → ${r.loadAfter}`,
        goal: '—',
        pass: undefined,
      });
    });
  }
  if (want('console-render')) {
    await section('console render', async () => {
      const l0 = loadAvg().split(' ')[0]!;
      const r = await consoleRender({ stations: FANOUT_STATIONS, navReps: RENDER_NAVS, burstReps: RENDER_BURSTS });
      rows.push({
        name: `Console overview render, ${r.stations.toLocaleString('en-US')} stations (${r.chromium.replace(/ built on .*/, '')}, headless): navigation → ${r.stations.toLocaleString('en-US')}th \`tr.station\``,
        measured: `${d0(dist(r.navQuiet))}, fleet quiet ${onMachine(machine, l0)}`,
        goal: '— (none set yet)',
        pass: undefined,
      });
      rows.push({ name: '↳ navigation → the next animation frame after it', measured: d0(dist(r.navQuietFrame)), goal: '—', pass: undefined });
      rows.push({
        name: `↳ navigation → ${r.stations.toLocaleString('en-US')}th row while every station sends 1 msg/s`,
        measured: d0(dist(r.navLive)),
        goal: '—',
        pass: undefined,
      });
      rows.push({ name: '↳ same, → the next animation frame', measured: d0(dist(r.navLiveFrame)), goal: '—', pass: undefined });
      rows.push({
        name: `Console overview: one burst of ${r.stations.toLocaleString('en-US')} station updates applied`,
        measured: `first burst event in the page → all ${r.stations.toLocaleString('en-US')} rows updated ${d0(dist(r.burstFirstToDom))}; DOM updates per burst: ${[...new Set(r.burstRenders)].join(', ')}`,
        goal: '— (none set yet)',
        pass: undefined,
      });
      rows.push({ name: '↳ last burst event in the page → all rows updated', measured: d0(dist(r.burstLastToDom)), goal: '—', pass: undefined });
      rows.push({ name: '↳ burst published (simulated stations) → all rows updated', measured: d0(dist(r.burstPublishToDom)), goal: '—', pass: undefined });
    });
  }
  if (want('live-mic')) {
    await section('live mic', async () => {
      const l0 = loadAvg().split(' ')[0]!;
      const r = await liveMicLatency({ sessions: MIC_SESSIONS });
      const byName = dist(r.byFileName);
      rows.push({
        name: `Live microphone, mouth → station output (1 \`loa-station\`, ${r.chromium.replace(/ built on .*/, '')} fake capture)`,
        measured: `${d0(byName)}${r.failures.length ? `; ${r.failures.length} session(s) without the beep at the output` : ''} ${onMachine(machine, l0)}`,
        goal: 'p50 ≤ 2000 ms',
        pass: byName.n > 0 && byName.p50 <= 2000 && r.failures.length === 0,
      });
      rows.push({ name: '↳ same sessions, beep first read from the growing output WAV (10 ms polls)', measured: d0(dist(r.observed)), goal: '—', pass: undefined });
      rows.push({ name: "↳ mouth → beep at the console's live stream (a second listener beside the station)", measured: d0(dist(r.consoleStream)), goal: '—', pass: undefined });
      rows.push({ name: "↳ capture start → station's first frame on air", measured: d0(dist(r.captureToAir)), goal: '—', pass: undefined });
      const relay = await relayStartup(RELAY_RUNS);
      rows.push({
        name: '↳ baseline: station relay decoder (daemon decodeStreamArgs) on a real-time WAV stream',
        measured: `spawn → first PCM byte ${d0(relay.startup)}; audio already waiting at that first byte (request → first byte) ${d0(relay.backlog)}`,
        goal: '—',
        pass: undefined,
      });
      for (const f of r.failures) notes.push(`Live microphone: ${f}.`);
      notes.push(
        `Live microphone sessions (ms, by file name): ${r.byFileName.map((x) => x.toFixed(0)).join(', ')}; observed: ${r.observed.map((x) => x.toFixed(0)).join(', ')}; at the console's stream: ${r.consoleStream.map((x) => x.toFixed(0)).join(', ')}.`,
      );
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
  The loudness row measures every recording of (b) with ffmpeg's ebur128 (integrated), against the stations' target.
  (c) *approved after the draft's prefetch*: the same stations, no chime; each round a fresh clip is published, then the
  alert signed by its first official alone on \`central/prefetch\` (what \`loa alert\` does for a draft); once every
  station has logged "media prepared" for it, the alert with both signatures is published (T0): the first frame is the
  clip itself, from the cache.
- **Physical floor** (interleaved with (a), round by round, same broker): ${STATION_COUNT} minimal subscriber processes
  (bench/floor-subscriber.ts) that, on the message's arrival, write one cached 20 ms PCM frame to the same \`file\` output
  the station uses: no verification, no durability, no decision. The cached row states its ratio to this floor.
- **ALSA layer**: ${STATION_COUNT} stations whose zone output is \`alsa\` (ffmpeg's alsa muxer, as on a ward box) on a device
  that is alsa-lib's \`file\` PCM plugin over a \`null\` slave (an asound.conf written by the bench, ALSA_CONFIG_PATH; no
  sound card). alsa-lib creates the plugin's file as ffmpeg opens the device, just before its first \`snd_pcm_writei\`; the
  bench sees the creation with inotify. Cached chime, same rounds as (a).
- **Baselines for (b)**, same clips: *naive* — ${STATION_COUNT} node+mqtt subscriber processes each running
  \`ffmpeg -i clip -f s16le pipe:1\` per message on a local copy of the file (no fetch, no verification), publish → first
  stdout byte; *bare ffmpeg* — spawn → first stdout byte with the daemon's decode arguments, one at a time (n=40) and
  ${STATION_COUNT} at once (the stations share this machine's cores the same way). The uncached goal uses the ${STATION_COUNT}-at-once figure.
- **Preemption latency**: every station plays a normal announce (music-10s.mp3, cached); 0.8 s after all acked
  \`started\`, the bench publishes an alert (T0). The preempted airing went off air when its last chunk was handed to the
  output: the daemon logs that moment ("last frame on air", from the pacer); latency = that − T0. A chunk is 20 ms and
  the output is given up to a chunk ahead, so a negative figure is a cut that landed before that chunk's due time. The
  earlier estimate (its first frame + the recorded WAV's duration) is shown beside it.
  1 warm-up round, then ${PREEMPT_ROUNDS} rounds × ${STATION_COUNT} stations.
- **Scheduled start error**: each station gets a signed schedule (retained) of ${SCHEDULE_PER_STATION} \`at\` items 1 s apart
  (0.5 s cached clip); station k is offset by k × ${Math.floor(1000 / STATION_COUNT)} ms so the ${STATION_COUNT} daemons do not fire in the same instant.
  Error = "first frame on air" \`at\` − planned time.
- **Transcode + normalise**: \`prepareAudio()\` (daemon/media/prepare.ts) on audio-fixtures/music-10s.mp3 vs the two
  ffmpeg command lines a person would type for two-pass loudnorm to the same target and on-air format
  (measure with \`print_format=json\`, then apply with the measured values, \`linear=true\`), ${TRANSCODE_RUNS} runs each, interleaved, medians compared.
  The station's side includes every ffmpeg run it makes for a new clip (its probe too). Two inputs: music (the MP3) and
  speech (Vietnamese text spoken by espeak-ng, as \`loa announce --say\` makes it).
- **Collector ingestion**: a fleet file of ${COLLECT_STATIONS.toLocaleString('en-US')} stations, a real \`loa collect\` process, Mosquitto with the
  queue settings \`loa broker config\` writes (persistence, max_queued_messages 200000, max_inflight_messages 100).
  One publisher client sends ${COLLECT_PER_STATION} valid \`Ack\` messages per station (QoS 1, schema-checked before sending) on the
  ${COLLECT_STATIONS.toLocaleString('en-US')} station ack topics, plus ${COLLECT_DUPS.toLocaleString('en-US')} exact re-sends of earlier acks. Rate = unique acks / (last row
  committed, polled with COUNT(*) on the central SQLite DB every 25 ms − first publish). Lost = unique acks without a row;
  duplicate rows = rows − distinct (station, seq). Baseline: \`mosquitto_sub -t 'loa/v1/station/+/ack' -q 1\` on a fresh broker, same stream, lines counted.
- **Idle footprint**: one station (3 chimes configured, default 30 s telemetry) connected and idle; after ${IDLE_SETTLE_MS / 1000} s settling,
  VmRSS from /proc/<pid>/status every second for 60 s, CPU = Δ(utime+stime) from /proc/<pid>/stat over the window.
- **Console live fan-out**: a fleet file of ${FANOUT_STATIONS.toLocaleString('en-US')} stations (20 groups, map locations), \`loa broker config --no-tls\` and Mosquitto
  started from the config it wrote (its password files and ACL), one operator made by \`loa users add\`, \`loa serve --collect\` as a child
  process. The stations are simulated (bench/console-fanout.ts, one child process): ${FANOUT_STATIONS.toLocaleString('en-US')} MQTT clients, each logged in on the
  station listener as its own broker user with its own password from \`secrets/stations/\`, so the ACL lets each write only its own
  state and telemetry, as a station; birth state retained, then one schema-checked \`Telemetry\` per station per second (QoS 0), the
  ${FANOUT_STATIONS.toLocaleString('en-US')} stations evenly phased. Each message carries its send time (wall clock, µs) in \`diskFreeBytes\`, which reaches the page unchanged
  in \`StationView\`. ${FANOUT_PAGES} pages = ${FANOUT_PAGES} logins and ${FANOUT_PAGES} plain Node HTTP clients reading \`/api/events\` in the bench process (not browsers: a browser
  adds its own parsing and rendering, measured in the render row). Latency = the wall time the chunk holding an event arrived at
  a client (taken before parsing) − the send time. The SSE payload carries no commit time, so the row is publish → page event;
  \`lastSeen\` (the collector's receive time, before its 200 ms batch commit) splits it. Only sends inside the window count; delivered
  = events received for them over all pages (expected sends × pages; the hub sends one event per station per commit batch).
  After ${FANOUT_WARMUP_MS / 1000} s warm-up, a ${FANOUT_WINDOW_MS / 1000} s window: serve CPU = Δ(utime+stime) of /proc/<pid>/stat, RSS = VmRSS every second.
  Disk contention in the window: the bench writes 4 KiB and fsyncs it every 200 ms on the same filesystem (off its event loop).
  \`BENCH_SERVE_PROF=1\` also profiles serve over the window (V8 sampling profiler and an event-loop delay histogram, started and
  stopped by SIGUSR2 from a preload) and prints its top self times.
- **Console overview render**: same environment; Debian's Chromium (playwright-core, headless, 1280×900). The operator logs in through the form;
  then ${RENDER_NAVS} navigations (about:blank → \`/\`, HTTP cache warm). A script installed before the page's own (MutationObserver) records
  \`performance.now()\` (origin: navigation start) when the ${FANOUT_STATIONS.toLocaleString('en-US')}th \`tr.station\` is in the DOM, and the next animation frame after it;
  first with the fleet quiet, then while every station sends 1 msg/s. Bursts: with the fleet quiet, all simulated stations publish once at
  the same moment with a marker in \`outboxDepth\`; a listener on the page's own EventSource (registered before the page's) timestamps the
  first and last burst event, the observer the moment all ${FANOUT_STATIONS.toLocaleString('en-US')} rows' outbox cells show the marker; ${RENDER_BURSTS} bursts, 1 s apart.
- **Live microphone**: the method of the last test of test/console-browser-2.test.ts, ${MIC_SESSIONS} sessions: one \`loa-station\` (file output) and
  \`loa serve --collect\` (support/console-fleet.ts); Chromium's fake capture device plays a WAV of 3 s silence, a 1 kHz beep, 8 s silence.
  Spoken = the live page's \`data-capture-started\` + 3 s; heard = the output WAV's name (the instant it was opened) + the beep's onset
  (first |sample| > 1500) / 48 kHz. Checks on the same sessions: the wall time the bench first read the onset from the growing WAV; the
  onset's arrival at a second HTTP listener of the console's live stream; the station's "first frame on air" log. Baseline: the
  daemon's relay decoder (ffmpeg with \`decodeStreamArgs\`) on a local stream shaped like the console's (header, then 20 ms of PCM
  every 20 ms from the request), ${RELAY_RUNS} runs.`;

main().catch((e) => {
  progress(`bench crashed: ${(e as Error).stack}`);
  process.exit(1);
});
