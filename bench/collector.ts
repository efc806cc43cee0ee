// Collector ingestion: 1,000 simulated stations' acks through a private Mosquitto (configured
// with the queue limits `loa broker config` writes) into a real `loa collect` process, counted
// as committed rows in its central SQLite database. Baseline: plain `mosquitto_sub` draining
// the same stream.
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import mqtt from 'mqtt';
import { stringify } from 'yaml';
import { type MosquittoBroker, startMosquitto } from '../support/mosquitto.js';
import { benchStationId, LOA_BIN, progress, ROOT, sleep, wallNow } from './lib.js';

export interface IngestResult {
  published: number;
  unique: number;
  duplicatesSent: number;
  /** Rows (collector) or lines (mosquitto_sub) seen at the end. */
  received: number;
  duplicateRows: number;
  lost: number;
  elapsedMs: number;
  /** Unique acks per second, first publish -> last row committed / last line read. */
  perSec: number;
  publishElapsedMs: number;
}

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let t: NodeJS.Timeout | undefined;
  return Promise.race([p, new Promise<never>((_, reject) => (t = setTimeout(() => reject(new Error(`${what} within ${ms} ms`)), ms)))]).finally(() => clearTimeout(t));
}

/** The queue settings of `loa broker config` (controller-cli/broker-config.ts), anonymous on loopback. */
function brokerExtra(dataDir: string): string {
  return [
    'persistence true',
    `persistence_location ${dataDir}/`,
    'autosave_interval 60',
    'persistent_client_expiration 30d',
    'max_queued_messages 200000',
    'max_inflight_messages 100',
    'queue_qos0_messages false',
  ].join('\n');
}

async function startBroker(dir: string): Promise<MosquittoBroker> {
  const data = path.join(dir, 'mosquitto-data');
  mkdirSync(data, { recursive: true });
  return startMosquitto({ extraConfig: brokerExtra(data) });
}

function startPublisher(
  url: string,
  stations: number,
  perStation: number,
  dups: number,
): { proc: ChildProcess; ready: Promise<void>; result: Promise<{ t0: number; t1: number; published: number }> } {
  const proc = spawn(process.execPath, [path.join(ROOT, 'dist/bench/ack-publisher.js'), url, String(stations), String(perStation), String(dups)], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  let buf = '';
  let onReady!: () => void;
  let onResult!: (r: { t0: number; t1: number; published: number }) => void;
  const ready = new Promise<void>((r) => (onReady = r));
  const result = new Promise<{ t0: number; t1: number; published: number }>((r, reject) => {
    onResult = r;
    proc.on('exit', (code) => code !== 0 && reject(new Error(`ack publisher exited ${code}`)));
  });
  proc.stdout!.on('data', (b: Buffer) => {
    buf += b.toString();
    const lines = buf.split('\n');
    buf = lines.pop()!;
    for (const l of lines) {
      if (l === 'ready') onReady();
      else if (l.startsWith('{')) onResult(JSON.parse(l));
    }
  });
  return { proc, ready, result };
}

function writeFleet(dir: string, brokerUrl: string, stations: number): string {
  mkdirSync(path.join(dir, 'secrets'), { recursive: true, mode: 0o700 });
  writeFileSync(path.join(dir, 'secrets', 'central.password'), 'bench-password\n', { mode: 0o600 });
  const fleet = {
    topicRoot: 'loa/v1',
    timezone: 'Asia/Ho_Chi_Minh',
    broker: { urls: [brokerUrl], stationUrls: [brokerUrl], username: 'loa-central', passwordFile: 'secrets/central.password', clientId: 'loa-central-bench' },
    database: 'central/central.sqlite',
    stations: Array.from({ length: stations }, (_, i) => ({ id: benchStationId(i), name: `Bench station ${i}` })),
  };
  const file = path.join(dir, 'fleet.yaml');
  writeFileSync(file, stringify(fleet));
  return file;
}

/** Resolves when the collector has announced central/state online (retained). */
async function waitCentralOnline(url: string, timeoutMs: number): Promise<void> {
  const c = mqtt.connect(url, { clientId: `bench-watch-${process.pid}`, clean: true });
  try {
    await new Promise<void>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`loa collect did not publish central/state online within ${timeoutMs} ms`)), timeoutMs);
      c.on('message', (_topic, payload) => {
        try {
          if ((JSON.parse(payload.toString()) as { online?: boolean }).online === true) {
            clearTimeout(t);
            resolve();
          }
        } catch {
          /* not JSON */
        }
      });
      c.on('connect', () => c.subscribe('loa/v1/central/state', { qos: 1 }));
    });
  } finally {
    c.end(true);
  }
}

export async function collectorIngest(stations: number, perStation: number, dups: number): Promise<IngestResult> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'loa-bench-collect-'));
  const broker = await startBroker(dir);
  let collector: ChildProcess | undefined;
  let publisher: ChildProcess | undefined;
  let log = '';
  try {
    const fleetFile = writeFleet(dir, broker.url, stations);
    collector = spawn(process.execPath, [LOA_BIN, '--fleet', fleetFile, 'collect'], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, LANG: 'C' } });
    collector.stdout!.on('data', (b: Buffer) => (log += b.toString()));
    collector.stderr!.on('data', (b: Buffer) => (log += b.toString()));
    const exited = new Promise<number | null>((r) => collector!.on('exit', (c) => r(c)));
    await Promise.race([
      waitCentralOnline(broker.url, 20_000),
      exited.then((c) => {
        throw new Error(`loa collect exited (${c}) before coming online:\n${log.slice(-3000)}`);
      }),
    ]);
    const dbPath = path.join(dir, 'central', 'central.sqlite');
    const pub = startPublisher(broker.url, stations, perStation, dups);
    publisher = pub.proc;
    await pub.ready;
    const unique = stations * perStation;
    pub.proc.stdin!.write('go\n');
    let db: Database.Database | undefined;
    const count = () => {
      if (!db) {
        if (!existsSync(dbPath)) return 0;
        db = new Database(dbPath, { readonly: true, fileMustExist: true });
      }
      return (db.prepare('SELECT COUNT(*) AS n FROM acks').get() as { n: number }).n;
    };
    let tEnd: number | undefined;
    let n = 0;
    let lastChange = Date.now();
    const deadline = Date.now() + 120_000;
    while (Date.now() < deadline) {
      const m = count();
      if (m !== n) lastChange = Date.now();
      n = m;
      if (n >= unique) {
        tEnd = wallNow();
        break;
      }
      // Nothing new for 15 s after the publisher finished: the rest is lost.
      if (Date.now() - lastChange > 15_000) break;
      await sleep(25);
    }
    const p = await withTimeout(pub.result, 60_000, 'ack publisher did not get all its PUBACKs');
    await sleep(1500); // anything late (a duplicate) would show up now
    const final = count();
    const distinct = (db!.prepare("SELECT COUNT(DISTINCT station || ':' || seq) AS n FROM acks").get() as { n: number }).n;
    db?.close();
    const elapsed = (tEnd ?? wallNow()) - p.t0;
    return {
      published: p.published,
      unique,
      duplicatesSent: dups,
      received: final,
      duplicateRows: final - distinct,
      lost: unique - distinct,
      elapsedMs: elapsed,
      perSec: tEnd ? (unique / elapsed) * 1000 : NaN,
      publishElapsedMs: p.t1 - p.t0,
    };
  } catch (e) {
    progress(`collector log:\n${log.slice(-3000)}`);
    throw e;
  } finally {
    if (publisher && publisher.exitCode === null) publisher.kill('SIGKILL');
    if (collector && collector.exitCode === null) {
      const done = new Promise((r) => collector!.on('exit', r));
      collector.kill('SIGTERM');
      await Promise.race([done, sleep(10_000)]);
      if (collector.exitCode === null) collector.kill('SIGKILL');
    }
    await broker.stop();
    if (!process.env.LOA_KEEP_TMP) rmSync(dir, { recursive: true, force: true });
  }
}

/** `mosquitto_sub -t 'loa/v1/station/+/ack' -q 1` draining the same stream: lines counted. */
export async function mosquittoSubIngest(stations: number, perStation: number, dups: number): Promise<IngestResult> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'loa-bench-sub-'));
  const broker = await startBroker(dir);
  let sub: ChildProcess | undefined;
  let publisher: ChildProcess | undefined;
  try {
    sub = spawn('mosquitto_sub', ['-h', '127.0.0.1', '-p', String(broker.port), '-t', 'loa/v1/station/+/ack', '-q', '1'], { stdio: ['ignore', 'pipe', 'inherit'] });
    let lines = 0;
    let probes = 0;
    let tail = '';
    let tEnd: number | undefined;
    let target = Infinity;
    sub.stdout!.on('data', (b: Buffer) => {
      const s = tail + b.toString();
      const parts = s.split('\n');
      tail = parts.pop()!;
      for (const l of parts) {
        if (l === 'probe') probes++;
        else lines++;
      }
      if (tEnd === undefined && lines >= target) tEnd = wallNow();
    });
    // Subscribed once a probe comes back.
    const probe = mqtt.connect(broker.url, { clientId: `bench-probe-${process.pid}`, clean: true });
    await new Promise<void>((r) => probe.on('connect', () => r()));
    const probeDeadline = Date.now() + 10_000;
    while (probes === 0) {
      if (Date.now() > probeDeadline) throw new Error('mosquitto_sub never received the probe');
      probe.publish('loa/v1/station/probe/ack', 'probe', { qos: 1 });
      await sleep(100);
    }
    probe.end(true);
    const pub = startPublisher(broker.url, stations, perStation, dups);
    publisher = pub.proc;
    await pub.ready;
    const unique = stations * perStation;
    target = unique + dups;
    pub.proc.stdin!.write('go\n');
    const p = await withTimeout(pub.result, 60_000, 'ack publisher did not get all its PUBACKs');
    const deadline = Date.now() + 60_000;
    let last = lines;
    let lastChange = Date.now();
    while (tEnd === undefined && Date.now() < deadline) {
      if (lines !== last) {
        last = lines;
        lastChange = Date.now();
      }
      if (Date.now() - lastChange > 10_000) break;
      await sleep(25);
    }
    const elapsed = (tEnd ?? wallNow()) - p.t0;
    return {
      published: p.published,
      unique,
      duplicatesSent: dups,
      received: lines,
      duplicateRows: 0,
      lost: Math.max(0, target - lines),
      elapsedMs: elapsed,
      perSec: tEnd ? (unique / elapsed) * 1000 : NaN,
      publishElapsedMs: p.t1 - p.t0,
    };
  } finally {
    if (publisher && publisher.exitCode === null) publisher.kill('SIGKILL');
    sub?.kill('SIGTERM');
    await broker.stop();
    if (!process.env.LOA_KEEP_TMP) rmSync(dir, { recursive: true, force: true });
  }
}
