// Shared machinery of the proof suite: real processes (mosquitto from `loa broker config`,
// `loa-station` daemons, the `loa collect` collector), temp dirs, polling and measurements.
// Used both by `npm run proof` (dist/proof/main.js) and by the vitest files test/proof-*.test.ts,
// so nothing here imports vitest.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import mqtt, { type MqttClient } from 'mqtt';
import pg from 'pg';
import { stringify } from 'yaml';
import { Ack, Topics } from '../../protocol/index.js';
import { type MosquittoBroker, startMosquitto } from '../mosquitto.js';
import type { TestKey } from '../station.js';

/** The repository root, from source (proof/) or compiled (dist/proof/). */
function findRoot(start: string): string {
  let dir = start;
  for (let i = 0; i < 6; i++) {
    if (existsSync(path.join(dir, 'package.json')) && existsSync(path.join(dir, 'daemon'))) return dir;
    dir = path.dirname(dir);
  }
  throw new Error(`proof: repository root not found above ${start}`);
}

export const ROOT = findRoot(import.meta.dirname);
export const STATION_BIN = path.join(ROOT, 'dist/daemon/main.js');
export const LOA_BIN = path.join(ROOT, 'dist/controller-cli/main.js');
export const TOPICS = new Topics();

// ---- temp dirs and small helpers -----------------------------------------------------------

const made = new Set<string>();
const mounts = new Set<string>();

/**
 * A small tmpfs at `dir` (root only: the disk-full cases need a file system they can fill).
 * Fails loudly rather than skipping when it cannot be mounted.
 */
export function mountTmpfs(dir: string, megabytes: number): void {
  mkdirSync(dir, { recursive: true });
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${megabytes}m,mode=0755`, 'tmpfs', dir], { stdio: 'pipe' });
  } catch (e) {
    throw new Error(`cannot mount a ${megabytes} MB tmpfs at ${dir} (the disk-full cases run as root): ${(e as Error).message}`);
  }
  mounts.add(dir);
}

export function unmount(dir: string): void {
  if (!mounts.has(dir)) return;
  try {
    execFileSync('umount', ['-l', dir], { stdio: 'pipe' });
  } catch {
    /* already gone */
  }
  mounts.delete(dir);
}

export function tempDir(prefix: string): string {
  const d = mkdtempSync(path.join(os.tmpdir(), `loa-proof-${prefix}-`));
  made.add(d);
  return d;
}
export function cleanupTemp(): void {
  for (const m of [...mounts]) unmount(m);
  if (process.env.LOA_KEEP_TMP) return;
  for (const d of [...made]) {
    made.delete(d);
    rmSync(d, { recursive: true, force: true });
  }
}
process.once('exit', cleanupTemp);

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export async function until<T>(probe: () => T | undefined | false | Promise<T | undefined | false>, timeoutMs: number, what: string | (() => string)): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms: ${typeof what === 'string' ? what : what()}`);
    await sleep(100);
  }
}

/** Resident set size of a process in KiB (VmRSS in /proc/<pid>/status). */
export function rssKiB(pid: number | undefined): number {
  if (!pid) return NaN;
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : NaN;
  } catch {
    return NaN;
  }
}

export function listWavs(dir: string): string[] {
  try {
    return readdirSync(dir)
      .filter((f) => f.endsWith('.wav'))
      .sort();
  } catch {
    return [];
  }
}

// ---- subprocesses --------------------------------------------------------------------------

export interface Proc {
  proc: ChildProcess;
  pid: number;
  logs(): string;
  /** Log lines parsed as JSON (pino), non-JSON lines skipped; from character offset `after`. */
  jsonLogs(after?: number): Record<string, unknown>[];
  waitForLog(re: RegExp, timeoutMs?: number, after?: number): Promise<string>;
  alive(): boolean;
  /** Exited although nobody here asked it to. */
  crashed(): boolean;
  stop(): Promise<void>;
  kill9(): Promise<void>;
}

export function spawnProc(bin: string, args: string[], env: Record<string, string> = {}): Proc {
  const proc = spawn(process.execPath, [bin, ...args], { env: { ...process.env, LANG: 'C', LC_ALL: '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let asked = false;
  proc.stdout!.on('data', (b: Buffer) => (out += b.toString()));
  proc.stderr!.on('data', (b: Buffer) => (out += b.toString()));
  const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
  const isAlive = () => proc.exitCode === null && proc.signalCode === null;
  return {
    proc,
    pid: proc.pid!,
    logs: () => out,
    jsonLogs: (after = 0) =>
      out
        .slice(after)
        .split('\n')
        .flatMap((l) => {
          if (!l.startsWith('{')) return [];
          try {
            return [JSON.parse(l) as Record<string, unknown>];
          } catch {
            return [];
          }
        }),
    async waitForLog(re, timeoutMs = 20_000, after = 0) {
      return until(
        () =>
          out
            .slice(after)
            .split('\n')
            .find((l) => re.test(l)),
        timeoutMs,
        () => `${re} in the log of ${path.basename(bin)}:\n${out.slice(-3000)}`,
      );
    },
    alive: isAlive,
    crashed: () => !asked && !isAlive(),
    async stop() {
      asked = true;
      if (!isAlive()) return;
      proc.kill('SIGTERM');
      const t = setTimeout(() => proc.kill('SIGKILL'), 15_000);
      await exited;
      clearTimeout(t);
    },
    async kill9() {
      asked = true;
      if (!isAlive()) return;
      proc.kill('SIGKILL');
      await exited;
    },
  };
}

export function runLoa(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const c = spawn(process.execPath, [LOA_BIN, ...args], { env: { ...process.env, LANG: 'C', LC_ALL: '' } });
    let stdout = '';
    let stderr = '';
    c.stdout.on('data', (d) => (stdout += d));
    c.stderr.on('data', (d) => (stderr += d));
    c.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

// ---- central: fleet, generated broker config, collector ------------------------------------

export interface FleetStation {
  id: string;
  groups?: string[];
}

export interface Central {
  dir: string;
  fleetFile: string;
  broker: MosquittoBroker;
  /** The station listener (client id = user name); central tools use broker.url. */
  stationUrl: string;
  brokerDir: string;
  centralUser: string;
  centralPassword: string;
  stationPassword(id: string): string;
  /** The password of a bridge user (fleet `bridges`), for a bridged ward broker. */
  bridgePassword(id: string): string;
  /** CA of the generated TLS listener (when tls: true). */
  caFile?: string;
  /** The central database the collector writes: a SQLite file, or a postgres:// URL. */
  database: string;
  stop(): Promise<void>;
}

function fleetYaml(
  url: string,
  stationUrl: string,
  stations: FleetStation[],
  groups: string[],
  database = 'central/central.sqlite',
  bridges: { id: string; stations: string[] }[] = [],
): string {
  return stringify({
    broker: {
      urls: [url],
      stationUrls: [stationUrl],
      username: 'loa-central',
      passwordFile: 'secrets/central.password',
      clientId: 'loa-central',
      listener: { stationPort: 1884 },
    },
    database,
    groups: groups.map((g) => ({ id: g, name: `Group ${g}` })),
    stations: stations.map((s) => ({ id: s.id, name: `Station ${s.id}`, groups: s.groups ?? [] })),
    ...(bridges.length ? { bridges } : {}),
  });
}

/**
 * A fleet file, `loa broker config --out` run as a real subprocess, and mosquitto started from
 * exactly that mosquitto.conf (listeners and persistence dir moved into a temp dir by the harness).
 */
export async function startCentral(stations: FleetStation[], opts: { tls?: boolean; database?: string; bridges?: { id: string; stations: string[] }[] } = {}): Promise<Central> {
  const dir = tempDir('central');
  const groups = [...new Set(stations.flatMap((s) => s.groups ?? []))];
  const fleetFile = path.join(dir, 'fleet.yaml');
  writeFileSync(fleetFile, fleetYaml('mqtt://127.0.0.1:1', 'mqtt://127.0.0.1:1', stations, groups, opts.database, opts.bridges));
  const brokerDir = path.join(dir, 'broker');
  const r = await runLoa(['--fleet', fleetFile, 'broker', 'config', '--out', brokerDir, ...(opts.tls ? [] : ['--no-tls']), '--json']);
  if (r.code !== 0) throw new Error(`loa broker config failed (${r.code}): ${r.stderr}${r.stdout}`);
  const result = JSON.parse(r.stdout) as { conf: string; tls: string; caCert?: string };
  if (opts.tls && result.tls !== 'generated') throw new Error(`loa broker config did not generate TLS material (tls: ${result.tls})`);
  const broker = await startMosquitto({ configText: readFileSync(result.conf, 'utf8') });
  if (!broker.stationUrl) throw new Error('loa broker config wrote no plain station listener');
  writeFileSync(fleetFile, fleetYaml(broker.url, broker.stationUrl, stations, groups, opts.database, opts.bridges));
  const read = (p: string) => readFileSync(path.join(dir, p), 'utf8').trim();
  return {
    dir,
    fleetFile,
    broker,
    stationUrl: broker.stationUrl,
    brokerDir,
    centralUser: 'loa-central',
    centralPassword: read('secrets/central.password'),
    stationPassword: (id) => read(`secrets/stations/${id}.password`),
    bridgePassword: (id) => read(`secrets/bridges/${id}.password`),
    caFile: result.caCert,
    database: opts.database ?? path.join(dir, 'central', 'central.sqlite'),
    async stop() {
      await closeCentralPool(opts.database);
      await broker.stop();
    },
  };
}

/**
 * `loa collect` as a subprocess: by default with the fleet's persistent session; with `shared`,
 * one of several collectors (`--shared GROUP --client-id ID`).
 */
export async function startCollector(central: Central, opts: { shared?: string; clientId?: string } = {}): Promise<Proc> {
  const extra = [...(opts.shared ? ['--shared', opts.shared] : []), ...(opts.clientId ? ['--client-id', opts.clientId] : [])];
  const p = spawnProc(LOA_BIN, ['--fleet', central.fleetFile, 'collect', ...extra]);
  await p.waitForLog(/connected|kết nối/i, 20_000);
  return p;
}

const pools = new Map<string, pg.Pool>();
const isPg = (database: string) => /^postgres(ql)?:\/\//.test(database);

async function closeCentralPool(database: string | undefined): Promise<void> {
  const pool = database ? pools.get(database) : undefined;
  if (!pool) return;
  pools.delete(database!);
  await pool.end().catch(() => undefined);
}

/** Rows of the central database (SQLite file or PostgreSQL), read as an outsider would. */
async function centralQuery<T>(central: Central, sql: string, params: unknown[] = []): Promise<T[]> {
  if (isPg(central.database)) {
    let pool = pools.get(central.database);
    if (!pool) {
      pool = new pg.Pool({ connectionString: central.database, max: 2 });
      pool.on('error', () => undefined);
      pools.set(central.database, pool);
    }
    try {
      let n = 0;
      return (
        await pool.query(
          sql.replace(/\?/g, () => `$${++n}`),
          params,
        )
      ).rows as T[];
    } catch (e) {
      // The collector has not created its tables yet.
      if ((e as { code?: string }).code === '42P01') return [];
      throw e;
    }
  }
  if (!existsSync(central.database)) return [];
  const db = new Database(central.database, { readonly: true, fileMustExist: true });
  try {
    db.pragma('busy_timeout = 5000');
    return db.prepare(sql).all(...params) as T[];
  } finally {
    db.close();
  }
}

/** Rows the collector committed. */
export async function centralAcks(central: Central, station?: string): Promise<Ack[]> {
  const rows = station
    ? await centralQuery<{ json: string }>(central, 'SELECT json FROM acks WHERE station = ? ORDER BY seq', [station])
    : await centralQuery<{ json: string }>(central, 'SELECT json FROM acks ORDER BY station, seq');
  return rows.map((r) => JSON.parse(r.json) as Ack);
}

/** Rows whose (station, db, seq) appears more than once in the central table (UNIQUE should make this 0). */
export async function centralDuplicateRows(central: Central): Promise<number> {
  const r = await centralQuery<{ d: number | string }>(central, 'SELECT count(*) - (SELECT count(*) FROM (SELECT DISTINCT station, db, seq FROM acks) k) AS d FROM acks');
  return Number(r[0]?.d ?? 0);
}

// ---- station daemons -----------------------------------------------------------------------

export interface StationSpec {
  id: string;
  groups?: string[];
  keys: TestKey[];
  alertQuorum?: number;
  graceSec?: number;
  quotaMB?: number;
  collector?: boolean;
  zones?: string[];
  /** Put the data directory on a tmpfs of this many MB (disk-full cases). */
  tmpfsMB?: number;
  chimes?: Record<string, string>;
  stallSec?: number;
  testAlerts?: { maxDurationSec: number; maxVolume: number };
}

export interface Station {
  id: string;
  dir: string;
  configPath: string;
  outDir: string;
  dataDir: string;
  dbPath: string;
  proc: Proc;
  /**
   * Stores this station had before its current one (a reset): their ack ranges count toward
   * emitted/received like the current store's.
   */
  pastStores: { db: string; firstSeq: number; lastSeq: number }[];
  /** Every process run for this station (restarts included). */
  runs: Proc[];
  start(env?: Record<string, string>): Promise<Proc>;
  /** Highest ack seq the station has allocated (0 before its first ack); seqs have no gaps. */
  lastSeq(): number;
  /** The store id its acks are numbered under. */
  dbId(): string;
  /** The first seq this station's database allocated, once known (see faults.ts primeSeq). */
  firstSeq?: number;
  /** Acks allocated from firstSeq to lastSeq. */
  emitted(): number;
  outboxDepth(): number;
  /** The lowest seqs still waiting in the outbox. */
  outboxSeqs(limit: number): number[];
  wavs(zone?: string): string[];
  crashes(): number;
  stop(): Promise<void>;
}

function readStationDb<T>(dbPath: string, fn: (db: Database.Database) => T): T {
  const db = new Database(dbPath, { readonly: true, fileMustExist: true });
  try {
    db.pragma('busy_timeout = 5000');
    return fn(db);
  } finally {
    db.close();
  }
}

export function stationConfig(central: Central | { url: string }, s: StationSpec, dir: string): string {
  mkdirSync(dir, { recursive: true });
  const zones = s.zones ?? ['main'];
  const isCentral = 'broker' in central;
  const config = {
    station: { id: s.id, name: `Proof ${s.id}`, groups: s.groups ?? [] },
    broker: {
      urls: [isCentral ? central.stationUrl : central.url],
      ...(isCentral ? { username: s.id, password: central.stationPassword(s.id) } : {}),
      topicRoot: 'loa/v1',
      keepaliveSec: 5,
    },
    timezone: 'Asia/Ho_Chi_Minh',
    dataDir: path.join(dir, 'data'),
    // Production settings unless a case needs otherwise (the default 2 GB cache, 60 min clips).
    ...(s.quotaMB !== undefined ? { cache: { quotaMB: s.quotaMB } } : {}),
    central: { collector: s.collector ?? true },
    keys: s.keys.map((k) => ({ id: k.id, publicKey: k.publicKey, allow: k.allow })),
    alertQuorum: s.alertQuorum ?? 2,
    clockSkewSec: 300,
    zones: zones.map((z) => ({ id: z, name: `Zone ${z}`, output: { type: 'file', dir: path.join(dir, 'out', z) }, defaultVolume: 100, maxVolume: 100 })),
    quietHours: [],
    chimes: s.chimes ?? {},
    graceSec: s.graceSec ?? 60,
    telemetrySec: 5,
    ...(s.stallSec !== undefined ? { stallSec: s.stallSec } : {}),
    ...(s.testAlerts ? { testAlerts: s.testAlerts } : {}),
  };
  const file = path.join(dir, 'station.yaml');
  writeFileSync(file, stringify(config));
  return file;
}

export async function startStation(central: Central | { url: string }, s: StationSpec, env: Record<string, string> = {}): Promise<Station> {
  const dir = tempDir(`st-${s.id}`);
  const configPath = stationConfig(central, s, dir);
  const dataDir = path.join(dir, 'data');
  const dbPath = path.join(dataDir, 'station.db');
  if (s.tmpfsMB !== undefined) mountTmpfs(dataDir, s.tmpfsMB);
  const runs: Proc[] = [];
  const st: Station = {
    id: s.id,
    dir,
    configPath,
    outDir: path.join(dir, 'out', (s.zones ?? ['main'])[0]!),
    dataDir,
    dbPath,
    pastStores: [],
    proc: undefined as unknown as Proc,
    runs,
    async start(extraEnv = env) {
      const p = spawnProc(STATION_BIN, ['run', '--config', configPath], extraEnv);
      runs.push(p);
      st.proc = p;
      await p.waitForLog(/"msg":"subscribed"/, 30_000);
      return p;
    },
    lastSeq: () => readStationDb(dbPath, (db) => Number((db.prepare("SELECT value FROM meta WHERE key = 'ack_seq'").get() as { value: string } | undefined)?.value ?? 0)),
    dbId: () => readStationDb(dbPath, (db) => (db.prepare("SELECT value FROM meta WHERE key = 'db_id'").get() as { value: string }).value),
    emitted: () => {
      const last = st.lastSeq();
      if (last === 0) return 0;
      if (st.firstSeq === undefined) throw new Error(`station ${s.id}: first ack seq unknown`);
      return last - st.firstSeq + 1;
    },
    outboxDepth: () => readStationDb(dbPath, (db) => (db.prepare('SELECT count(*) AS n FROM outbox').get() as { n: number }).n),
    outboxSeqs: (limit) => readStationDb(dbPath, (db) => (db.prepare('SELECT seq FROM outbox ORDER BY seq LIMIT ?').all(limit) as { seq: number }[]).map((r) => r.seq)),
    wavs: (zone) => listWavs(zone ? path.join(dir, 'out', zone) : st.outDir),
    crashes: () => runs.filter((r) => r.crashed()).length,
    async stop() {
      for (const r of runs) await r.stop();
      unmount(dataDir);
    },
  };
  await st.start(env);
  return st;
}

// ---- wire observer -------------------------------------------------------------------------

/**
 * An independent durable subscriber (clean: false, QoS 1) that records every ack delivery as it
 * was on the wire. It cross-checks the collector: the same (station, seq) must always carry the
 * same ack (a reused seq would be hidden by the collector's INSERT OR IGNORE).
 */
export class WireObserver {
  readonly deliveries: Ack[] = [];
  private constructor(readonly client: MqttClient) {}

  static async start(central: Central, clientId = `proof-observer-${process.pid}-${Math.random().toString(16).slice(2, 8)}`): Promise<WireObserver> {
    const client = mqtt.connect(central.broker.url, {
      clientId,
      clean: false,
      username: central.centralUser,
      password: central.centralPassword,
      reconnectPeriod: 250,
      protocolVersion: 4,
    });
    await new Promise<void>((resolve, reject) => {
      client.once('connect', () => resolve());
      client.once('error', reject);
    });
    const o = new WireObserver(client);
    client.on('message', (topic, payload) => {
      if (!topic.endsWith('/ack')) return;
      try {
        const a = Ack.safeParse(JSON.parse(payload.toString('utf8')));
        if (a.success) o.deliveries.push(a.data);
      } catch {
        // garbage on an ack topic is not ours to count
      }
    });
    await client.subscribeAsync(TOPICS.allAcks(), { qos: 1 });
    return o;
  }

  /** (station, seq) pairs seen with two different contents. */
  conflicts(): number {
    const seen = new Map<string, string>();
    let n = 0;
    const conflicted = new Set<string>();
    for (const a of this.deliveries) {
      const { historical: _h, epoch: _e, ...rest } = a;
      const body = JSON.stringify(rest);
      const prev = seen.get(a.id);
      if (prev === undefined) seen.set(a.id, body);
      else if (prev !== body && !conflicted.has(a.id)) {
        conflicted.add(a.id);
        n++;
      }
    }
    return n;
  }

  async close(): Promise<void> {
    await this.client.endAsync(true);
  }
}

/**
 * The same broadcast/command reported twice in the same state under different seqs: a double
 * airing (two `started`), or an outcome acked twice.
 */
export function logicalDuplicates(acks: Ack[]): number {
  const keys = new Map<string, number>();
  for (const a of acks) {
    if (!a.broadcastId && !a.commandId) continue;
    // Rejections of unparseable messages carry no id; retained re-deliveries of an old schedule
    // are legitimately rejected once per reconnect.
    if (a.state === 'rejected') continue;
    // Per store: a fresh store (after a reset) applying the retained schedule again is a new fact.
    const k = `${a.station}|${a.db}|${a.commandId ?? ''}|${a.broadcastId ?? ''}|${a.state}`;
    keys.set(k, (keys.get(k) ?? 0) + 1);
  }
  let d = 0;
  for (const n of keys.values()) if (n > 1) d += n - 1;
  return d;
}

// ---- generated audio -----------------------------------------------------------------------

export function ffmpegArgs(args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const c = spawn('ffmpeg', ['-hide_banner', '-nostdin', '-loglevel', 'error', '-y', ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    c.stderr.on('data', (d) => (err += d));
    c.on('error', reject);
    c.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`ffmpeg ${args.join(' ')} failed: ${err}`))));
  });
}

/** A sine tone of `seconds` at `hz`, 16 kHz mono WAV. */
export async function makeTone(dir: string, hz: number, seconds: number): Promise<string> {
  const file = path.join(dir, `tone-${hz}-${seconds}s.wav`);
  await ffmpegArgs(['-f', 'lavfi', '-i', `sine=frequency=${hz}:duration=${seconds}:sample_rate=16000`, '-ac', '1', '-c:a', 'pcm_s16le', file]);
  return file;
}

/** Dominant frequency of a mono s16le WAV, from its zero-crossing rate (good enough for pure tones). */
export function toneHz(file: string): number {
  const b = readFileSync(file);
  const rate = b.readUInt32LE(24);
  const start = 44;
  const n = Math.floor((b.length - start) / 2);
  let crossings = 0;
  let prev = 0;
  for (let i = 0; i < n; i++) {
    const s = b.readInt16LE(start + i * 2);
    if (s !== 0) {
      if (prev !== 0 && Math.sign(s) !== Math.sign(prev)) crossings++;
      prev = s;
    }
  }
  return crossings / 2 / (n / rate);
}

/** Duration of a finished WAV (data bytes / byte rate). */
export function wavSeconds(file: string): number {
  const b = readFileSync(file);
  return (b.length - 44) / b.readUInt32LE(28);
}
