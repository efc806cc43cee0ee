// Console live fan-out: 1,000 simulated stations send telemetry at 1 msg/s each through a private
// Mosquitto (configured by `loa broker config`, its real password file and ACL) into
// `loa serve --collect` (a child process), and 20 SSE clients read /api/events. Measured per event:
// publish (the simulated station's wall time, carried in the message) -> the event's arrival at
// an SSE client; and the serve process's CPU and RSS over a steady window.
//
// The simulated stations are 1,000 MQTT clients in one child process, each logged in on the
// station listener as its own broker user with its own password (secrets/stations/<id>.password,
// written by `loa broker config`), so the broker's ACL lets each write only its own state and
// telemetry, as a real station. Run as that child: node console-fanout.js simulate <url> <secretsDir> <n>
// (stdin commands, one JSON line per reply on stdout).
//
// The environment (fleet file, broker, serve) is shared with bench/console-render.ts.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import { StringDecoder } from 'node:string_decoder';
import { fileURLToPath } from 'node:url';
import mqtt, { type MqttClient } from 'mqtt';
import { parse, stringify } from 'yaml';
import { type StationState, Telemetry, Topics } from '../protocol/index.js';
import { startServe } from '../support/console-fleet.js';
import { type MosquittoBroker, startMosquitto } from '../support/mosquitto.js';
import { benchStationId, CLK_TCK, cpuTicks, type Dist, LOA_BIN, median, progress, ROOT, rssKb, sleep, wallNow } from './lib.js';

// ---- the environment ---------------------------------------------------------------------------

export interface ConsoleBenchEnv {
  dir: string;
  fleetFile: string;
  secretsDir: string;
  broker: MosquittoBroker;
  /** The station listener (client id = user name) the simulated stations log in on. */
  stationUrl: string;
  serve: { url: string; child: ChildProcess; log(): string };
  /** Console base URL, no trailing slash. */
  base: string;
  user: { name: string; password: string };
  stations: string[];
  stop(): Promise<void>;
}

const GROUPS = 20;
export const BENCH_USER = { name: 'bench-ops', password: 'bench-operator-password' };

function runLoa(fleet: string, args: string[], stdin?: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [LOA_BIN, '--fleet', fleet, ...args], { env: { ...process.env, LANG: 'C', LC_ALL: '' } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
    child.stdin.end(stdin ?? '');
  });
}

/**
 * A fleet file of `n` stations in 20 groups (with map locations), `loa broker config --no-tls`,
 * mosquitto started from the config it wrote, one operator account, `loa serve --collect`.
 */
export async function startConsoleBenchEnv(n: number, opts: { serveEnv?: Record<string, string> } = {}): Promise<ConsoleBenchEnv> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'loa-bench-console-'));
  const fleetFile = path.join(dir, 'fleet.yaml');
  const stations = Array.from({ length: n }, (_, i) => benchStationId(i));
  const side = Math.ceil(Math.sqrt(n));
  writeFileSync(
    fleetFile,
    stringify({
      broker: {
        urls: ['mqtt://127.0.0.1:1'],
        stationUrls: ['mqtt://127.0.0.1:1'],
        username: 'loa-central',
        passwordFile: 'secrets/central.password',
        listener: { stationPort: 1884 },
      },
      groups: Array.from({ length: GROUPS }, (_, g) => ({ id: `cum-${String(g + 1).padStart(2, '0')}`, name: `Cụm ${g + 1}` })),
      stations: stations.map((id, i) => ({
        id,
        name: `Trạm ${String(i + 1).padStart(4, '0')}`,
        groups: [`cum-${String((i % GROUPS) + 1).padStart(2, '0')}`],
        // A grid over Quảng Nam: the overview's map draws every station.
        location: { lat: 15.5 + (Math.floor(i / side) / side) * 0.6, lon: 107.9 + ((i % side) / side) * 0.7 },
      })),
    }),
  );
  const cfg = await runLoa(fleetFile, ['broker', 'config', '--out', path.join(dir, 'broker'), '--no-tls']);
  if (cfg.code !== 0) throw new Error(`loa broker config: ${cfg.stderr}`);
  const broker = await startMosquitto({ configText: readFileSync(path.join(dir, 'broker', 'mosquitto.conf'), 'utf8') });
  try {
    if (!broker.stationUrl) throw new Error('the generated mosquitto.conf has no plain station listener');
    const f = parse(readFileSync(fleetFile, 'utf8'));
    f.broker.urls = [broker.url];
    f.broker.stationUrls = [broker.stationUrl];
    writeFileSync(fleetFile, stringify(f));
    const u = await runLoa(fleetFile, ['users', 'add', BENCH_USER.name, '--role', 'operator', '--password-stdin'], `${BENCH_USER.password}\n`);
    if (u.code !== 0) throw new Error(`loa users add: ${u.stderr}`);
    const serve = await startServe(fleetFile, ['--collect', '--no-tls', '--host', '127.0.0.1', '--port', '0'], opts.serveEnv ?? {});
    // A bench that crashes must not leave the console running.
    const orphan = () => serve.child.kill('SIGKILL');
    process.once('exit', orphan);
    return {
      dir,
      fleetFile,
      secretsDir: path.join(dir, 'secrets'),
      broker,
      stationUrl: broker.stationUrl,
      serve,
      base: serve.url.replace(/\/$/, ''),
      user: BENCH_USER,
      stations,
      async stop() {
        process.removeListener('exit', orphan);
        const c = serve.child;
        if (c.exitCode === null && c.signalCode === null) {
          c.kill('SIGTERM');
          const t = setTimeout(() => c.kill('SIGKILL'), 10_000);
          await new Promise((r) => c.once('exit', r));
          clearTimeout(t);
        }
        await broker.stop();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  } catch (e) {
    await broker.stop();
    rmSync(dir, { recursive: true, force: true });
    throw e;
  }
}

// ---- the simulated stations (parent side) ----------------------------------------------------

type SimReply = { event: string; [k: string]: unknown };

export interface Simulator {
  proc: ChildProcess;
  /** Connected, birth state published by every station. */
  ready: Promise<{ connectMs: number }>;
  send(cmd: string): void;
  /** The next reply whose event is `event`. */
  reply<T extends SimReply>(event: string, timeoutMs?: number): Promise<T>;
  stop(): Promise<void>;
}

export function startSimulator(env: ConsoleBenchEnv): Simulator {
  const proc = spawn(process.execPath, [fileURLToPath(import.meta.url), 'simulate', env.stationUrl, env.secretsDir, String(env.stations.length)], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const replies: SimReply[] = [];
  const waiters: { event: string; resolve: (r: SimReply) => void }[] = [];
  let buf = '';
  proc.stdout!.on('data', (b: Buffer) => {
    buf += b.toString();
    const lines = buf.split('\n');
    buf = lines.pop()!;
    for (const l of lines) {
      if (!l.startsWith('{')) continue;
      const r = JSON.parse(l) as SimReply;
      const w = waiters.findIndex((x) => x.event === r.event);
      if (w >= 0) waiters.splice(w, 1)[0]!.resolve(r);
      else replies.push(r);
    }
  });
  const exited = new Promise<void>((r) => proc.once('exit', () => r()));
  const reply = <T extends SimReply>(event: string, timeoutMs = 60_000): Promise<T> => {
    const i = replies.findIndex((r) => r.event === event);
    if (i >= 0) return Promise.resolve(replies.splice(i, 1)[0] as T);
    return new Promise<T>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`simulated stations: no "${event}" within ${timeoutMs} ms`)), timeoutMs);
      waiters.push({
        event,
        resolve: (r) => {
          clearTimeout(t);
          resolve(r as T);
        },
      });
      void exited.then(() => reject(new Error(`simulated stations exited (${proc.exitCode}) before "${event}"`)));
    });
  };
  return {
    proc,
    ready: reply<SimReply & { connectMs: number }>('ready', 120_000),
    send: (cmd) => proc.stdin!.write(`${cmd}\n`),
    reply,
    async stop() {
      if (proc.exitCode !== null || proc.signalCode !== null) return;
      proc.stdin!.write('exit\n');
      const t = setTimeout(() => proc.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(t);
    },
  };
}

// ---- SSE clients --------------------------------------------------------------------------------

/** POST /api/login: the `loa_session` cookie. */
export async function login(base: string, user: { name: string; password: string }): Promise<string> {
  const res = await fetch(`${base}/api/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(user) });
  if (res.status !== 200) throw new Error(`login ${user.name}: HTTP ${res.status} ${await res.text()}`);
  const cookie = res.headers.get('set-cookie')?.split(';')[0];
  if (!cookie?.startsWith('loa_session=')) throw new Error('login: no loa_session cookie');
  return cookie;
}

/** One station event as an SSE client saw it. */
interface Seen {
  /** Wall ms the chunk holding it arrived at the client. */
  arrived: number;
  /** Wall ms the simulated station took just before publishing (carried in diskFreeBytes, µs). */
  sent: number;
  /** The collector's receive time (StationView.lastSeen, server Date.now()). */
  received: number;
}

interface SseClient {
  seen: Seen[];
  events: number;
  /** Bytes of the event stream received (Buffer lengths, before decoding). */
  bytes: number;
  close(): void;
}

function openSse(base: string, cookie: string): Promise<SseClient> {
  return new Promise((resolve, reject) => {
    const c: SseClient = { seen: [], events: 0, bytes: 0, close: () => req.destroy() };
    let partial = '';
    const decoder = new StringDecoder('utf8');
    const req = http.get(`${base}/api/events`, { headers: { cookie, accept: 'text/event-stream' }, agent: false }, (res) => {
      if (res.statusCode !== 200) return reject(new Error(`/api/events: HTTP ${res.statusCode}`));
      resolve(c);
      res.on('data', (buf: Buffer) => {
        // The arrival time of the chunk, taken before any parsing.
        const arrived = wallNow();
        c.bytes += buf.length;
        partial += decoder.write(buf);
        const frames = partial.split('\n\n');
        partial = frames.pop()!;
        for (const f of frames) {
          if (!f.startsWith('data: ')) continue;
          const e = JSON.parse(f.slice(6)) as { kind: string; station?: { diskFreeBytes: number | null; lastSeen: number | null; outboxDepth: number | null } };
          c.events++;
          const s = e.station;
          // Steady-state telemetry only (bursts carry a marker ≥ 1e6 in outboxDepth).
          if (e.kind !== 'station' || !s || s.diskFreeBytes === null || s.lastSeen === null || (s.outboxDepth ?? 0) >= 1e6) continue;
          c.seen.push({ arrived, sent: s.diskFreeBytes / 1000, received: s.lastSeen });
        }
      });
    });
    req.on('error', reject);
  });
}

/** lib.ts's dist() spreads the sample into Math.max: too many arguments for 10^5–10^6 values. */
export function bigDist(values: number[]): Dist {
  const s = Float64Array.from(values).sort();
  const at = (p: number) => (s.length ? s[Math.min(s.length, Math.max(1, Math.ceil((p / 100) * s.length))) - 1]! : NaN);
  return { n: s.length, p50: at(50), p95: at(95), p99: at(99), max: s.length ? s[s.length - 1]! : NaN, min: s.length ? s[0]! : NaN };
}

// ---- the benchmark ----------------------------------------------------------------------------

export interface FanoutResult {
  stations: number;
  pages: number;
  windowMs: number;
  /** Sends by the simulated stations whose send time fell inside the window. */
  sentInWindow: number;
  /** Station events for those sends, summed over all pages (expected sentInWindow × pages). */
  delivered: number;
  /** publish -> SSE client. */
  endToEnd: Dist;
  /** publish -> collector receive (lastSeen). */
  toCollector: Dist;
  /** collector receive (lastSeen) -> SSE client: batch commit, live hub tick, socket. */
  collectorToPage: Dist;
  serve: { cpuPct: number; rssMedianMb: number; rssMaxMb: number };
  mosquitto: { cpuPct: number };
  simulator: { cpuPct: number };
  /**
   * A 4 KiB write + fsync on the central database's filesystem every 200 ms (the collector's
   * commit rhythm; SQLite runs synchronous=FULL) during the window: how contended the disk was.
   */
  fsyncProbe: Dist;
  /** Event-stream bytes per second per page over the window (mean of the pages). */
  bytesPerSecPerPage: number;
  /** The bench process itself (the 20 SSE clients). */
  readers: { cpuPct: number; loopDelayP99Ms: number };
  connectMs: number;
  loadBefore: string;
  loadAfter: string;
}

const cpuPctOf = (ticks: number, ms: number) => ((ticks / CLK_TCK) * 1000 * 100) / ms;

export async function consoleFanout(o: { stations: number; pages: number; warmupMs: number; windowMs: number }): Promise<FanoutResult> {
  const prof = process.env.BENCH_SERVE_PROF === '1' ? mkdtempSync(path.join(os.tmpdir(), 'loa-serve-prof-')) : undefined;
  const env = await startConsoleBenchEnv(o.stations, prof ? { serveEnv: { NODE_OPTIONS: `--import=${profilerPreload(prof)}` } } : {});
  const sim = startSimulator(env);
  const clients: SseClient[] = [];
  try {
    const { connectMs } = await sim.ready;
    progress(`console fan-out: ${o.stations} simulated stations connected in ${(connectMs / 1000).toFixed(1)} s`);
    // One session per page, as 20 operators (or 20 tabs after 20 logins) would have.
    for (let i = 0; i < o.pages; i++) clients.push(await openSse(env.base, await login(env.base, env.user)));
    const loop = monitorEventLoopDelay({ resolution: 10 });
    sim.send('start');
    await sleep(o.warmupMs);
    const servePid = env.serve.child.pid!;
    const mqPid = env.broker.pid();
    const simPid = sim.proc.pid!;
    const loadBefore = os
      .loadavg()
      .map((x) => x.toFixed(2))
      .join(' ');
    const w0 = wallNow();
    if (prof) process.kill(servePid, 'SIGUSR2');
    const t0 = { serve: cpuTicks(servePid), mq: mqPid ? cpuTicks(mqPid) : 0, sim: cpuTicks(simPid), self: process.cpuUsage() };
    const bytes0 = clients.reduce((a, c) => a + c.bytes, 0);
    loop.enable();
    const probe = fsyncProbe(path.join(env.dir, 'fsync-probe'), 200);
    const rss: number[] = [];
    while (wallNow() - w0 < o.windowMs) {
      rss.push(rssKb(servePid) / 1024);
      await sleep(Math.min(1000, o.windowMs - (wallNow() - w0)));
    }
    const w1 = wallNow();
    const span = w1 - w0;
    const t1 = { serve: cpuTicks(servePid), mq: mqPid ? cpuTicks(mqPid) : 0, sim: cpuTicks(simPid), self: process.cpuUsage(t0.self) };
    const bytes1 = clients.reduce((a, c) => a + c.bytes, 0);
    const fsyncs = await probe.stop();
    loop.disable();
    if (prof) process.kill(servePid, 'SIGUSR2');
    const loadAfter = os
      .loadavg()
      .map((x) => x.toFixed(2))
      .join(' ');
    sim.send('stop');
    const stopped = await sim.reply<SimReply & { sends: number[] }>('stopped');
    // Let events of the window's last sends arrive (collector tick 200 ms + hub tick 50 ms, with room).
    await sleep(3000);
    const inWindow = (sentMs: number) => sentMs >= w0 && sentMs < w1;
    const sentInWindow = stopped.sends.filter((us) => inWindow(us / 1000)).length;
    const e2e: number[] = [];
    const toCollector: number[] = [];
    const collectorToPage: number[] = [];
    for (const c of clients) {
      for (const s of c.seen) {
        if (!inWindow(s.sent)) continue;
        e2e.push(s.arrived - s.sent);
        collectorToPage.push(s.arrived - s.received);
      }
    }
    // Each send is one collector receive: take it from the first client only.
    for (const s of clients[0]!.seen) if (inWindow(s.sent)) toCollector.push(s.received - s.sent);
    return {
      stations: o.stations,
      pages: o.pages,
      windowMs: span,
      sentInWindow,
      delivered: e2e.length,
      endToEnd: bigDist(e2e),
      toCollector: bigDist(toCollector),
      collectorToPage: bigDist(collectorToPage),
      serve: { cpuPct: cpuPctOf(t1.serve - t0.serve, span), rssMedianMb: median(rss), rssMaxMb: Math.max(...rss) },
      mosquitto: { cpuPct: mqPid ? cpuPctOf(t1.mq - t0.mq, span) : NaN },
      simulator: { cpuPct: cpuPctOf(t1.sim - t0.sim, span) },
      bytesPerSecPerPage: (bytes1 - bytes0) / clients.length / (span / 1000),
      fsyncProbe: bigDist(fsyncs),
      readers: { cpuPct: ((t1.self.user + t1.self.system) / 1000 / span) * 100, loopDelayP99Ms: loop.percentile(99) / 1e6 },
      connectMs,
      loadBefore,
      loadAfter,
    };
  } finally {
    for (const c of clients) c.close();
    await sim.stop();
    await env.stop();
    if (prof) {
      summariseProfile(prof);
      rmSync(prof, { recursive: true, force: true });
    }
  }
}

/** Times a small write + fsync (libuv thread pool, off the event loop) every `everyMs`. */
function fsyncProbe(file: string, everyMs: number): { stop(): Promise<number[]> } {
  const times: number[] = [];
  let stopped = false;
  const block = Buffer.alloc(4096, 1);
  const done = (async () => {
    const fh = await open(file, 'w');
    try {
      for (let i = 0; !stopped; i++) {
        const t = wallNow();
        await fh.write(block, 0, block.length, (i % 256) * block.length);
        await fh.sync();
        times.push(wallNow() - t);
        await sleep(Math.max(0, everyMs - (wallNow() - t)));
      }
    } finally {
      await fh.close();
    }
  })();
  return {
    async stop() {
      stopped = true;
      await done;
      return times;
    },
  };
}

/**
 * BENCH_SERVE_PROF=1: a preload for the serve process (NODE_OPTIONS refuses --cpu-prof): the
 * first SIGUSR2 starts the V8 sampling profiler, the second writes the profile into `dir`, so the
 * profile covers the steady window only.
 */
function profilerPreload(dir: string): string {
  const code = [
    "import { Session } from 'node:inspector';",
    "import { writeFileSync } from 'node:fs';",
    "import { monitorEventLoopDelay } from 'node:perf_hooks';",
    'const s = new Session(); s.connect(); let on = false;',
    'const h = monitorEventLoopDelay({ resolution: 10 });',
    "process.on('SIGUSR2', () => {",
    "  if (!on) { on = true; h.enable(); s.post('Profiler.enable', () => s.post('Profiler.start')); return; }",
    '  on = false; h.disable();',
    `  writeFileSync(${JSON.stringify(dir)} + '/loop.json', JSON.stringify({ p50: h.percentile(50) / 1e6, p99: h.percentile(99) / 1e6, max: h.max / 1e6 }));`,
    `  s.post('Profiler.stop', (e, r) => { if (!e) writeFileSync(${JSON.stringify(dir)} + '/serve-' + process.pid + '.cpuprofile', JSON.stringify(r.profile)); });`,
    '});',
  ].join('\n');
  return `data:text/javascript,${encodeURIComponent(code)}`;
}

/** BENCH_SERVE_PROF=1: the serve process's hottest functions by self time (to stderr). */
function summariseProfile(dir: string): void {
  try {
    const l = JSON.parse(readFileSync(path.join(dir, 'loop.json'), 'utf8')) as { p50: number; p99: number; max: number };
    progress(`serve event-loop delay over the window: p50 ${l.p50.toFixed(1)} · p99 ${l.p99.toFixed(1)} · max ${l.max.toFixed(1)} ms`);
  } catch {
    /* no window (the run failed before it) */
  }
  for (const f of readdirSync(dir).filter((x) => x.endsWith('.cpuprofile'))) {
    const p = JSON.parse(readFileSync(path.join(dir, f), 'utf8')) as {
      nodes: { id: number; callFrame: { functionName: string; url: string; lineNumber: number } }[];
      samples: number[];
      timeDeltas: number[];
    };
    const byNode = new Map(p.nodes.map((n) => [n.id, n]));
    const self = new Map<string, number>();
    let total = 0;
    p.samples.forEach((id, i) => {
      const n = byNode.get(id)!;
      const dt = p.timeDeltas[i] ?? 0;
      total += dt;
      const where = n.callFrame.url ? `${n.callFrame.url.replace(/^file:\/\//, '').replace(ROOT + '/', '')}:${n.callFrame.lineNumber + 1}` : '';
      const key = `${n.callFrame.functionName || '(anonymous)'} ${where}`.trim();
      self.set(key, (self.get(key) ?? 0) + dt);
    });
    const idle = self.get('(idle)') ?? 0;
    progress(`serve CPU profile ${f}: ${(total / 1e6).toFixed(1)} s sampled, ${(((total - idle) / total) * 100).toFixed(1)} % busy; top self time:`);
    for (const [k, v] of [...self].sort((a, b) => b[1] - a[1]).slice(0, 25)) progress(`  ${((v / total) * 100).toFixed(1).padStart(5)} %  ${k}`);
  }
}

// ---- the simulated stations (child side) -------------------------------------------------------

async function simulate(url: string, secretsDir: string, n: number): Promise<void> {
  const T = new Topics();
  const ids = Array.from({ length: n }, (_, i) => benchStationId(i));
  const clients: MqttClient[] = new Array(n);
  const seq = new Array<number>(n).fill(0);
  const out = (o: object) => process.stdout.write(JSON.stringify(o) + '\n');
  const telemetry = (i: number, outboxDepth: number): { payload: string; sentUs: number } => {
    const now = wallNow();
    const sentUs = Math.round(now * 1000);
    const t: Telemetry = {
      v: 1,
      type: 'telemetry',
      station: ids[i]!,
      epoch: 1,
      at: new Date(now).toISOString(),
      nowPlaying: [],
      queue: 0,
      zones: [{ id: 'main', onAir: false, volume: 80 }],
      // The send time in µs: the field reaches the page unchanged in StationView.diskFreeBytes.
      diskFreeBytes: sentUs,
      cacheBytes: 0,
      ffmpegOk: true,
      scheduleVersion: null,
      outboxDepth,
      intervalSec: 1,
    };
    return { payload: JSON.stringify(t), sentUs };
  };
  Telemetry.parse(JSON.parse(telemetry(0, 1).payload)); // only what a real station could send

  const rl = createInterface({ input: process.stdin });
  // The bench process gone (stdin closed): nobody to report to.
  rl.on('close', () => process.exit(0));
  let errors = 0;
  const c0 = wallNow();
  let next = 0;
  const connectOne = async (): Promise<void> => {
    while (next < n) {
      const i = next++;
      const id = ids[i]!;
      const password = readFileSync(path.join(secretsDir, 'stations', `${id}.password`), 'utf8').trim();
      const offline: StationState = { v: 1, type: 'state', station: id, online: false, epoch: 1 };
      const c = mqtt.connect(url, {
        clientId: id,
        username: id,
        password,
        clean: true,
        protocolVersion: 4,
        reconnectPeriod: 1000,
        connectTimeout: 60_000,
        will: { topic: T.state(id), payload: Buffer.from(JSON.stringify(offline)), qos: 1, retain: true },
      });
      c.on('error', (e) => errors++ < 5 && process.stderr.write(`simulated ${id}: ${e.message}\n`));
      await new Promise<void>((resolve) => c.once('connect', () => resolve()));
      const birth: StationState = {
        v: 1,
        type: 'state',
        station: id,
        online: true,
        epoch: 1,
        at: new Date().toISOString(),
        name: id,
        zones: [{ id: 'main', name: 'Loa chính' }],
        scheduleVersion: null,
      };
      await c.publishAsync(T.state(id), JSON.stringify(birth), { qos: 1, retain: true });
      clients[i] = c;
    }
  };
  await Promise.all(Array.from({ length: 50 }, connectOne));
  out({ event: 'ready', connectMs: wallNow() - c0 });

  let timer: NodeJS.Timeout | undefined;
  let sends: number[] = [];
  rl.on('line', (line) => {
    const [cmd, arg] = line.trim().split(/\s+/);
    if (cmd === 'start') {
      // Station i sends at t0 + i/n s + k s: the 1,000 msg/s spread evenly, 1 msg/s per station.
      const t0 = wallNow();
      const step = 1000 / n;
      let g = 0;
      sends = [];
      timer = setInterval(() => {
        const now = wallNow();
        while (t0 + g * step <= now) {
          const i = g % n;
          seq[i] = seq[i]! + 1;
          const m = telemetry(i, seq[i]!);
          sends.push(m.sentUs);
          clients[i]!.publish(T.telemetry(ids[i]!), m.payload, { qos: 0 });
          g++;
        }
      }, 2);
    } else if (cmd === 'stop') {
      clearInterval(timer);
      out({ event: 'stopped', sends });
    } else if (cmd === 'burst') {
      // Every station at once, outboxDepth = the marker the page looks for.
      const marker = Number(arg);
      const b0 = wallNow();
      for (let i = 0; i < n; i++) clients[i]!.publish(T.telemetry(ids[i]!), telemetry(i, marker).payload, { qos: 0 });
      out({ event: 'burst', marker, t0: b0, t1: wallNow() });
    } else if (cmd === 'exit') {
      clearInterval(timer);
      rl.removeAllListeners('close');
      rl.close();
      void Promise.all(clients.map((c) => c.endAsync())).then(() => process.exit(0));
    }
  });
}

if (process.argv[1] === fileURLToPath(import.meta.url) && process.argv[2] === 'simulate') {
  const [url, secretsDir, n] = process.argv.slice(3);
  simulate(url!, secretsDir!, Number(n)).catch((e) => {
    process.stderr.write(`simulated stations: ${(e as Error).stack}\n`);
    process.exit(1);
  });
}
