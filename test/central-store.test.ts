// The central store contract, run on both stores: a SQLite file and a real PostgreSQL database
// (127.0.0.1:5432, a database of this test's own, dropped at the end). Same calls, same answers.
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SqlConsoleStore } from '../console/server/console-store.js';
import { CENTRAL_SCHEMA_VERSION } from '../controller-cli/central-schema.js';
import { type CentralStore, openCentralStore } from '../controller-cli/central-store.js';
import { type Ack, MAX_SEQ_AHEAD_MS, PROTOCOL_VERSION, type SignedEnvelope, type StationState } from '../protocol/index.js';
import { createTestDatabase, type TestDatabase } from '../support/postgres.js';
import { cleanupTempDirs, tempDir } from '../support/tmp.js';

const DAY = 86_400_000;
const dir = tempDir('loa-central-store-');
const dbs: TestDatabase[] = [];

afterAll(async () => {
  for (const d of dbs) await d.drop();
  cleanupTempDirs();
});

function ack(station: string, db: string, seq: number, extra: Partial<Ack> = {}): Ack {
  return {
    v: PROTOCOL_VERSION,
    type: 'ack',
    id: `${station}:${db}:${seq}`,
    station,
    db,
    seq,
    epoch: 1,
    state: 'started',
    commandId: 'ann-1',
    broadcastId: 'ann-1',
    zones: ['main'],
    at: '2026-01-05T00:00:03.000Z',
    historical: false,
    ...extra,
  };
}

const state = (station: string, online: boolean, epoch = 1): StationState => ({ v: 1, type: 'state', station, online, epoch }) as StationState;
const newDb = () => randomBytes(8).toString('hex');

type Kind = 'sqlite' | 'postgres';
const where = new Map<Kind, () => Promise<string>>([
  ['sqlite', async () => join(dir, `central-${randomBytes(4).toString('hex')}.sqlite`)],
  [
    'postgres',
    async () => {
      const d = await createTestDatabase('loa_store');
      dbs.push(d);
      return d.url;
    },
  ],
]);

describe.each(['sqlite', 'postgres'] as const)('central store on %s', (kind) => {
  let database: string;
  let store: CentralStore;
  beforeAll(async () => {
    database = await where.get(kind)!();
    store = await openCentralStore({ database });
  });
  afterAll(async () => {
    await store?.close();
  });

  it('opens at the current schema version, and opening again changes nothing', async () => {
    expect(store.kind).toBe(kind);
    const again = await openCentralStore({ database });
    await again.close();
    if (kind === 'sqlite') {
      const raw = new Database(database, { readonly: true });
      expect(raw.pragma('user_version', { simple: true })).toBe(CENTRAL_SCHEMA_VERSION);
      raw.close();
    } else {
      const d = dbs.find((x) => x.url === database)!;
      expect(await d.query('SELECT version FROM loa_schema')).toEqual([{ version: CENTRAL_SCHEMA_VERSION }]);
      const idx = await d.query<{ indexname: string }>("SELECT indexname FROM pg_indexes WHERE tablename = 'acks' ORDER BY indexname");
      expect(idx.map((r) => r.indexname)).toEqual(expect.arrayContaining(['acks_broadcast', 'acks_command', 'acks_received', 'acks_station_received']));
    }
  });

  it("the console's accounts and audit log: upsert, filters by account, action prefix and time, newest first", async () => {
    const c = new SqlConsoleStore(store);
    const user = {
      name: 'ward.an',
      role: 'ward' as const,
      stations: ['hoi-an'],
      groups: [],
      key: null,
      sealedKey: null,
      passwordHash: 'h1',
      disabled: false,
      createdAt: 1,
      updatedAt: 1,
    };
    await c.putUser(user);
    await c.putUser({ ...user, passwordHash: 'h2', disabled: true, updatedAt: 2 });
    await c.putUser({ ...user, name: 'chair', role: 'approver' });
    expect(await c.user('ward.an')).toEqual({ ...user, passwordHash: 'h2', disabled: true, updatedAt: 2 });
    expect((await c.users()).map((u) => u.name)).toEqual(['chair', 'ward.an']);
    expect(await c.user('nobody')).toBeUndefined();
    const entry = { user: 'ward.an', role: 'ward' as const, ip: '127.0.0.1', target: 'hoi-an', outcome: 'ok' as const, detail: null };
    await c.appendAudit({ ...entry, at: 1000, action: 'schedule.push' });
    await c.appendAudit({ ...entry, at: 2000, action: 'announce' });
    await c.appendAudit({ ...entry, at: 3000, action: 'schedule.check', user: 'chair', role: 'approver' });
    expect((await c.audit({})).map((e) => [e.at, e.action, e.user])).toEqual([
      [3000, 'schedule.check', 'chair'],
      [2000, 'announce', 'ward.an'],
      [1000, 'schedule.push', 'ward.an'],
    ]);
    expect((await c.audit({ action: 'schedule.' })).map((e) => e.at)).toEqual([3000, 1000]);
    expect((await c.audit({ user: 'ward.an', from: 1500 })).map((e) => e.action)).toEqual(['announce']);
    expect((await c.audit({ limit: 1 })).map((e) => e.at)).toEqual([3000]);
    expect(typeof (await c.audit({}))[0]!.id).toBe('number');
  });

  it('ingest is idempotent; a different re-send is a conflict, kept; a historical replay is a duplicate', async () => {
    const D = newDb();
    const first = ack('st-a', D, 1);
    expect(await store.ingest([{ kind: 'ack', value: first, at: 1000 }])).toEqual(['new']);
    expect(await store.writeAck({ ...first, historical: true }, 2000)).toBe('duplicate');
    expect(await store.writeAck({ ...first, state: 'completed' }, 3000)).toBe('conflict');
    // In one batch: the same key twice, identical then different, after a new one.
    const two = ack('st-a', D, 2);
    expect(
      await store.ingest([
        { kind: 'ack', value: two, at: 4000 },
        { kind: 'ack', value: { ...two, historical: true }, at: 4000 },
        { kind: 'ack', value: { ...two, state: 'failed', reason: 'x' }, at: 4000 },
      ]),
    ).toEqual(['new', 'duplicate', 'conflict']);
    const rows = (await store.acksFor('ann-1')).filter((r) => r.station === 'st-a');
    expect(rows.map((r) => [r.seq, r.state, typeof r.received_at])).toEqual([
      [1, 'started', 'number'],
      [2, 'started', 'number'],
    ]);
    const conflicts = (await store.conflicts()).filter((c) => c.db === D);
    expect(conflicts.map((c) => [c.seq, JSON.parse(c.json).state, JSON.parse(c.stored_json).state])).toEqual([
      [1, 'completed', 'started'],
      [2, 'failed', 'started'],
    ]);
    expect((await store.conflictCounts()).get('st-a')).toBe(2);
  });

  it('state history records transitions only; onlineAt answers from it; telemetry and state feed stationRows', async () => {
    await store.ingest([
      { kind: 'state', value: state('st-s', true), at: 10_000 },
      { kind: 'state', value: state('st-s', true), at: 11_000 },
      { kind: 'state', value: state('st-s', false), at: 12_000 },
      { kind: 'state', value: state('st-s', true, 2), at: 13_000 },
    ]);
    expect(await store.onlineAt('st-s', 9_000)).toBeUndefined();
    expect(await store.onlineAt('st-s', 11_500)).toBe(true);
    expect(await store.onlineAt('st-s', 12_500)).toBe(false);
    expect(await store.onlineAt('st-s', 99_000)).toBe(true);
    await store.writeTelemetry(
      {
        v: 1,
        type: 'telemetry',
        station: 'st-s',
        epoch: 2,
        at: new Date(14_000).toISOString(),
        nowPlaying: [],
        queue: 0,
        zones: [],
        diskFreeBytes: 5_000_000_000,
        cacheBytes: 0,
        ffmpegOk: true,
        scheduleVersion: 7,
        outboxDepth: 0,
      },
      14_000,
    );
    await store.writeAck(ack('st-s', newDb(), 5), 15_000);
    const r = await store.stationRows();
    expect(r.state.get('st-s')).toMatchObject({ online: 1, epoch: 2, received_at: 13_000 });
    expect(r.telemetry.get('st-s')?.received_at).toBe(14_000);
    expect(r.lastAck.get('st-s')).toBe(15_000);
    expect(await store.appliedVersion('st-s')).toBe(7);
  });

  it('nextSeq rises by one, follows the clock, never runs more than half the window ahead; two stores never share a seq', async () => {
    const now = Date.UTC(2026, 0, 5);
    const a = await store.nextSeq('office', now);
    expect(a).toBe(now);
    expect(await store.nextSeq('office', now)).toBe(now + 1);
    expect(await store.nextSeq('office', now + 10_000)).toBe(now + 10_000);
    // The clock stepped back a long way: seqs restart near the new time, not ahead of it.
    const back = now - MAX_SEQ_AHEAD_MS * 2;
    expect(await store.nextSeq('office', back)).toBe(back + MAX_SEQ_AHEAD_MS / 2);
    const other = await openCentralStore({ database });
    try {
      const seqs = await Promise.all(Array.from({ length: 40 }, (_, i) => (i % 2 ? store : other).nextSeq('deputy', now)));
      expect(new Set(seqs).size).toBe(40);
      expect(Math.max(...seqs)).toBe(now + 39);
    } finally {
      await other.close();
    }
  });

  it('broadcasts, drafts, pushed schedules and media round-trip', async () => {
    const row = {
      id: 'alert-x',
      type: 'alert',
      status: 'draft',
      created_at: 50_000,
      sent_at: null,
      planned_at: null,
      title: 'Bão',
      priority: 'emergency',
      test: 0,
      stations: '["st-a"]',
      envelope: '{"sigs":[]}',
    };
    await store.saveBroadcast(row);
    expect((await store.drafts()).map((b) => b.id)).toContain('alert-x');
    await store.saveBroadcast({ ...row, status: 'sent', sent_at: 60_000 });
    expect(await store.broadcast('alert-x')).toEqual({ ...row, status: 'sent', sent_at: 60_000 });
    expect((await store.broadcasts(0, 100_000)).map((b) => b.id)).toEqual(['alert-x']);
    const env = { id: 'sched-1' } as unknown as SignedEnvelope;
    for (let v = 1; v <= 12; v++) await store.recordPushed('st-p', v, '[]', env, v * 1000);
    expect(await store.lastPushedVersion('st-p')).toBe(12);
    expect((await store.lastPushed('st-p'))?.version).toBe(12);
    expect((await store.stationRows()).desired.get('st-p')).toBe(12);
    await store.recordMedia('a'.repeat(64), 10, 1000);
    await store.markMediaCleared('a'.repeat(64), 2000);
    expect((await store.publishedMedia()).map((m) => m.sha256)).not.toContain('a'.repeat(64));
    await store.recordMedia('a'.repeat(64), 10, 3000);
    expect(await store.publishedMedia()).toContainEqual({ sha256: 'a'.repeat(64), bytes: 10, published_at: 3000 });
  });

  it('prune deletes what is older than the cut-off, keeps newer rows and the last 10 schedules per station', async () => {
    const D = newDb();
    const old = Date.now() - 500 * DAY;
    await store.ingest([
      { kind: 'ack', value: ack('st-r', D, 1), at: old },
      { kind: 'ack', value: ack('st-r', D, 2), at: Date.now() },
      { kind: 'state', value: state('st-r', true), at: old },
      { kind: 'state', value: state('st-r', false), at: Date.now() },
    ]);
    const r = await store.prune(Date.now() - 400 * DAY);
    expect(r.acks).toBeGreaterThanOrEqual(1);
    expect(r.pushedSchedules).toBe(2); // st-p versions 1 and 2 of 12
    expect((await store.acksFor('ann-1')).filter((a) => a.station === 'st-r').map((a) => a.seq)).toEqual([2]);
    expect(await store.lastPushedVersion('st-p')).toBe(12);
    expect(await store.onlineAt('st-r', Date.now())).toBe(false);
  });
});

describe('PostgreSQL: several writers at once', () => {
  it('two stores ingesting the same 3,000 acks in different orders and batches: every ack stored once, new once, no deadlock', async () => {
    const d = await createTestDatabase('loa_store_race');
    dbs.push(d);
    const a = await openCentralStore({ database: d.url });
    const b = await openCentralStore({ database: d.url });
    try {
      const D = newDb();
      const acks = Array.from({ length: 3000 }, (_, i) => ack(`st-${i % 50}`, D, Math.floor(i / 50) + 1));
      const batches = (list: Ack[], size: number) => Array.from({ length: Math.ceil(list.length / size) }, (_, i) => list.slice(i * size, (i + 1) * size));
      const run = async (s: CentralStore, list: Ack[], size: number) => {
        const out: string[] = [];
        for (const batch of batches(list, size)) out.push(...(await s.ingest(batch.map((value) => ({ kind: 'ack' as const, value, at: Date.now() })))));
        return out;
      };
      const [ra, rb] = await Promise.all([run(a, acks, 250), run(b, [...acks].reverse(), 170)]);
      expect(ra.filter((w) => w === 'new').length + rb.filter((w) => w === 'new').length).toBe(3000);
      expect([...ra, ...rb].filter((w) => w === 'conflict')).toEqual([]);
      expect(await d.query('SELECT count(*) AS n, count(DISTINCT (station, db, seq)) AS k FROM acks')).toEqual([{ n: 3000, k: 3000 }]);
      // Both collectors write the same station's state: one history row per transition.
      await Promise.all([a.writeState(state('st-0', true), 1000), b.writeState(state('st-0', true), 1001)]);
      expect(await d.query("SELECT count(*) AS n FROM state_log WHERE station = 'st-0'")).toEqual([{ n: 1 }]);
    } finally {
      await a.close();
      await b.close();
    }
  });

  it('refuses a database whose schema is newer than this loa', async () => {
    const d = await createTestDatabase('loa_store_newer');
    dbs.push(d);
    await (await openCentralStore({ database: d.url })).close();
    await d.query('UPDATE loa_schema SET version = 99');
    await expect(openCentralStore({ database: d.url })).rejects.toThrow(/schema 99 is newer/);
  });
});

describe('SQLite: a version-1 file is migrated on open', () => {
  it('keeps its acks under store id 0000000000000000 and reaches the current version', async () => {
    const file = join(dir, 'v1.sqlite');
    const raw = new Database(file);
    raw.exec(`CREATE TABLE acks (station TEXT NOT NULL, seq INTEGER NOT NULL, epoch INTEGER NOT NULL, state TEXT NOT NULL, command_id TEXT, command_type TEXT,
      broadcast_id TEXT, item_id TEXT, priority TEXT, planned_at TEXT, started_at TEXT, ended_at TEXT, at TEXT NOT NULL, reason TEXT, schedule_version INTEGER,
      test INTEGER NOT NULL DEFAULT 0, historical INTEGER NOT NULL DEFAULT 0, received_at INTEGER NOT NULL, json TEXT NOT NULL, UNIQUE (station, seq))`);
    raw.prepare("INSERT INTO acks (station, seq, epoch, state, broadcast_id, at, received_at, json) VALUES ('st-old', 7, 1, 'completed', 'ann-old', 'x', 1, '{}')").run();
    raw.close();
    const s = await openCentralStore({ database: file });
    try {
      expect((await s.acksFor('ann-old')).map((r) => [r.station, r.seq, (r as unknown as { db: string }).db])).toEqual([['st-old', 7, '0000000000000000']]);
    } finally {
      await s.close();
    }
    const check = new Database(file, { readonly: true });
    expect(check.pragma('user_version', { simple: true })).toBe(CENTRAL_SCHEMA_VERSION);
    check.close();
  });
});

describe('PostgreSQL durability', () => {
  it('every store session commits with synchronous_commit on, even when the server default is off', async () => {
    const d = await createTestDatabase('loa_store_sync');
    dbs.push(d);
    await d.query(`ALTER DATABASE ${d.name} SET synchronous_commit = off`);
    const s = await openCentralStore({ database: d.url });
    try {
      const q = s as unknown as { q: { get<T>(sql: string): Promise<T> } };
      expect(await q.q.get('SHOW synchronous_commit')).toEqual({ synchronous_commit: 'on' });
    } finally {
      await s.close();
    }
  });
});
