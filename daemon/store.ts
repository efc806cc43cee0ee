import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, renameSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import type BetterSqlite3 from 'better-sqlite3';
import type { Ack, AudioRef, Priority, ScheduleBody, StoreReset } from '../protocol/index.js';

// CommonJS packages are loaded with require: importing them from ESM makes Node analyse their
// source for named exports, which costs a resident station memory it never gives back.
const Database = createRequire(import.meta.url)('better-sqlite3') as typeof BetterSqlite3;

/** What the engine needs to air one broadcast; persisted so a restart resumes it. */
export interface JobSpec {
  title: string;
  audio: AudioRef;
  volume?: number;
  chime: boolean;
  repeat: number;
  gapSec: number;
  maxDurationSec?: number;
  policy: 'interrupt' | 'wait';
  maxDelaySec: number;
  test?: boolean;
}

export type JobState = 'pending' | 'playing' | 'completed' | 'failed' | 'preempted' | 'cancelled' | 'missed';

export interface JobRow {
  key: string;
  commandId: string;
  commandType: 'schedule' | 'announce' | 'alert';
  itemId?: string;
  priority: Priority;
  zones: string[];
  readyAt: number;
  enqueuedAt: number;
  spec: JobSpec;
  state: JobState;
}

export interface AsRunRow {
  broadcastId: string;
  itemId?: string;
  title: string;
  zone: string;
  priority: Priority;
  plannedAt: number;
  startedAt?: number;
  endedAt?: number;
  outcome: string;
  sha256?: string;
  reason?: string;
  file?: string;
  test?: boolean;
}

export interface OutboxRow {
  seq: number;
  ack: Omit<Ack, 'historical'>;
  sent: boolean;
}

export interface HeldCommand {
  id: string;
  raw: string;
  topic: string;
  heldAt: number;
  until: number;
}

/**
 * The store could not write (disk full, read-only file system, I/O error, corruption). Callers
 * that must not confirm anything unstored (the inbound PUBACK) let it propagate.
 */
export class StoreFailure extends Error {
  override name = 'StoreFailure';
  constructor(
    readonly code: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** Errors from SQLite itself, as opposed to a bug in the code around it. */
export function isStoreError(e: unknown): boolean {
  if (e instanceof StoreFailure) return true;
  const code = (e as { code?: unknown })?.code;
  if (typeof code !== 'string') return false;
  // SQLITE_CONSTRAINT and friends are our bugs; these are the store failing under us.
  return /^SQLITE_(FULL|IOERR|READONLY|CANTOPEN|CORRUPT|NOTADB|BUSY|LOCKED|NOMEM|PROTOCOL|PERM|AUTH)/.test(code) || ['ENOSPC', 'EROFS', 'EIO'].includes(code);
}

const CORRUPTION = /^SQLITE_(CORRUPT|NOTADB)/;

/** Schema version this code writes; opening an older file migrates it. */
const SCHEMA_VERSION = 2;

/**
 * The station's durable memory: replay state, the applied schedule, pending jobs, the ack
 * outbox and the as-run log. synchronous=FULL because a ward box loses power, not just processes.
 *
 * Writes come in two kinds. `tx` throws when the disk refuses: the inbound path uses it, so a
 * command that was not stored is never PUBACKed and the broker keeps it. `durable` never throws
 * for a store failure: what happened on air (started, completed, a scheduled occurrence) is
 * kept in memory, in order, and written when the store recovers, so a full disk does not stop
 * the speakers and loses no ack.
 */
export class StationStore {
  db: BetterSqlite3.Database;
  /** Set when this process found the previous database unreadable and started a new one. */
  readonly reset: StoreReset | undefined;
  private deferred: { run: () => void; at: number; label: string }[] = [];
  private faultListeners: ((fault: string | undefined) => void)[] = [];
  private lastFault: string | undefined;
  /** While a deferred write replays: the time its event happened. */
  private replayTime: number | undefined;
  /** Deferred writes beyond this are dropped oldest first (counted in droppedDeferred): days of a full disk. */
  static readonly MAX_DEFERRED = 20_000;
  droppedDeferred = 0;

  constructor(
    readonly path: string,
    opts: { readonly?: boolean; now?: () => number } = {},
  ) {
    if (opts.readonly) {
      this.db = new Database(path, { readonly: true, fileMustExist: true });
      this.db.pragma('busy_timeout = 5000');
      this.reset = undefined;
      return;
    }
    if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
    const now = opts.now ?? Date.now;
    try {
      this.db = StationStore.openWritable(path);
      this.reset = undefined;
    } catch (e) {
      const code = (e as { code?: string }).code ?? '';
      if (path === ':memory:' || !(CORRUPTION.test(code) || e instanceof UnreadableStore)) throw e;
      // Keep the bad file for inspection and start afresh: the retained schedule re-applies,
      // the broker still holds undelivered commands, and the new store's random id keeps its
      // ack numbering apart from everything the collector already has.
      const movedTo = `${path}.unreadable-${new Date(now()).toISOString().replace(/[:.]/g, '-')}`;
      renameSync(path, movedTo);
      for (const suffix of ['-wal', '-shm']) {
        if (existsSync(path + suffix)) renameSync(path + suffix, movedTo + suffix);
      }
      this.db = StationStore.openWritable(path);
      this.reset = { at: new Date(now()).toISOString(), reason: `${code || 'unreadable'}: ${(e as Error).message}`.slice(0, 500), movedTo };
      this.setMeta('store_reset', JSON.stringify(this.reset));
    }
  }

  private static openWritable(path: string): BetterSqlite3.Database {
    const db = new Database(path);
    try {
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = FULL');
      db.pragma('busy_timeout = 5000');
      if (path !== ':memory:') {
        const check = db.pragma('quick_check', { simple: true });
        if (check !== 'ok') throw new UnreadableStore(`quick_check: ${String(check).slice(0, 200)}`);
      }
      migrate(db);
      return db;
    } catch (e) {
      db.close();
      throw e;
    }
  }

  close(): void {
    if (this.db.open) this.db.close();
  }

  /**
   * A prepared statement, compiled once per store: the inbound path runs about a dozen per
   * command, and compiling them each time cost more CPU than the rest of the transaction.
   */
  private sql(source: string): BetterSqlite3.Statement {
    let st = this.statements.get(source);
    if (!st) {
      st = this.db.prepare(source);
      this.statements.set(source, st);
    }
    return st;
  }

  private readonly statements = new Map<string, BetterSqlite3.Statement>();

  /** The random id acks are numbered under (see Ack.db). */
  dbId(): string {
    this.dbIdCache ??= this.getMeta('db_id')!;
    return this.dbIdCache;
  }

  private dbIdCache: string | undefined;

  /** A reset found earlier (this run or a previous one) and not yet cleared by an operator (`loa-station doctor --clear-store-reset`). */
  storeReset(): StoreReset | undefined {
    const raw = this.getMeta('store_reset');
    return raw ? (JSON.parse(raw) as StoreReset) : undefined;
  }

  /** A transaction that throws StoreFailure when the store refuses it. */
  tx<T>(fn: () => T): T {
    if (this.deferred.length > 0) throw new StoreFailure('DEFERRED', `store unavailable: ${this.lastFault ?? 'earlier writes are still waiting'}`);
    try {
      return this.db.transaction(fn)();
    } catch (e) {
      if (isStoreError(e)) {
        this.noteFault(e as Error);
        throw e instanceof StoreFailure ? e : new StoreFailure((e as { code?: string }).code ?? 'SQLITE', (e as Error).message, { cause: e });
      }
      throw e;
    }
  }

  /**
   * A transaction that is kept and retried in order if the store refuses it now. Returns the
   * result when it committed at once, undefined when deferred.
   */
  durable<T>(label: string, fn: () => T, at = Date.now()): T | undefined {
    if (this.deferred.length === 0) {
      try {
        return this.db.transaction(fn)();
      } catch (e) {
        if (!isStoreError(e)) throw e;
        this.noteFault(e as Error);
      }
    }
    if (this.deferred.length >= StationStore.MAX_DEFERRED) {
      this.deferred.shift();
      this.droppedDeferred++;
    }
    this.deferred.push({ run: () => void fn(), at, label });
    return undefined;
  }

  /** The time of the event being written: its original time while a deferred write replays. */
  eventTime(now: number): number {
    return this.replayTime ?? now;
  }

  get fault(): string | undefined {
    return this.lastFault;
  }

  get deferredCount(): number {
    return this.deferred.length;
  }

  onFault(fn: (fault: string | undefined) => void): void {
    this.faultListeners.push(fn);
  }

  private noteFault(e: Error): void {
    const code = (e as { code?: string }).code;
    const msg = `${code ?? 'store'}: ${e.message}`.slice(0, 400);
    const changed = this.lastFault === undefined;
    this.lastFault = msg;
    if (changed) this.faultListeners.forEach((f) => f(msg));
  }

  /**
   * Try the store again: a probe write, then every deferred write in order. Returns true when
   * the store is healthy and nothing is left waiting.
   */
  recover(): boolean {
    try {
      this.db.transaction(() => this.setMeta('probe', Date.now()))();
      while (this.deferred.length > 0) {
        const d = this.deferred[0]!;
        this.replayTime = d.at;
        try {
          this.db.transaction(d.run)();
        } finally {
          this.replayTime = undefined;
        }
        this.deferred.shift();
      }
    } catch (e) {
      if (!isStoreError(e)) {
        // A deferred write that fails for another reason would block the queue forever.
        this.deferred.shift();
        throw e;
      }
      this.noteFault(e as Error);
      return false;
    }
    if (this.lastFault !== undefined) {
      this.lastFault = undefined;
      this.faultListeners.forEach((f) => f(undefined));
    }
    return true;
  }

  // ---- meta -------------------------------------------------------------------------------

  getMeta(key: string): string | undefined {
    const row = this.sql('SELECT value FROM meta WHERE key = ?').get(key) as { value: string } | undefined;
    return row?.value;
  }

  setMeta(key: string, value: string | number): void {
    this.sql('INSERT INTO meta(key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value').run(key, String(value));
  }

  /** The connection epoch: +1 per broker connection, so central can order births and wills. */
  nextEpoch(): number {
    const epoch = this.currentEpoch() + 1;
    this.durable('epoch', () => this.setMeta('epoch', Math.max(epoch, Number(this.getMeta('epoch') ?? '0') + 1)));
    this.memEpoch = epoch;
    return epoch;
  }

  private memEpoch = 0;

  currentEpoch(): number {
    return Math.max(this.memEpoch, Number(this.getMeta('epoch') ?? '0'));
  }

  // ---- replay memory ----------------------------------------------------------------------

  seenId(id: string): boolean {
    return this.sql('SELECT 1 FROM commands WHERE id = ?').get(id) !== undefined;
  }

  highestSeq(issuer: string): number | undefined {
    const row = this.sql('SELECT highest_seq FROM issuers WHERE issuer = ?').get(issuer) as { highest_seq: number } | undefined;
    return row?.highest_seq;
  }

  recordCommand(c: { id: string; type: string; issuer: string; seq: number; expiresAt: number; raw: string }, now: number): void {
    this.sql('INSERT OR IGNORE INTO commands(id, type, issuer, seq, received_at, expires_at, raw) VALUES (?, ?, ?, ?, ?, ?, ?)').run(
      c.id,
      c.type,
      c.issuer,
      c.seq,
      now,
      c.expiresAt,
      c.raw,
    );
    this.sql('INSERT INTO issuers(issuer, highest_seq) VALUES (?, ?) ON CONFLICT(issuer) DO UPDATE SET highest_seq = max(highest_seq, excluded.highest_seq)').run(c.issuer, c.seq);
  }

  /** Forget commands long expired: the seq floor and expiry check still reject their replays. */
  pruneCommands(before: number): number {
    return this.sql('DELETE FROM commands WHERE expires_at < ?').run(before).changes;
  }

  // ---- held commands (signed correctly, but not yet valid by this box's clock) -------------

  holdCommand(h: HeldCommand): void {
    this.sql('INSERT OR IGNORE INTO held(id, raw, topic, held_at, until) VALUES (?, ?, ?, ?, ?)').run(h.id, h.raw, h.topic, h.heldAt, h.until);
  }

  heldCommands(): HeldCommand[] {
    return (this.sql('SELECT id, raw, topic, held_at, until FROM held ORDER BY held_at').all() as { id: string; raw: string; topic: string; held_at: number; until: number }[]).map(
      (r) => ({ id: r.id, raw: r.raw, topic: r.topic, heldAt: r.held_at, until: r.until }),
    );
  }

  heldCount(): number {
    return (this.sql('SELECT count(*) AS n FROM held').get() as { n: number }).n;
  }

  releaseHeld(id: string): void {
    this.sql('DELETE FROM held WHERE id = ?').run(id);
  }

  // ---- schedule ---------------------------------------------------------------------------

  currentSchedule(): { version: number; commandId: string; body: ScheduleBody } | undefined {
    const row = this.sql('SELECT version, command_id, body FROM schedules ORDER BY version DESC LIMIT 1').get() as
      | { version: number; command_id: string; body: string }
      | undefined;
    return row ? { version: row.version, commandId: row.command_id, body: JSON.parse(row.body) as ScheduleBody } : undefined;
  }

  saveSchedule(version: number, commandId: string, body: ScheduleBody, now: number): void {
    this.sql('INSERT INTO schedules(version, command_id, body, applied_at) VALUES (?, ?, ?, ?)').run(version, commandId, JSON.stringify(body), now);
    // Keep a short history for diagnosis; the newest is what plays.
    this.sql('DELETE FROM schedules WHERE version NOT IN (SELECT version FROM schedules ORDER BY version DESC LIMIT 10)').run();
  }

  // ---- jobs -------------------------------------------------------------------------------

  /** Insert a job once; returns false if that broadcast key already exists (idempotent). */
  addJob(job: JobRow): boolean {
    const r = this.sql(
      `INSERT OR IGNORE INTO jobs(key, command_id, command_type, item_id, priority, zones, ready_at, enqueued_at, spec, state)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    ).run(job.key, job.commandId, job.commandType, job.itemId ?? null, job.priority, JSON.stringify(job.zones), job.readyAt, job.enqueuedAt, JSON.stringify(job.spec), job.state);
    return r.changes === 1;
  }

  hasJob(key: string): boolean {
    return this.sql('SELECT 1 FROM jobs WHERE key = ?').get(key) !== undefined;
  }

  setJobState(key: string, state: JobState): void {
    this.sql('UPDATE jobs SET state = ? WHERE key = ?').run(state, key);
  }

  getJob(key: string): JobRow | undefined {
    const row = this.sql('SELECT * FROM jobs WHERE key = ?').get(key) as RawJob | undefined;
    return row ? toJob(row) : undefined;
  }

  /** Jobs not yet finished, including ones that were on air when the process died. */
  openJobs(): JobRow[] {
    return (this.sql("SELECT * FROM jobs WHERE state IN ('pending', 'playing') ORDER BY enqueued_at").all() as RawJob[]).map(toJob);
  }

  pruneJobs(before: number): number {
    return this.sql("DELETE FROM jobs WHERE state NOT IN ('pending', 'playing') AND ready_at < ?").run(before).changes;
  }

  // ---- outbox -----------------------------------------------------------------------------

  /** Seqs count from 1 within this store; the store id (Ack.db) tells stores apart. */
  nextAckSeq(): number {
    const seq = Number(this.getMeta('ack_seq') ?? '0') + 1;
    this.setMeta('ack_seq', seq);
    return seq;
  }

  lastAckSeq(): number {
    return Number(this.getMeta('ack_seq') ?? '0');
  }

  putOutbox(seq: number, ack: Omit<Ack, 'historical'>): void {
    this.sql('INSERT INTO outbox(seq, ack, sent) VALUES (?, ?, 0)').run(seq, JSON.stringify(ack));
  }

  /** Rows after `afterSeq`, oldest first: the publisher walks the outbox in batches. */
  outboxAfter(afterSeq: number, limit: number): OutboxRow[] {
    return (this.sql('SELECT seq, ack, sent FROM outbox WHERE seq > ? ORDER BY seq LIMIT ?').all(afterSeq, limit) as { seq: number; ack: string; sent: number }[]).map((r) => ({
      seq: r.seq,
      ack: JSON.parse(r.ack),
      sent: r.sent === 1,
    }));
  }

  outbox(limit = 10_000): OutboxRow[] {
    return this.outboxAfter(0, limit);
  }

  outboxDepth(): number {
    return (this.sql('SELECT count(*) AS n FROM outbox').get() as { n: number }).n;
  }

  markSent(seqs: readonly number[]): void {
    const upd = this.sql('UPDATE outbox SET sent = 1 WHERE seq = ?');
    this.db.transaction(() => seqs.forEach((s) => upd.run(s)))();
  }

  dropOutbox(seqs: readonly number[]): number {
    const del = this.sql('DELETE FROM outbox WHERE seq = ?');
    return this.db.transaction(() => seqs.reduce((n, s) => n + del.run(s).changes, 0))();
  }

  // ---- as-run -----------------------------------------------------------------------------

  addAsRun(r: AsRunRow): void {
    this.sql(
      `INSERT INTO asrun(broadcast_id, item_id, title, zone, priority, planned_at, started_at, ended_at, outcome, sha256, reason, file, test)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    ).run(
      r.broadcastId,
      r.itemId ?? null,
      r.title,
      r.zone,
      r.priority,
      r.plannedAt,
      r.startedAt ?? null,
      r.endedAt ?? null,
      r.outcome,
      r.sha256 ?? null,
      r.reason ?? null,
      r.file ?? null,
      r.test ? 1 : 0,
    );
  }

  asRun(opts: { from?: number; to?: number; limit?: number } = {}): AsRunRow[] {
    const rows = this.sql('SELECT * FROM asrun WHERE planned_at >= ? AND planned_at <= ? ORDER BY planned_at DESC, id DESC LIMIT ?').all(
      opts.from ?? 0,
      opts.to ?? Number.MAX_SAFE_INTEGER,
      opts.limit ?? 100,
    ) as RawAsRun[];
    return rows.map((r) => ({
      broadcastId: r.broadcast_id,
      itemId: r.item_id ?? undefined,
      title: r.title,
      zone: r.zone,
      priority: r.priority as Priority,
      plannedAt: r.planned_at,
      startedAt: r.started_at ?? undefined,
      endedAt: r.ended_at ?? undefined,
      outcome: r.outcome,
      sha256: r.sha256 ?? undefined,
      reason: r.reason ?? undefined,
      file: r.file ?? undefined,
      test: r.test === 1,
    }));
  }

  pruneAsRun(before: number): number {
    return this.sql('DELETE FROM asrun WHERE planned_at < ?').run(before).changes;
  }

  // ---- retention ----------------------------------------------------------------------------

  /**
   * How far back `kind` may be pruned now. The cut-off follows the wall clock but advances at
   * most by the monotonic time this process has measured since the last prune (plus a little),
   * so a clock that jumps years ahead cannot wipe the as-run log or the replay memory: they are
   * pruned no faster than real time passes. `elapsedMs` is that monotonic time.
   */
  pruneCutoff(kind: string, wanted: number, elapsedMs: number): number {
    const key = `prune_cutoff:${kind}`;
    const last = this.getMeta(key);
    const cutoff = last === undefined ? wanted : Math.min(wanted, Number(last) + Math.max(0, elapsedMs) + 300_000);
    // Never move back: a clock stepped back just means nothing new is pruned for a while.
    const next = last === undefined ? cutoff : Math.max(Number(last), cutoff);
    this.setMeta(key, next);
    return next;
  }
}

class UnreadableStore extends Error {}

interface RawJob {
  key: string;
  command_id: string;
  command_type: string;
  item_id: string | null;
  priority: string;
  zones: string;
  ready_at: number;
  enqueued_at: number;
  spec: string;
  state: string;
}
interface RawAsRun {
  broadcast_id: string;
  item_id: string | null;
  title: string;
  zone: string;
  priority: string;
  planned_at: number;
  started_at: number | null;
  ended_at: number | null;
  outcome: string;
  sha256: string | null;
  reason: string | null;
  file: string | null;
  test: number;
}

function toJob(r: RawJob): JobRow {
  return {
    key: r.key,
    commandId: r.command_id,
    commandType: r.command_type as JobRow['commandType'],
    itemId: r.item_id ?? undefined,
    priority: r.priority as Priority,
    zones: JSON.parse(r.zones) as string[],
    readyAt: r.ready_at,
    enqueuedAt: r.enqueued_at,
    spec: JSON.parse(r.spec) as JobSpec,
    state: r.state as JobState,
  };
}

function migrate(db: BetterSqlite3.Database): void {
  const version = db.pragma('user_version', { simple: true }) as number;
  if (version > SCHEMA_VERSION) throw new Error(`station store schema ${version} is newer than this loa-station understands (${SCHEMA_VERSION})`);
  db.transaction(() => {
    db.exec(`
      CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
      CREATE TABLE IF NOT EXISTS commands (
        id TEXT PRIMARY KEY, type TEXT NOT NULL, issuer TEXT NOT NULL, seq INTEGER NOT NULL,
        received_at INTEGER NOT NULL, expires_at INTEGER NOT NULL, raw TEXT NOT NULL);
      CREATE TABLE IF NOT EXISTS issuers (issuer TEXT PRIMARY KEY, highest_seq INTEGER NOT NULL);
      CREATE TABLE IF NOT EXISTS schedules (
        version INTEGER PRIMARY KEY, command_id TEXT NOT NULL, body TEXT NOT NULL, applied_at INTEGER NOT NULL);
      CREATE TABLE IF NOT EXISTS jobs (
        key TEXT PRIMARY KEY, command_id TEXT NOT NULL, command_type TEXT NOT NULL, item_id TEXT,
        priority TEXT NOT NULL, zones TEXT NOT NULL, ready_at INTEGER NOT NULL, enqueued_at INTEGER NOT NULL,
        spec TEXT NOT NULL, state TEXT NOT NULL);
      CREATE INDEX IF NOT EXISTS jobs_state ON jobs(state);
      CREATE TABLE IF NOT EXISTS outbox (seq INTEGER PRIMARY KEY, ack TEXT NOT NULL, sent INTEGER NOT NULL DEFAULT 0);
      CREATE TABLE IF NOT EXISTS asrun (
        id INTEGER PRIMARY KEY AUTOINCREMENT, broadcast_id TEXT NOT NULL, item_id TEXT, title TEXT NOT NULL,
        zone TEXT NOT NULL, priority TEXT NOT NULL, planned_at INTEGER NOT NULL, started_at INTEGER,
        ended_at INTEGER, outcome TEXT NOT NULL, sha256 TEXT, reason TEXT, file TEXT, test INTEGER NOT NULL DEFAULT 0);
      CREATE INDEX IF NOT EXISTS asrun_planned ON asrun(planned_at);
      CREATE TABLE IF NOT EXISTS held (
        id TEXT PRIMARY KEY, raw TEXT NOT NULL, topic TEXT NOT NULL, held_at INTEGER NOT NULL, until INTEGER NOT NULL);
    `);
    if (version < 2) {
      // v1 numbered acks from the creation time in µs with no store id. A v1 file gets an id
      // now and keeps counting from where it was: (db, seq) stays unique either way.
    }
    if (db.prepare("SELECT 1 FROM meta WHERE key = 'db_id'").get() === undefined) {
      db.prepare("INSERT INTO meta(key, value) VALUES ('db_id', ?)").run(randomBytes(8).toString('hex'));
    }
    db.pragma(`user_version = ${SCHEMA_VERSION}`);
  })();
}
