// The central store in SQLite: the embedded default (one file, one machine). WAL with
// synchronous=FULL: a receipt lets a station forget an ack, so the commit it confirms must
// survive a power cut. better-sqlite3 is synchronous; its calls are wrapped in Promises and
// serialised, so one transaction never interleaves with another caller's statement.
import { chmodSync, existsSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { CENTRAL_SCHEMA_VERSION, planMigration } from './central-schema.js';
import { ACK_INSERT_COLUMNS, type AckInsert, type Q, SqlCentralStore } from './central-sql.js';
import type { CentralStore } from './central-store.js';
import { ensureGroupDir } from './secret-files.js';

export { CENTRAL_SCHEMA_VERSION } from './central-schema.js';
export type { AckRow, AckWrite, BroadcastRow, CentralStore } from './central-store.js';

type DB = Database.Database;

const INSERT_ACK = `INSERT INTO acks (${ACK_INSERT_COLUMNS.join(', ')}) VALUES (${ACK_INSERT_COLUMNS.map(() => '?').join(', ')}) ON CONFLICT (station, db, seq) DO NOTHING`;

export class SqliteCentralStore extends SqlCentralStore {
  readonly kind = 'sqlite' as const;
  readonly db: DB;
  private readonly statements = new Map<string, Database.Statement>();
  private chain: Promise<unknown> = Promise.resolve();
  /** Statements inside a transaction (the lock is already held). */
  private readonly inTx: Q;
  protected readonly q: Q;

  constructor(path: string, opts: { readonly?: boolean } = {}) {
    super();
    // Shared by the collector and every official of the office (their group), nobody else.
    if (!opts.readonly) ensureGroupDir(dirname(path));
    const fresh = !existsSync(path);
    this.db = new Database(path);
    if (fresh) chmodSync(path, 0o660);
    this.db.pragma('journal_mode = WAL');
    // FULL: a receipt lets a station forget an ack, so the commit it confirms must survive a
    // power cut (WAL with NORMAL may lose the last transactions).
    this.db.pragma('synchronous = FULL');
    this.db.pragma('busy_timeout = 5000');
    migrate(this.db);
    this.inTx = {
      all: async <T>(sql: string, params: readonly unknown[] = []) => this.prepare(sql).all(...params) as T[],
      get: async <T>(sql: string, params: readonly unknown[] = []) => this.prepare(sql).get(...params) as T | undefined,
      run: async (sql: string, params: readonly unknown[] = []) => this.prepare(sql).run(...params).changes,
    };
    this.q = {
      all: <T>(sql: string, params: readonly unknown[] = []) => this.locked(() => this.prepare(sql).all(...params) as T[]),
      get: <T>(sql: string, params: readonly unknown[] = []) => this.locked(() => this.prepare(sql).get(...params) as T | undefined),
      run: (sql: string, params: readonly unknown[] = []) => this.locked(() => this.prepare(sql).run(...params).changes),
    };
  }

  private prepare(sql: string): Database.Statement {
    let s = this.statements.get(sql);
    if (!s) {
      s = this.db.prepare(sql);
      this.statements.set(sql, s);
    }
    return s;
  }

  /** One caller at a time on this connection: a statement must not land inside someone else's transaction. */
  private locked<T>(fn: () => T | Promise<T>): Promise<T> {
    const r = this.chain.then(fn);
    this.chain = r.catch(() => undefined);
    return r;
  }

  protected tx<T>(fn: (q: Q) => Promise<T>): Promise<T> {
    return this.locked(async () => {
      this.db.exec('BEGIN IMMEDIATE');
      try {
        const r = await fn(this.inTx);
        this.db.exec('COMMIT');
        return r;
      } catch (e) {
        if (this.db.inTransaction) this.db.exec('ROLLBACK');
        throw e;
      }
    });
  }

  protected async insertAcks(_q: Q, rows: AckInsert[]): Promise<boolean[]> {
    const insert = this.prepare(INSERT_ACK);
    return rows.map((r) => insert.run(...r.values).changes === 1);
  }

  protected async storedAckJson(_q: Q, rows: AckInsert[]): Promise<Map<string, string>> {
    const get = this.prepare('SELECT json FROM acks WHERE station = ? AND db = ? AND seq = ?');
    const out = new Map<string, string>();
    for (const r of rows) {
      const row = get.get(r.ack.station, r.ack.db, r.ack.seq) as { json: string } | undefined;
      if (row) out.set(r.key, row.json);
    }
    return out;
  }

  async close(): Promise<void> {
    await this.locked(() => this.db.close());
  }
}

/**
 * Bring a central database file to CENTRAL_SCHEMA_VERSION (PRAGMA user_version), with the plan
 * both stores share. v1 (user_version 0) keyed acks by (station, seq) with seqs from the
 * station's creation time; v2 adds the station store id. v1 rows keep their seqs under db
 * "0000000000000000" (v2 store ids are random 64-bit values).
 */
function migrate(db: DB): void {
  const version = db.pragma('user_version', { simple: true }) as number;
  if (version === CENTRAL_SCHEMA_VERSION) return;
  db.transaction(() => {
    const hasAcks = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'acks'").get() !== undefined;
    const hasDb = hasAcks && (db.prepare('PRAGMA table_info(acks)').all() as { name: string }[]).some((c) => c.name === 'db');
    for (const sql of planMigration(version, 'sqlite', { legacyAcks: version === 0 && hasAcks && !hasDb })) db.exec(sql);
    db.pragma(`user_version = ${CENTRAL_SCHEMA_VERSION}`);
  })();
}

/**
 * The name callers knew: as a type, any central store (SQLite or PostgreSQL); as a value, the
 * SQLite store (`new CentralDb(path)`). Open the fleet's store with openCentralStore(fleet).
 */
export type CentralDb = CentralStore;
export const CentralDb = SqliteCentralStore;
