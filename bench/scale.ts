// `npm run bench -- --scale`: a national fleet on one machine. 10,000 simulated stations
// (sim-stations.ts: light MQTT clients that verify and ack like a station) plus 13 real
// `loa-station` daemons on one Mosquitto; `loa collect --shared` with 1, 2 and 4 collectors
// writing PostgreSQL and SQLite; one broadcast to `all` per round. Measured: publish → the last
// `completed` ack committed, ingest rate, ack lag (publish → receipt at the station), broker and
// collector CPU and RSS, and a collector SIGKILLed mid-broadcast (lost must be 0). Also how fast
// a fleet file of 10,000 stations loads and how long `loa stations` takes at that size.
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import mqtt, { type MqttClient } from 'mqtt';
import pg from 'pg';
import { stringify } from 'yaml';
import { loadFleet } from '../controller-cli/fleet.js';
import { CentralState } from '../protocol/index.js';
import { startMosquitto } from '../support/mosquitto.js';
import { createTestDatabase, type TestDatabase } from '../support/postgres.js';
import { TestController } from '../support/station.js';
import { cpuTicks, type Dist, dist, fixture, LOA_BIN, loadAvg, median, progress, ROOT, rssKb, run, simStationId, sleep, wallNow } from './lib.js';
import { benchKeys, type Fleet as DaemonFleet, startFleet, warmClip } from './stations.js';

export interface ScaleConfig {
  stations: number;
  daemons: number;
  /** Processes the simulated stations are spread over. */
  procs: number;
  rounds: number;
  collectors: number[];
  stores: ('postgres' | 'sqlite')[];
  airMs: number;
}

export const DEFAULT_SCALE: ScaleConfig = {
  stations: Number(process.env.BENCH_SCALE_STATIONS ?? 10_000),
  daemons: Number(process.env.BENCH_SCALE_DAEMONS ?? 13),
  procs: 4,
  rounds: Number(process.env.BENCH_SCALE_ROUNDS ?? 3),
  collectors: [1, 2, 4],
  stores: ['postgres', 'sqlite'],
  airMs: 0,
};

export interface ScaleResult {
  rows: string[];
  notes: string[];
}

interface SimProc {
  proc: ChildProcess;
  lines: string[];
  waitLine(pred: (l: string) => boolean, timeoutMs: number): Promise<string>;
}

function startSims(url: string, first: number, count: number, keysJson: string, airMs: number): SimProc {
  const proc = spawn(process.execPath, ['--max-old-space-size=2048', path.join(ROOT, 'dist/bench/sim-stations.js'), url, String(first), String(count), keysJson, String(airMs)], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const lines: string[] = [];
  let buf = '';
  const waiters: { pred: (l: string) => boolean; resolve: (l: string) => void }[] = [];
  proc.stdout!.on('data', (b: Buffer) => {
    buf += b.toString();
    const parts = buf.split('\n');
    buf = parts.pop()!;
    for (const l of parts) {
      lines.push(l);
      for (const w of [...waiters])
        if (w.pred(l)) {
          waiters.splice(waiters.indexOf(w), 1);
          w.resolve(l);
        }
    }
  });
  return {
    proc,
    lines,
    waitLine(pred, timeoutMs) {
      return new Promise((resolve, reject) => {
        const t = setTimeout(() => reject(new Error(`simulated stations: no matching line within ${timeoutMs} ms`)), timeoutMs);
        waiters.push({
          pred,
          resolve: (l) => {
            clearTimeout(t);
            resolve(l);
          },
        });
      });
    },
  };
}

interface SimReport {
  outbox: number;
  acks: number;
  lags: number[];
  lastCompletedReceipt: number;
  rejected: number;
  resends: number;
  connected: number;
}

async function report(sims: SimProc[]): Promise<SimReport> {
  const all = await Promise.all(
    sims.map(async (s) => {
      const p = s.waitLine((l) => l.startsWith('{"outbox"'), 60_000);
      s.proc.stdin!.write('report\n');
      return JSON.parse(await p) as SimReport;
    }),
  );
  return {
    outbox: all.reduce((n, r) => n + r.outbox, 0),
    acks: all.reduce((n, r) => n + r.acks, 0),
    lags: all.flatMap((r) => r.lags),
    lastCompletedReceipt: Math.max(...all.map((r) => r.lastCompletedReceipt)),
    rejected: all.reduce((n, r) => n + r.rejected, 0),
    resends: all.reduce((n, r) => n + r.resends, 0),
    connected: all.reduce((n, r) => n + r.connected, 0),
  };
}

async function reset(sims: SimProc[]): Promise<void> {
  await Promise.all(
    sims.map(async (s) => {
      const p = s.waitLine((l) => l === '{"reset":true}', 30_000);
      s.proc.stdin!.write('reset\n');
      await p;
    }),
  );
}

/** Counts in the central database, SQLite or PostgreSQL, read as an outsider. */
interface Counter {
  acks(commandId: string): Promise<{ all: number; completed: number; distinct: number }>;
  states(): Promise<number>;
  bytes(): Promise<{ acks: number; total: number; ackRows: number }>;
  close(): Promise<void>;
}

function counter(database: string): Counter {
  if (database.startsWith('postgres')) {
    const pool = new pg.Pool({ connectionString: database, max: 1 });
    pool.on('error', () => undefined);
    const one = async (sql: string, params: unknown[] = []) => {
      try {
        return (await pool.query(sql, params)).rows[0] as Record<string, string>;
      } catch (e) {
        if ((e as { code?: string }).code === '42P01') return {};
        throw e;
      }
    };
    return {
      async acks(id) {
        const r = await one("SELECT count(*) AS a, count(*) FILTER (WHERE state = 'completed') AS c, count(DISTINCT (station, db, seq)) AS d FROM acks WHERE command_id = $1", [
          id,
        ]);
        return { all: Number(r.a ?? 0), completed: Number(r.c ?? 0), distinct: Number(r.d ?? 0) };
      },
      async states() {
        return Number((await one('SELECT count(*) AS n FROM station_state')).n ?? 0);
      },
      async bytes() {
        const r = await one("SELECT pg_total_relation_size('acks') AS a, pg_database_size(current_database()) AS t, (SELECT count(*) FROM acks) AS n");
        return { acks: Number(r.a), total: Number(r.t), ackRows: Number(r.n) };
      },
      close: () => pool.end(),
    };
  }
  let db: Database.Database | undefined;
  const open = () => {
    if (!db && existsSync(database)) {
      db = new Database(database, { readonly: true, fileMustExist: true });
      db.pragma('busy_timeout = 5000');
    }
    return db;
  };
  return {
    async acks(id) {
      const d = open();
      if (!d) return { all: 0, completed: 0, distinct: 0 };
      try {
        const r = d
          .prepare(
            "SELECT count(*) AS a, sum(state = 'completed') AS c, (SELECT count(*) FROM (SELECT DISTINCT station, db, seq FROM acks WHERE command_id = ?)) AS d FROM acks WHERE command_id = ?",
          )
          .get(id, id) as { a: number; c: number | null; d: number };
        return { all: r.a, completed: r.c ?? 0, distinct: r.d };
      } catch {
        return { all: 0, completed: 0, distinct: 0 };
      }
    },
    async states() {
      try {
        return (open()?.prepare('SELECT count(*) AS n FROM station_state').get() as { n: number } | undefined)?.n ?? 0;
      } catch {
        return 0;
      }
    },
    async bytes() {
      const total = ['', '-wal'].reduce((n, ext) => n + (existsSync(database + ext) ? statSync(database + ext).size : 0), 0);
      const d = open()!;
      const rows = (d.prepare('SELECT count(*) AS n FROM acks').get() as { n: number }).n;
      let acks = NaN;
      try {
        acks = (
          d
            .prepare(
              "SELECT sum(pgsize) AS b FROM dbstat WHERE name IN ('acks', 'acks_broadcast', 'acks_received', 'acks_command', 'acks_station_received', 'sqlite_autoindex_acks_1')",
            )
            .get() as { b: number }
        ).b;
      } catch {
        /* dbstat not compiled in */
      }
      return { acks, total, ackRows: rows };
    },
    async close() {
      db?.close();
    },
  };
}

/** CPU (% of one core) and max RSS of processes, sampled every 250 ms. */
function sampler(pids: () => Record<string, number | undefined>): { stop(): Record<string, { cpuPct: number; rssMaxMb: number }> } {
  const start = new Map<string, { ticks: number; t: number }>();
  const rss = new Map<string, number>();
  const sample = () => {
    for (const [name, pid] of Object.entries(pids())) {
      if (!pid) continue;
      try {
        if (!start.has(name)) start.set(name, { ticks: cpuTicks(pid), t: Date.now() });
        rss.set(name, Math.max(rss.get(name) ?? 0, rssKb(pid)));
      } catch {
        /* exited */
      }
    }
  };
  sample();
  const timer = setInterval(sample, 250);
  return {
    stop() {
      clearInterval(timer);
      const out: Record<string, { cpuPct: number; rssMaxMb: number }> = {};
      for (const [name, pid] of Object.entries(pids())) {
        const s = start.get(name);
        if (!pid || !s) continue;
        let ticks = NaN;
        try {
          ticks = cpuTicks(pid);
        } catch {
          /* exited */
        }
        out[name] = { cpuPct: ((ticks - s.ticks) / 100 / ((Date.now() - s.t) / 1000)) * 100, rssMaxMb: (rss.get(name) ?? NaN) / 1024 };
      }
      return out;
    },
  };
}

function writeFleetFile(dir: string, brokerUrl: string, database: string, cfg: ScaleConfig, daemonIds: string[]): string {
  mkdirSync(path.join(dir, 'secrets'), { recursive: true, mode: 0o700 });
  writeFileSync(path.join(dir, 'secrets', 'central.password'), 'bench\n', { mode: 0o600 });
  const groups = Array.from({ length: 100 }, (_, g) => ({ id: `g-${String(g).padStart(3, '0')}`, name: `Huyện ${g}` }));
  const file = path.join(dir, 'fleet.yaml');
  writeFileSync(
    file,
    stringify({
      broker: { urls: [brokerUrl], stationUrls: [brokerUrl], passwordFile: 'secrets/central.password' },
      database,
      groups,
      stations: [
        ...Array.from({ length: cfg.stations }, (_, i) => ({ id: simStationId(i), name: `Xã ${i}`, groups: [groups[i % 100]!.id] })),
        ...daemonIds.map((id) => ({ id, name: `Phường ${id}` })),
      ],
    }),
  );
  return file;
}

interface Collector {
  id: string;
  proc: ChildProcess;
  log: string;
}

function startCollectors(fleetFile: string, ids: string[]): Collector[] {
  return ids.map((id) => {
    const proc = spawn(process.execPath, [LOA_BIN, '--fleet', fleetFile, 'collect', '--shared', 'scale', '--client-id', id], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, LANG: 'C' },
    });
    const c: Collector = { id, proc, log: '' };
    proc.stdout!.on('data', (b: Buffer) => (c.log += b.toString()));
    proc.stderr!.on('data', (b: Buffer) => (c.log = (c.log + b.toString()).slice(-20_000)));
    return c;
  });
}

async function stopCollectors(cs: Collector[]): Promise<void> {
  await Promise.all(
    cs.map(async (c) => {
      if (c.proc.exitCode !== null || c.proc.signalCode !== null) return;
      const done = new Promise((r) => c.proc.once('exit', r));
      c.proc.kill('SIGTERM');
      await Promise.race([done, sleep(15_000)]);
      if (c.proc.exitCode === null && c.proc.signalCode === null) c.proc.kill('SIGKILL');
    }),
  );
}

async function centralWatcher(url: string): Promise<{ client: MqttClient; last: () => CentralState | undefined }> {
  let last: CentralState | undefined;
  const client = await mqtt.connectAsync(url, { clientId: `scale-watch-${process.pid}`, protocolVersion: 4 });
  client.on('message', (_t, p) => {
    try {
      const r = CentralState.safeParse(JSON.parse(p.toString()));
      if (r.success) last = r.data;
    } catch {
      /* cleared */
    }
  });
  await client.subscribeAsync('loa/v1/central/state', { qos: 1 });
  return { client, last: () => last };
}

const f0 = (x: number) => (Number.isFinite(x) ? x.toFixed(0) : 'n/a');
const f1 = (x: number) => (Number.isFinite(x) ? x.toFixed(1) : 'n/a');
const fmtInt = (x: number) => (Number.isFinite(x) ? Math.round(x).toLocaleString('en-US') : 'n/a');

interface RoundResult {
  expected: number;
  completeMs: number;
  allMs: number;
  rate: number;
  lags: number[];
  lost: number;
  duplicates: number;
  outboxLeft: number;
  resends: number;
}

/** One broadcast to `all`; resolves when every ack is committed and every outbox drained. */
async function broadcastRound(
  ctl: TestController,
  keys: ReturnType<typeof benchKeys>,
  clip: { sha256: string; size: number },
  sims: SimProc[],
  count: Counter,
  expectedStations: number,
  onProgress?: (committed: number, expected: number) => Promise<void>,
): Promise<RoundResult> {
  await reset(sims);
  const env = ctl.envelope('announce', { title: 'scale', maxDurationSec: 1, audio: { kind: 'media', ...clip } }, { all: true }, keys.office);
  const expected = expectedStations * 4;
  const t0 = wallNow();
  await ctl.client.publishAsync(ctl.topics.allCmd(), JSON.stringify(env), { qos: 1 });
  let completeAt: number | undefined;
  let allAt: number | undefined;
  const deadline = Date.now() + 240_000;
  while (Date.now() < deadline) {
    const c = await count.acks(env.id);
    if (completeAt === undefined && c.completed >= expectedStations) completeAt = wallNow();
    if (allAt === undefined && c.distinct >= expected) allAt = wallNow();
    if (onProgress) await onProgress(c.distinct, expected);
    if (completeAt !== undefined && allAt !== undefined) break;
    await sleep(50);
  }
  // Receipts: every simulated station's outbox drains.
  let rep = await report(sims);
  const drainBy = Date.now() + 60_000;
  while (rep.outbox > 0 && Date.now() < drainBy) {
    await sleep(500);
    rep = await report(sims);
  }
  const c = await count.acks(env.id);
  return {
    expected,
    completeMs: (completeAt ?? NaN) - t0,
    allMs: (allAt ?? NaN) - t0,
    rate: allAt ? c.distinct / ((allAt - t0) / 1000) : NaN,
    lags: rep.lags,
    // A daemon may add an ack of its own (a late `failed`, say); more rows than expected is not a negative loss.
    lost: Math.max(0, expected - c.distinct),
    duplicates: c.all - c.distinct,
    outboxLeft: rep.outbox,
    resends: rep.resends,
  };
}

export async function scaleBench(cfg: ScaleConfig = DEFAULT_SCALE): Promise<ScaleResult> {
  const rows: string[] = [];
  const notes: string[] = [];
  const work = mkdtempSync(path.join(os.tmpdir(), 'loa-bench-scale-'));
  const dbs: TestDatabase[] = [];
  const cores = os.cpus().length;
  const loaded = (l: string) => (Number(l.split(' ')[0]) > cores ? ` ⚠ load ${l.split(' ')[0]}` : '');

  // ---- a fleet file of 10,000 stations ---------------------------------------------------------
  {
    const file = writeFleetFile(path.join(work, 'fleet-only'), 'mqtt://127.0.0.1:1', 'central/central.sqlite', cfg, []);
    const l0 = loadAvg();
    // Cold: the YAML parsed (the first load after an edit); warm: the per-user parse cache
    // (controller-cli/parse-cache.ts) serves the parse, every check still runs. CPU time as well
    // as wall time: other work on the machine stretches the wall clock, not the CPU time.
    const cold = { wall: [] as number[], cpu: [] as number[] };
    const warm = { wall: [] as number[], cpu: [] as number[] };
    const cacheBase = path.join(work, 'parse-cache');
    for (let i = 0; i < 20; i++) {
      for (const [which, into] of [
        ['cold', cold],
        ['warm', warm],
      ] as const) {
        process.env.LOA_CACHE_DIR = which === 'cold' ? path.join(cacheBase, `cold-${i}`) : path.join(cacheBase, 'warm');
        if (which === 'warm' && i === 0) loadFleet(file); // fills the cache
        const c = process.cpuUsage();
        const t = wallNow();
        loadFleet(file);
        into.wall.push(wallNow() - t);
        const d = process.cpuUsage(c);
        into.cpu.push((d.user + d.system) / 1000);
      }
    }
    delete process.env.LOA_CACHE_DIR;
    const dc = dist(cold.wall);
    const dw = dist(warm.wall);
    const cc = dist(cold.cpu);
    const cw = dist(warm.cpu);
    const cli: number[] = [];
    const sched = path.join(work, 'fleet-only', 'sched.yaml');
    writeFileSync(sched, stringify({ items: [{ id: 'tin-sang', to: 'all', cron: '0 6 * * *', title: 'Tin sáng', tts: { text: 'Tin sáng' } }] }));
    for (let i = 0; i < 5; i++) {
      const t = wallNow();
      const r = await run(process.execPath, [LOA_BIN, '--fleet', file, 'schedule', 'validate', sched]);
      cli.push(wallNow() - t);
      if (r.code !== 0) throw new Error(`loa schedule validate on the ${cfg.stations}-station fleet exited ${r.code}: ${r.stderr}`);
    }
    rows.push(
      `| Fleet file, ${fmtInt(cfg.stations)} stations in 100 groups (${(statSync(file).size / 1048576).toFixed(1)} MiB YAML): load + validate (loadFleet), parse cached | wall p50 ${f1(dw.p50)} · p99 ${f1(dw.p99)} ms; CPU p50 ${f1(cw.p50)} · p99 ${f1(cw.p99)} ms (n=${dw.n}) | < 1 s | ${dw.p99 < 1000 ? 'PASS' : 'FAIL'}${loaded(l0)} |`,
      `| ↳ same, first load after an edit (YAML parsed) | wall p50 ${f1(dc.p50)} · p99 ${f1(dc.p99)} ms; CPU p50 ${f1(cc.p50)} · p99 ${f1(cc.p99)} ms (n=${dc.n}) | < 1 s | ${dc.p99 < 1000 ? 'PASS' : 'FAIL'}${loaded(l0)} |`,
    );
    rows.push(`| ↳ \`loa schedule validate\` on that fleet file, process start to exit | median ${f0(median(cli))} ms (n=${cli.length}) | — | —${loaded(l0)} |`);
  }

  // ---- broker, real daemons, simulated stations -------------------------------------------------
  const data = path.join(work, 'mosquitto-data');
  mkdirSync(data, { recursive: true });
  const broker = await startMosquitto({
    extraConfig: [
      'persistence true',
      `persistence_location ${data}/`,
      'autosave_interval 60',
      'persistent_client_expiration 30d',
      'max_queued_messages 200000',
      'max_inflight_messages 100',
      'queue_qos0_messages false',
      'max_connections -1',
    ].join('\n'),
  });
  const keys = benchKeys();
  const ctl = await TestController.connect(broker.url);
  let daemons: DaemonFleet | undefined;
  const sims: SimProc[] = [];
  try {
    const clip = await ctl.publishMedia(fixture('tone-3s.wav'));
    if (cfg.daemons > 0) {
      progress(`scale: starting ${cfg.daemons} real daemons`);
      daemons = await startFleet(broker, keys, { chime: false, tag: 'scale', count: cfg.daemons, collector: true });
      await warmClip(daemons, ctl, keys, clip);
    }
    // From here on every ack of 10,000 stations would reach this process too: stop listening.
    await ctl.client.unsubscribeAsync(ctl.topics.allAcks());
    const daemonIds = daemons?.ids ?? [];
    const keysJson = JSON.stringify([{ id: keys.office.id, publicKey: keys.office.publicKey, allow: keys.office.allow }]);
    progress(`scale: connecting ${cfg.stations} simulated stations in ${cfg.procs} processes`);
    const tc = wallNow();
    const per = Math.ceil(cfg.stations / cfg.procs);
    for (let p = 0; p < cfg.procs; p++) sims.push(startSims(broker.url, p * per, Math.min(per, cfg.stations - p * per), keysJson, cfg.airMs));
    await Promise.all(sims.map((s) => s.waitLine((l) => l === 'ready', 600_000)));
    const connectS = (wallNow() - tc) / 1000;
    notes.push(
      `${fmtInt(cfg.stations)} simulated stations connected (persistent sessions, retained birth state, 4 subscriptions each) in ${connectS.toFixed(1)} s; ${cfg.daemons} real \`loa-station\` daemons (file outputs, \`central.collector: true\`) on the same broker.`,
    );
    const expectedStations = cfg.stations + daemonIds.length;
    const watch = await centralWatcher(broker.url);
    let pgForCli: string | undefined;

    const table: string[] = [];
    const runs: { store: 'postgres' | 'sqlite'; n: number; kill?: boolean }[] = [];
    for (const store of cfg.stores) for (const n of cfg.collectors) runs.push({ store, n });
    if (cfg.stores.includes('postgres')) runs.push({ store: 'postgres', n: 2, kill: true });
    for (const [ri, r] of runs.entries()) {
      const dir = path.join(work, `run-${ri}`);
      mkdirSync(dir, { recursive: true });
      let database: string;
      if (r.store === 'postgres') {
        const d = await createTestDatabase('loa_scale');
        dbs.push(d);
        database = d.url;
      } else database = path.join(dir, 'central', 'central.sqlite');
      const fleetFile = writeFleetFile(dir, broker.url, database, cfg, daemonIds);
      const count = counter(database);
      const ids = Array.from({ length: r.n }, (_, k) => `scale-${ri}-${k + 1}`);
      const collectors = startCollectors(fleetFile, ids);
      try {
        const l0 = loadAvg();
        progress(`scale: ${r.store}, ${r.n} collector(s)${r.kill ? ', one killed mid-broadcast' : ''} (load ${l0})`);
        const deadline = Date.now() + 120_000;
        while (!(watch.last()?.online && watch.last()?.collectors === r.n)) {
          if (Date.now() > deadline) throw new Error(`central/state never said ${r.n} collectors:\n${collectors.map((c) => c.log.slice(-1500)).join('\n')}`);
          await sleep(100);
        }
        // Every collector writes the retained birth states first; let that settle.
        const statesBy = Date.now() + 180_000;
        while ((await count.states()) < expectedStations && Date.now() < statesBy) await sleep(250);
        await sleep(1000);
        const results: RoundResult[] = [];
        const usage: Record<string, { cpuPct: number; rssMaxMb: number }>[] = [];
        const rounds = r.kill ? 1 : cfg.rounds;
        for (let k = 0; k < rounds; k++) {
          const s = sampler(() => ({ broker: broker.pid(), ...Object.fromEntries(collectors.map((c) => [c.id, c.proc.pid])) }));
          let killed = false;
          const res = await broadcastRound(ctl, keys, clip, sims, count, expectedStations, async (committed, expected) => {
            if (r.kill && !killed && committed >= expected * 0.3) {
              killed = true;
              collectors[0]!.proc.kill('SIGKILL');
            }
          });
          usage.push(s.stop());
          results.push(res);
          await sleep(500);
        }
        const l1 = loadAvg();
        const comp = dist(results.map((x) => x.completeMs));
        const rate = dist(results.map((x) => x.rate));
        const lag = dist(results.flatMap((x) => x.lags));
        const lost = results.reduce((n, x) => n + x.lost, 0);
        const dup = results.reduce((n, x) => n + x.duplicates, 0);
        const left = results.reduce((n, x) => n + x.outboxLeft, 0);
        const b = usage.map((u) => u.broker!).filter(Boolean);
        const cols = usage.flatMap((u) => ids.map((id) => u[id]).filter((x): x is { cpuPct: number; rssMaxMb: number } => !!x && Number.isFinite(x.cpuPct)));
        const label = `${r.store === 'postgres' ? 'PostgreSQL' : 'SQLite'}, ${r.n} collector${r.n > 1 ? 's' : ''}${r.kill ? ', 1 SIGKILLed at 30 % of the acks' : ''}`;
        table.push(
          `| ${label} | ${results.length} × ${fmtInt(results[0]!.expected)} | ${rounds > 1 ? `median ${f1(comp.p50 / 1000)} s, max ${f1(comp.max / 1000)} s` : `${f1(comp.p50 / 1000)} s`} | ${rounds > 1 ? `median ${fmtInt(rate.p50)}` : fmtInt(rate.p50)} acks/s | p50 ${f0(lag.p50)} · p99 ${f0(lag.p99)} ms (n=${fmtInt(lag.n)}) | ${lost} / ${dup} / ${left} | ${f0(median(b.map((x) => x.cpuPct)))} % · ${f0(Math.max(...b.map((x) => x.rssMaxMb)))} MiB | ${f0(median(cols.map((x) => x.cpuPct)))} % · ${f0(Math.max(...cols.map((x) => x.rssMaxMb)))} MiB each | ${l0.split(' ')[0]} → ${l1.split(' ')[0]}${Number(l0.split(' ')[0]) > cores || Number(l1.split(' ')[0]) > cores ? ' ⚠' : ''} |`,
        );
        if (r.kill && process.env.BENCH_SCALE_DEBUG) for (const c of collectors) process.stderr.write(`--- ${c.id}\n${c.log.slice(-6000)}\n`);
        if (r.kill)
          notes.push(
            `Kill run: ${results[0]!.resends.toLocaleString('en-US')} simulated stations re-sent their unreceipted acks when central/state's view changed; lost ${lost}, duplicate rows ${dup}.`,
          );
        if (r.store === 'postgres' && r.n === 1 && !pgForCli) {
          pgForCli = fleetFile;
          const sz = await count.bytes();
          notes.push(
            `PostgreSQL size after ${fmtInt(sz.ackRows)} ack rows: acks table with its indexes ${(sz.acks / 1048576).toFixed(1)} MiB (${f0(sz.acks / sz.ackRows)} bytes per ack); whole database ${(sz.total / 1048576).toFixed(1)} MiB.`,
          );
          // `loa stations` against 10,013 stations' rows.
          for (const args of [
            ['stations', '--limit', '50'],
            ['stations', '--offline', '--json'],
            ['stations', '--group', 'g-007', '--json'],
            ['stations', '--json'],
          ]) {
            const t: number[] = [];
            let bytes = 0;
            for (let i = 0; i < 3; i++) {
              const t1 = wallNow();
              const out = await run(process.execPath, [LOA_BIN, '--fleet', fleetFile, ...args]);
              t.push(wallNow() - t1);
              bytes = out.stdout.length;
              if (out.code !== 0) notes.push(`loa ${args.join(' ')} exited ${out.code}: ${out.stderr.slice(0, 200)}`);
            }
            rows.push(
              `| \`loa ${args.join(' ')}\` on ${fmtInt(expectedStations)} stations (PostgreSQL) | median ${f0(median(t))} ms (n=3; ${fmtInt(bytes)} bytes out) | — | —${loaded(loadAvg())} |`,
            );
          }
        }
        if (r.store === 'sqlite' && r.n === 1) {
          const sz = await count.bytes();
          notes.push(
            `SQLite size after ${fmtInt(sz.ackRows)} ack rows: acks table with its indexes ${(sz.acks / 1048576).toFixed(1)} MiB (${f0(sz.acks / sz.ackRows)} bytes per ack); file + WAL ${(sz.total / 1048576).toFixed(1)} MiB.`,
          );
        }
      } finally {
        await stopCollectors(collectors);
        await count.close();
      }
    }
    rows.push(
      '',
      `One broadcast to \`all\` per round (${fmtInt(expectedStations)} stations × received, scheduled, started, completed = ${fmtInt(expectedStations * 4)} acks); simulated stations air for ${cfg.airMs} ms, daemons a 3 s clip cut at 1 s (\`maxDurationSec: 1\`).`,
      '',
      '| Central store, collectors | Rounds × acks | Publish → last `completed` committed | Ingest rate | Ack lag, publish → receipt at the station | Lost / duplicate rows / left unreceipted | Broker CPU · RSS max | Collector CPU · RSS max | 1-min load before → after |',
      '|---|---|---|---|---|---|---|---|---|',
      ...table,
    );
    await watch.client.endAsync(true);
  } finally {
    for (const s of sims) {
      s.proc.stdin!.write('quit\n');
    }
    await sleep(1000);
    for (const s of sims) if (s.proc.exitCode === null) s.proc.kill('SIGKILL');
    await daemons?.stop();
    await ctl.close();
    await broker.stop();
    for (const d of dbs) await d.drop().catch(() => undefined);
    if (!process.env.LOA_KEEP_TMP) rmSync(work, { recursive: true, force: true });
  }
  return { rows, notes };
}

export type { Dist };
