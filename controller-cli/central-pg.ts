// The central store in PostgreSQL: several collectors (on several machines) write one
// database. Same queries and schema as SQLite (central-sql.ts, central-schema.ts); ingest
// inserts a whole batch of acks in one statement. synchronous_commit stays on (set per
// session, whatever the server default), so a COMMIT that returned is on disk before any
// receipt goes out.
import pg from 'pg';
import type { StationState, Telemetry } from '../protocol/index.js';
import { CENTRAL_SCHEMA_VERSION, planMigration } from './central-schema.js';
import { ACK_INSERT_COLUMNS, type AckInsert, type Q, SqlCentralStore } from './central-sql.js';

const INT8_OID = 20;
/** Ids of the acks table's columns that are integers (BIGINT), for the unnest() casts. */
const INT_COLUMNS = new Set(['seq', 'epoch', 'schedule_version', 'test', 'historical', 'received_at']);
/** pg_advisory_xact_lock key: one migration at a time across every collector and CLI. */
const MIGRATION_LOCK = 0x4c6f6131; // "Loa1"

/** `?` → `$1, $2, …` (no SQL here has a `?` inside a string literal). */
const numbered = new Map<string, string>();
function toPg(sql: string): string {
  let out = numbered.get(sql);
  if (out === undefined) {
    let n = 0;
    out = sql.replace(/\?/g, () => `$${++n}`);
    numbered.set(sql, out);
  }
  return out;
}

function queryable(c: pg.Pool | pg.PoolClient): Q {
  return {
    all: async <T>(sql: string, params: readonly unknown[] = []) => (await c.query(toPg(sql), params as unknown[])).rows as T[],
    get: async <T>(sql: string, params: readonly unknown[] = []) => (await c.query(toPg(sql), params as unknown[])).rows[0] as T | undefined,
    run: async (sql: string, params: readonly unknown[] = []) => (await c.query(toPg(sql), params as unknown[])).rowCount ?? 0,
  };
}

const INSERT_ACKS = `INSERT INTO acks (${ACK_INSERT_COLUMNS.join(', ')})
  SELECT * FROM unnest(${ACK_INSERT_COLUMNS.map((c, i) => `$${i + 1}::${INT_COLUMNS.has(c) ? 'bigint' : 'text'}[]`).join(', ')})
  ON CONFLICT (station, db, seq) DO NOTHING RETURNING station, db, seq`;

const STORED_ACKS = `SELECT a.station, a.db, a.seq, a.json FROM acks a
  JOIN unnest($1::text[], $2::text[], $3::bigint[]) AS k (station, db, seq) ON a.station = k.station AND a.db = k.db AND a.seq = k.seq`;

export class PgCentralStore extends SqlCentralStore {
  readonly kind = 'postgres' as const;
  protected readonly q: Q;

  private constructor(private readonly pool: pg.Pool) {
    super();
    this.q = queryable(pool);
  }

  static async open(url: string, opts: { password?: string; poolSize?: number } = {}): Promise<PgCentralStore> {
    const pool = new pg.Pool({
      connectionString: url,
      ...(opts.password !== undefined ? { password: opts.password } : {}),
      max: opts.poolSize ?? 4,
      connectionTimeoutMillis: 10_000,
      idleTimeoutMillis: 30_000,
      application_name: 'loa',
      // Durable commits whatever the server's default: a receipt follows only a commit on disk.
      options: '-c synchronous_commit=on',
      // BIGINT (times in ms, seqs, counts) as numbers: every value fits in 2^53.
      types: { getTypeParser: ((oid: number, format?: string) => (oid === INT8_OID ? Number : pg.types.getTypeParser(oid, format as 'text'))) as typeof pg.types.getTypeParser },
    });
    // An idle connection dropped by a server restart must not end the process; the next query reconnects.
    pool.on('error', () => undefined);
    const store = new PgCentralStore(pool);
    try {
      await store.migrate();
    } catch (e) {
      await pool.end().catch(() => undefined);
      throw e;
    }
    return store;
  }

  private migrate(): Promise<void> {
    return this.tx(async (q) => {
      await q.get('SELECT pg_advisory_xact_lock(?)', [MIGRATION_LOCK]);
      await q.run('CREATE TABLE IF NOT EXISTS loa_schema (version INTEGER NOT NULL)');
      const row = await q.get<{ version: number }>('SELECT version FROM loa_schema');
      const from = row?.version ?? 0;
      if (from === CENTRAL_SCHEMA_VERSION) return;
      for (const sql of planMigration(from, 'postgres', { legacyAcks: false })) await q.run(sql);
      if (row) await q.run('UPDATE loa_schema SET version = ?', [CENTRAL_SCHEMA_VERSION]);
      else await q.run('INSERT INTO loa_schema (version) VALUES (?)', [CENTRAL_SCHEMA_VERSION]);
    });
  }

  protected async tx<T>(fn: (q: Q) => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    try {
      await client.query('BEGIN');
      const r = await fn(queryable(client));
      await client.query('COMMIT');
      client.release();
      return r;
    } catch (e) {
      try {
        await client.query('ROLLBACK');
        client.release();
      } catch {
        client.release(true);
      }
      throw e;
    }
  }

  protected async insertAcks(q: Q, rows: AckInsert[]): Promise<boolean[]> {
    const columns = ACK_INSERT_COLUMNS.map((_, i) => rows.map((r) => r.values[i]));
    const inserted = new Set((await q.all<{ station: string; db: string; seq: number }>(INSERT_ACKS, columns)).map((r) => `${r.station}\u0000${r.db}\u0000${r.seq}`));
    return rows.map((r) => inserted.has(r.key));
  }

  protected async storedAckJson(q: Q, rows: AckInsert[]): Promise<Map<string, string>> {
    const found = await q.all<{ station: string; db: string; seq: number; json: string }>(STORED_ACKS, [
      rows.map((r) => r.ack.station),
      rows.map((r) => r.ack.db),
      rows.map((r) => r.ack.seq),
    ]);
    return new Map(found.map((r) => [`${r.station}\u0000${r.db}\u0000${r.seq}`, r.json]));
  }

  /**
   * A batch of states in three statements instead of three per state: the rows of station_state
   * (locked in station order, as every collector does, so two never deadlock), then the last
   * logged online value of each station, then the transitions, in arrival order.
   */
  protected override async statesIn(q: Q, states: { value: StationState; at: number }[]): Promise<void> {
    const perStation = new Map<string, { value: StationState; at: number }[]>();
    for (const s of states) {
      const list = perStation.get(s.value.station);
      if (list) list.push(s);
      else perStation.set(s.value.station, [s]);
    }
    const stations = [...perStation.keys()];
    const last = stations.map((st) => perStation.get(st)!.at(-1)!);
    // What a sequence of single upserts would leave: the last state, with the last schedule version any of them named.
    const version = stations.map((st) => perStation.get(st)!.reduce<number | null>((v, s) => s.value.scheduleVersion ?? v, null));
    await q.run(
      `INSERT INTO station_state (station, online, epoch, schedule_version, received_at, json)
       SELECT * FROM unnest($1::text[], $2::bigint[], $3::bigint[], $4::bigint[], $5::bigint[], $6::text[])
       ON CONFLICT (station) DO UPDATE SET online = excluded.online, epoch = excluded.epoch,
       schedule_version = COALESCE(excluded.schedule_version, station_state.schedule_version), received_at = excluded.received_at, json = excluded.json`,
      [stations, last.map((s) => (s.value.online ? 1 : 0)), last.map((s) => s.value.epoch), version, last.map((s) => s.at), last.map((s) => JSON.stringify(s.value))],
    );
    const logged = new Map(
      (
        await q.all<{ station: string; online: number }>(
          'SELECT DISTINCT ON (station) station, online FROM state_log WHERE station = ANY($1::text[]) ORDER BY station, at DESC, rowid DESC',
          [stations],
        )
      ).map((r) => [r.station, r.online]),
    );
    const rows: { station: string; online: number; at: number }[] = [];
    for (const [station, list] of perStation) {
      let prev = logged.get(station);
      for (const s of list) {
        const online = s.value.online ? 1 : 0;
        if (prev !== online) rows.push({ station, online, at: s.at });
        prev = online;
      }
    }
    if (rows.length)
      await q.run('INSERT INTO state_log (station, online, at) SELECT * FROM unnest($1::text[], $2::bigint[], $3::bigint[])', [
        rows.map((r) => r.station),
        rows.map((r) => r.online),
        rows.map((r) => r.at),
      ]);
  }

  /** The last telemetry of each station in the batch, in one statement. */
  protected override async telemetriesIn(q: Q, telemetry: { value: Telemetry; at: number }[]): Promise<void> {
    const last = new Map<string, { value: Telemetry; at: number }>();
    for (const m of telemetry) last.set(m.value.station, m);
    const list = [...last.values()];
    await q.run(
      `INSERT INTO telemetry (station, at, received_at, json) SELECT * FROM unnest($1::text[], $2::text[], $3::bigint[], $4::text[])
       ON CONFLICT (station) DO UPDATE SET at = excluded.at, received_at = excluded.received_at, json = excluded.json`,
      [list.map((m) => m.value.station), list.map((m) => m.value.at), list.map((m) => m.at), list.map((m) => JSON.stringify(m.value))],
    );
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}
