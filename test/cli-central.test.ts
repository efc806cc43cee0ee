// The central side seen from the outside: `loa` as a real subprocess, its own collector
// (`loa collect`), a private mosquitto configured by `loa broker config`, stations played by
// plain MQTT clients with station credentials, and the central SQLite file read directly.
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { runFfmpeg } from '../io/ffmpeg.js';
import { type Ack, PROTOCOL_VERSION, type Telemetry, Topics } from '../protocol/index.js';
import { runLoa, startCollector } from '../support/cli.js';
import { type MosquittoBroker, startMosquitto } from '../support/mosquitto.js';
import { cleanupTempDirs, tempDir } from '../support/tmp.js';

const T = new Topics('loa/v1');
const DAY_MS = 86_400_000;

const dir = tempDir('loa-cli-central-');
const fleet = join(dir, 'fleet.yaml');
const keyDir = join(tempDir('loa-cli-central-office-'), 'keys');
const loa = (args: string[]) => runLoa(fleet, args, { LOA_KEY_DIR: keyDir });
const dbPath = join(dir, 'central', 'central.sqlite');

let broker: MosquittoBroker;
let collector: Awaited<ReturnType<typeof startCollector>> | undefined;
let db: Database.Database;
const clients: MqttClient[] = [];

function fleetYaml(url: string, stationUrl = url): string {
  return stringify({
    broker: { urls: [url], stationUrls: [stationUrl], passwordFile: 'secrets/central.password', listener: { stationPort: 1884 } },
    signers: [{ key: 'office', allow: ['schedule', 'announce', 'alert', 'cancel', 'control'] }],
    defaultKey: 'office',
    groups: [{ id: 'east', name: 'Đông' }],
    stations: [
      { id: 'st-a', name: 'Phường A', groups: ['east'] },
      { id: 'st-b', name: 'Phường B', groups: ['east'] },
      { id: 'st-c', name: 'Xã C' },
    ],
  });
}

const secret = (p: string) => readFileSync(join(dir, 'secrets', p), 'utf8').trim();

function connect(url: string, username: string, password: string, clientId: string): Promise<MqttClient> {
  return new Promise((res, rej) => {
    const c = mqtt.connect(url, { username, password, reconnectPeriod: 0, protocolVersion: 4, clientId, connectTimeout: 5_000 });
    c.once('connect', () => {
      clients.push(c);
      res(c);
    });
    c.once('error', rej);
  });
}
/** A station: station listener, its own credentials, client id = station id. */
const asStation = (id: string) => connect(broker.stationUrl!, id, secret(`stations/${id}.password`), id);
const asCentral = () => connect(broker.url, 'loa-central', secret('central.password'), `t-central-${randomBytes(4).toString('hex')}`);

const newDbId = () => randomBytes(8).toString('hex');

function ack(station: string, db: string, seq: number, state: Ack['state'], broadcastId: string, extra: Partial<Ack> = {}): Ack {
  return {
    v: PROTOCOL_VERSION,
    type: 'ack',
    id: `${station}:${db}:${seq}`,
    station,
    db,
    seq,
    epoch: 1,
    state,
    commandId: broadcastId,
    broadcastId,
    zones: ['main'],
    at: new Date().toISOString(),
    historical: false,
    ...extra,
  };
}

/** Polls `check` until it returns something other than undefined/false, or fails after `ms`. */
async function until<T>(what: string, check: () => T | undefined | false, ms = 10_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = check();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}${collector ? `\ncollector log:\n${collector.log().slice(-2000)}` : ''}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const ackRows = (station: string, dbId: string) =>
  db.prepare('SELECT seq, state, reason FROM acks WHERE station = ? AND db = ? ORDER BY seq').all(station, dbId) as { seq: number; state: string; reason: string | null }[];

async function announceJson(args: string[]): Promise<{ id: string }> {
  const r = await loa(['announce', ...args, '--json']);
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as { id: string };
}

/** Minimal RFC 4180 parser: rows of fields, quotes and doubled quotes honoured. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      row.push(field);
      field = '';
    } else if (c === '\n') {
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
    } else field += c;
  }
  if (field !== '' || row.length > 0) {
    row.push(field);
    rows.push(row);
  }
  return rows;
}

/** A short distinct tone (content-addressed clips must differ). */
async function tone(name: string, hz: number): Promise<string> {
  const file = join(dir, name);
  await runFfmpeg(['-hide_banner', '-nostdin', '-loglevel', 'error', '-f', 'lavfi', '-i', `sine=frequency=${hz}:duration=1`, '-ar', '16000', '-ac', '1', '-y', file], {
    timeoutMs: 30_000,
  });
  return file;
}

/**
 * Which of `shas` the broker still holds retained: one subscription per clip, in order, then a
 * last one on a clip known to be retained. Retained messages follow their SUBACK in order on
 * one connection, so once the sentinel's arrived every earlier one would have too.
 */
async function retainedAmong(shas: string[], sentinel: string): Promise<Set<string>> {
  const c = await asCentral();
  const got = new Set<string>();
  c.on('message', (topic, payload, packet) => {
    if (packet.retain && payload.length > 0) got.add(topic.split('/').pop()!);
  });
  for (const sha of shas) await c.subscribeAsync(T.media(sha), { qos: 1 });
  await c.subscribeAsync(T.media(sentinel), { qos: 1 });
  await until(`retained sentinel clip ${sentinel}`, () => got.has(sentinel), 5_000);
  await c.endAsync(true);
  return got;
}

beforeAll(async () => {
  writeFileSync(fleet, fleetYaml('mqtt://127.0.0.1:1'));
  const k = await loa(['keys', 'init', 'office']);
  expect(k.code, k.stderr).toBe(0);
  const r = await loa(['broker', 'config', '--out', join(dir, 'broker'), '--no-tls']);
  expect(r.code, r.stderr).toBe(0);
  broker = await startMosquitto({ confFile: join(dir, 'broker', 'mosquitto.conf') });
  expect(broker.stationUrl, 'station listener in the generated config').toBeDefined();
  writeFileSync(fleet, fleetYaml(broker.url, broker.stationUrl));
  writeFileSync(join(dir, 'tone.wav'), readFileSync('audio-fixtures/tone-3s.wav'));
  collector = await startCollector(fleet);
  db = new Database(dbPath, { readonly: true });
}, 60_000);

afterAll(async () => {
  for (const c of clients) c.end(true);
  if (collector && collector.child.exitCode === null && collector.child.signalCode === null) collector.child.kill('SIGKILL');
  db?.close();
  await broker?.stop();
  cleanupTempDirs();
});

describe('station text reaches the operator as data', () => {
  it('loa stations replaces escape sequences, bidi overrides and line breaks; --json keeps the raw string', async () => {
    const evilError = 'boom \u001b]0;pwned\u0007\u001b[2J\u001b[31mred';
    const evilTitle = 'evil\u202etxt\r\nline2';
    const tel: Telemetry = {
      v: 1,
      type: 'telemetry',
      station: 'st-a',
      epoch: 3,
      at: new Date().toISOString(),
      nowPlaying: [{ zone: 'main', broadcastId: 'news-1767565800', priority: 'normal', title: evilTitle, since: new Date().toISOString() }],
      queue: 0,
      zones: [{ id: 'main', onAir: true, volume: 70 }],
      diskFreeBytes: 1e9,
      cacheBytes: 0,
      ffmpegOk: true,
      scheduleVersion: null,
      outboxDepth: 0,
      lastError: evilError,
    };
    const a = await asStation('st-a');
    await a.publishAsync(T.telemetry('st-a'), JSON.stringify(tel), { qos: 1 });
    await until('telemetry of st-a in the central DB', () => {
      const row = db.prepare('SELECT json FROM telemetry WHERE station = ?').get('st-a') as { json: string } | undefined;
      return row && (JSON.parse(row.json) as Telemetry).lastError === evilError;
    });
    await a.endAsync();

    const table = await loa(['stations']);
    expect(table.code, table.stderr).toBe(0);
    for (const bad of ['\u001b', '\u0007', '\u202e', '\r']) expect(table.stdout.includes(bad), `raw ${JSON.stringify(bad)} in table output`).toBe(false);
    expect(table.stdout).toContain('boom ?]0;pwned??[2J?[31mred');
    expect(table.stdout).toContain('main:evil?txt  line2');

    const json = await loa(['stations', '--json']);
    expect(json.code, json.stderr).toBe(0);
    // C0 controls arrive escaped (\u001b), never raw, in the JSON text itself.
    for (const bad of ['\u001b', '\u0007', '\r']) expect(json.stdout.includes(bad)).toBe(false);
    const row = (JSON.parse(json.stdout) as { station: string; lastError: string | null; nowPlaying: string[] }[]).find((r) => r.station === 'st-a')!;
    expect(row.lastError).toBe(evilError);
    expect(row.nowPlaying).toEqual([`main:${evilTitle}`]);
  });

  it('loa report --csv turns station reasons and titles that begin with = + - @ into text', async () => {
    const plus = await announceJson([join(dir, 'tone.wav'), '--to', 'st-a', '--title', '+1 test']);
    const minus = await announceJson([join(dir, 'tone.wav'), '--to', 'st-a', '--title=-1 test']);
    const at = await announceJson([join(dir, 'tone.wav'), '--to', 'st-a', '--title', '@SUM(A1)']);
    const evil = '=HYPERLINK("http://evil","x")';
    const dbId = newDbId();
    const a = await asStation('st-a');
    await a.publishAsync(T.ack('st-a'), JSON.stringify(ack('st-a', dbId, 1, 'failed', plus.id, { reason: evil })), { qos: 1 });
    await until('the failed ack in the central DB', () => ackRows('st-a', dbId).length === 1);
    await a.endAsync();

    const r = await loa(['report', '--from', '2020-01-01', '--to', '2099-01-01', '--csv']);
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stdout.split('\n');
    const header = lines[0]!.split(',');
    const failedLine = lines.find((l) => l.startsWith(`${plus.id},`));
    expect(failedLine, r.stdout).toBeDefined();
    // The exact bytes a spreadsheet sees: quoted, quotes doubled, an apostrophe before '='.
    expect(failedLine!.endsWith(`,"'=HYPERLINK(""http://evil"",""x"")"`), failedLine).toBe(true);
    const rows = parseCsv(r.stdout)
      .slice(1)
      .map((f) => Object.fromEntries(header.map((h, i) => [h, f[i]])) as Record<string, string>);
    const byId = (id: string) => rows.find((x) => x.broadcastId === id)!;
    expect(byId(plus.id)).toMatchObject({ status: 'failed', reason: `'${evil}`, title: "'+1 test" });
    expect(byId(minus.id).title).toBe("'-1 test");
    expect(byId(at.id).title).toBe("'@SUM(A1)");
    // No cell of the whole report can start a formula.
    for (const row of rows) for (const cell of Object.values(row)) expect(/^[=+\-@\t\r]/.test(cell ?? ''), `cell ${JSON.stringify(cell)}`).toBe(false);
  });
});

describe('acks re-sent by a station', () => {
  it('a conflicting re-send is kept and flagged; a historical replay of the same ack is a duplicate; both are receipted', async () => {
    const D = newDbId();
    const b = await asStation('st-b');
    const receipts: { db: string; seqs: number[]; station: string }[] = [];
    b.on('message', (topic, p) => {
      if (topic === T.receipt('st-b')) receipts.push(JSON.parse(p.toString()));
    });
    await b.subscribeAsync(T.receipt('st-b'), { qos: 1 });
    const mine = () => receipts.filter((x) => x.db === D);
    const conflicts = () => (db.prepare('SELECT COUNT(*) AS n FROM ack_conflicts WHERE station = ? AND db = ? AND seq = 1').get('st-b', D) as { n: number }).n;

    const first = ack('st-b', D, 1, 'started', 'conflict-test');
    await b.publishAsync(T.ack('st-b'), JSON.stringify(first), { qos: 1 });
    await until('receipt for the first ack', () => mine().length >= 1);
    await b.publishAsync(T.ack('st-b'), JSON.stringify({ ...first, state: 'completed' }), { qos: 1 });
    await until('receipt for the conflicting ack', () => mine().length >= 2);

    expect(ackRows('st-b', D)).toEqual([{ seq: 1, state: 'started', reason: null }]);
    expect(conflicts()).toBe(1);
    const stored = db.prepare('SELECT json, stored_json FROM ack_conflicts WHERE station = ? AND db = ?').get('st-b', D) as { json: string; stored_json: string };
    expect(JSON.parse(stored.json).state).toBe('completed');
    expect(JSON.parse(stored.stored_json).state).toBe('started');

    const st = await loa(['stations', '--json']);
    expect(st.code, st.stderr).toBe(0);
    expect((JSON.parse(st.stdout) as { station: string; ackConflicts: number }[]).find((r) => r.station === 'st-b')!.ackConflicts).toBe(1);

    // The identical first ack replayed from the outbox: the same ack, not a conflict.
    await b.publishAsync(T.ack('st-b'), JSON.stringify({ ...first, historical: true }), { qos: 1 });
    await until('receipt for the replay', () => mine().length >= 3);
    expect(conflicts()).toBe(1);
    expect(ackRows('st-b', D)).toHaveLength(1);
    for (const r of mine()) expect(r).toMatchObject({ station: 'st-b', db: D, seqs: [1] });
    await b.endAsync();
  });
});

describe('delivery as the CLI reports it', () => {
  it('loa broadcasts --json counts a broadcast cut by an alert as preempted, not failed', async () => {
    const sent = await announceJson([join(dir, 'tone.wav'), '--to', 'st-c', '--title', 'cut-by-alert']);
    const dbId = newDbId();
    const c = await asStation('st-c');
    await c.publishAsync(T.ack('st-c'), JSON.stringify(ack('st-c', dbId, 1, 'started', sent.id)), { qos: 1 });
    await c.publishAsync(T.ack('st-c'), JSON.stringify(ack('st-c', dbId, 2, 'preempted', sent.id, { reason: 'preempted by alert-x' })), { qos: 1 });
    await until('both acks in the central DB', () => ackRows('st-c', dbId).length === 2);
    await c.endAsync();
    const r = await loa(['broadcasts', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const row = (JSON.parse(r.stdout) as { id: string; delivery: Record<string, number> }[]).find((b) => b.id === sent.id);
    expect(row, r.stdout).toBeDefined();
    expect(row!.delivery).toEqual({ preempted: 1 });
    const rep = JSON.parse((await loa(['report', '--from', '2020-01-01', '--to', '2099-01-01', '--json'])).stdout) as {
      broadcastId: string;
      status: string;
      reason: string | null;
    }[];
    expect(rep.find((x) => x.broadcastId === sent.id)).toMatchObject({ status: 'preempted', reason: 'preempted by alert-x' });
  });

  it('loa announce --json prints one JSON shape with and without --wait (exit 3 when nobody answers)', async () => {
    const plain = await loa(['announce', join(dir, 'tone.wav'), '--to', 'st-c', '--json']);
    expect(plain.code, plain.stderr).toBe(0);
    const p = JSON.parse(plain.stdout) as Record<string, unknown>;
    expect(Object.keys(p).sort()).toEqual(['delivery', 'id', 'signatures', 'stations', 'topics', 'type']);
    expect(p).toMatchObject({ type: 'announce', stations: ['st-c'], topics: [T.stationCmd('st-c')], signatures: ['office'], delivery: null });

    const started = Date.now();
    const waited = await loa(['announce', join(dir, 'tone.wav'), '--to', 'st-c', '--wait', '1', '--json']);
    expect(waited.code, waited.stderr).toBe(3);
    expect(Date.now() - started).toBeLessThan(15_000);
    const w = JSON.parse(waited.stdout) as Record<string, unknown> & { delivery: Record<string, unknown> };
    expect(Object.keys(w).sort()).toEqual(Object.keys(p).sort());
    expect(w).toMatchObject({ type: 'announce', stations: ['st-c'], topics: [T.stationCmd('st-c')], signatures: ['office'] });
    expect(w.id).not.toBe(p.id);
    expect(Object.keys(w.delivery).sort()).toEqual(['acks', 'delivered', 'notDelivered', 'waitedSec']);
    expect(w.delivery).toMatchObject({ waitedSec: 1, delivered: [], notDelivered: ['st-c'], acks: [{ station: 'st-c', state: 'none' }] });
  });
});

describe('loa collect', () => {
  it('exits within 5 s of SIGTERM while its broker is unreachable', async () => {
    const col = collector!;
    try {
      await broker.kill9();
      await until('the collector to notice the broker is gone', () => /collector offline/.test(col.log()), 10_000);
      // Let it sit in its reconnect loop (a reconnect every second) before asking it to stop.
      await new Promise((r) => setTimeout(r, 1_000));
      const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((res) => col.child.once('exit', (code, signal) => res({ code, signal })));
      const t0 = Date.now();
      col.child.kill('SIGTERM');
      const result = await Promise.race([exited, new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), 10_000))]);
      const tookMs = Date.now() - t0;
      expect(result, col.log().slice(-2000)).not.toBe('timeout');
      expect(tookMs).toBeLessThan(5_000);
      expect(result).toEqual({ code: 0, signal: null });
      expect(col.log()).toContain('collector stopped');
    } finally {
      if (col.child.exitCode === null && col.child.signalCode === null) col.child.kill('SIGKILL');
      await broker.restart();
    }
  });
});

describe('central maintenance commands', () => {
  it('loa media gc clears the retained clip only an old broadcast used; --dry-run clears nothing; a clip of a recent broadcast stays', async () => {
    const oldClip = await tone('old.wav', 523);
    const newClip = await tone('new.wav', 659);
    const old = await announceJson([oldClip, '--to', 'st-a', '--title', 'old']);
    const recent = await announceJson([newClip, '--to', 'st-a', '--title', 'recent']);
    const rw = new Database(dbPath);
    let oldSha: string;
    let newSha: string;
    try {
      rw.pragma('busy_timeout = 5000');
      const shaOf = (id: string) =>
        (JSON.parse((rw.prepare('SELECT envelope FROM broadcasts WHERE id = ?').get(id) as { envelope: string }).envelope) as { body: { audio: { sha256: string } } }).body.audio
          .sha256;
      oldSha = shaOf(old.id);
      newSha = shaOf(recent.id);
      expect(oldSha).not.toBe(newSha);
      const monthAgo = Date.now() - 30 * DAY_MS;
      expect(rw.prepare('UPDATE broadcasts SET created_at = ?, sent_at = ?, planned_at = ? WHERE id = ?').run(monthAgo, monthAgo, monthAgo, old.id).changes).toBe(1);
      // Both clips published a month ago: only the recent broadcast's reference keeps the second.
      expect(rw.prepare('UPDATE media SET published_at = ? WHERE sha256 IN (?, ?)').run(monthAgo, oldSha, newSha).changes).toBe(2);
    } finally {
      rw.close();
    }
    expect(await retainedAmong([oldSha], newSha)).toEqual(new Set([oldSha, newSha]));

    const dry = await loa(['media', 'gc', '--json', '--dry-run']);
    expect(dry.code, dry.stderr).toBe(0);
    expect(JSON.parse(dry.stdout)).toMatchObject({ dryRun: true, cleared: [oldSha] });
    expect(await retainedAmong([oldSha], newSha)).toEqual(new Set([oldSha, newSha]));
    expect((db.prepare('SELECT cleared_at FROM media WHERE sha256 = ?').get(oldSha) as { cleared_at: number | null }).cleared_at).toBeNull();

    const gc = await loa(['media', 'gc', '--json']);
    expect(gc.code, gc.stderr).toBe(0);
    const out = JSON.parse(gc.stdout) as { dryRun: boolean; cleared: string[]; kept: number };
    expect(out).toMatchObject({ dryRun: false, cleared: [oldSha] });
    expect(out.kept).toBeGreaterThanOrEqual(1);
    expect(await retainedAmong([oldSha], newSha)).toEqual(new Set([newSha]));
    expect((db.prepare('SELECT cleared_at FROM media WHERE sha256 = ?').get(oldSha) as { cleared_at: number | null }).cleared_at).not.toBeNull();
  });

  it('loa db prune --older-than 400d deletes only acks received before then; 0 and abc are usage errors', async () => {
    const rw = new Database(dbPath);
    const dbId = newDbId();
    try {
      rw.pragma('busy_timeout = 5000');
      const cols = (rw.prepare('PRAGMA table_info(acks)').all() as { name: string }[]).map((c) => c.name);
      const template = rw.prepare('SELECT * FROM acks LIMIT 1').get() as Record<string, unknown> | undefined;
      expect(template, 'an ack row to copy').toBeDefined();
      const insert = rw.prepare(`INSERT INTO acks (${cols.join(', ')}) VALUES (${cols.map((c) => `@${c}`).join(', ')})`);
      insert.run({ ...template, station: 'st-a', db: dbId, seq: 1, received_at: Date.now() - 500 * DAY_MS });
      insert.run({ ...template, station: 'st-a', db: dbId, seq: 2, received_at: Date.now() - 1_000 });
    } finally {
      rw.close();
    }
    expect(ackRows('st-a', dbId).map((r) => r.seq)).toEqual([1, 2]);
    const before = (db.prepare('SELECT COUNT(*) AS n FROM acks').get() as { n: number }).n;

    const r = await loa(['db', 'prune', '--older-than', '400d', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as { olderThanDays: number; deleted: Record<string, number> };
    expect(out.olderThanDays).toBe(400);
    expect(out.deleted.acks).toBe(1);
    expect(ackRows('st-a', dbId).map((r) => r.seq)).toEqual([2]);
    expect((db.prepare('SELECT COUNT(*) AS n FROM acks').get() as { n: number }).n).toBe(before - 1);

    for (const bad of ['0', 'abc']) {
      const u = await loa(['db', 'prune', '--older-than', bad, '--json']);
      expect(u.code, `--older-than ${bad}: ${u.stderr}`).toBe(2);
      expect(u.stderr).toContain('--older-than');
    }
    expect(ackRows('st-a', dbId).map((r) => r.seq)).toEqual([2]);
  });
});
