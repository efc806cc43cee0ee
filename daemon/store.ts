import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Ack, AudioRef, Priority, ScheduleBody } from '../protocol/index.js';

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

/**
 * The station's durable memory: replay state, the applied schedule, pending jobs, the ack
 * outbox and the as-run log. synchronous=FULL because a ward box loses power, not just processes.
 */
export class StationStore {
  readonly db: Database.Database;

  constructor(path: string) {
    if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
    this.db = new Database(path);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = FULL');
    this.db.pragma('busy_timeout = 5000');
    this.db.exec(`
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
    `);
  }

  close(): void {
    if (this.db.open) this.db.close();
  }

  tx<T>(fn: () => T): T {
    return this.db.transaction(fn)();
  }

  // ---- meta -------------------------------------------------------------------------------

  getMeta(key: string): string | undefined {
    const row = this.db.prepare('SELECT value FROM meta WHERE key = ?').get(key) as { value: string } | undefined;
    return row?.value;
  }

  setMeta(key: string, value: string | number): void {
    this.db.prepare('INSERT INTO meta(key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value').run(key, String(value));
  }

  /** The connection epoch: +1 per broker connection, so central can order births and wills. */
  nextEpoch(): number {
    return this.tx(() => {
      const epoch = Number(this.getMeta('epoch') ?? '0') + 1;
      this.setMeta('epoch', epoch);
      return epoch;
    });
  }

  currentEpoch(): number {
    return Number(this.getMeta('epoch') ?? '0');
  }

  // ---- replay memory ----------------------------------------------------------------------

  seenId(id: string): boolean {
    return this.db.prepare('SELECT 1 FROM commands WHERE id = ?').get(id) !== undefined;
  }

  highestSeq(issuer: string): number | undefined {
    const row = this.db.prepare('SELECT highest_seq FROM issuers WHERE issuer = ?').get(issuer) as { highest_seq: number } | undefined;
    return row?.highest_seq;
  }

  recordCommand(c: { id: string; type: string; issuer: string; seq: number; expiresAt: number; raw: string }, now: number): void {
    this.db
      .prepare('INSERT OR IGNORE INTO commands(id, type, issuer, seq, received_at, expires_at, raw) VALUES (?, ?, ?, ?, ?, ?, ?)')
      .run(c.id, c.type, c.issuer, c.seq, now, c.expiresAt, c.raw);
    this.db
      .prepare(
        'INSERT INTO issuers(issuer, highest_seq) VALUES (?, ?) ON CONFLICT(issuer) DO UPDATE SET highest_seq = max(highest_seq, excluded.highest_seq)',
      )
      .run(c.issuer, c.seq);
  }

  /** Forget commands long expired: the seq floor and expiry check still reject their replays. */
  pruneCommands(before: number): number {
    return this.db.prepare('DELETE FROM commands WHERE expires_at < ?').run(before).changes;
  }

  // ---- schedule ---------------------------------------------------------------------------

  currentSchedule(): { version: number; commandId: string; body: ScheduleBody } | undefined {
    const row = this.db.prepare('SELECT version, command_id, body FROM schedules ORDER BY version DESC LIMIT 1').get() as
      | { version: number; command_id: string; body: string }
      | undefined;
    return row ? { version: row.version, commandId: row.command_id, body: JSON.parse(row.body) as ScheduleBody } : undefined;
  }

  saveSchedule(version: number, commandId: string, body: ScheduleBody, now: number): void {
    this.db.prepare('INSERT INTO schedules(version, command_id, body, applied_at) VALUES (?, ?, ?, ?)').run(version, commandId, JSON.stringify(body), now);
    // Keep a short history for diagnosis; the newest is what plays.
    this.db.prepare('DELETE FROM schedules WHERE version NOT IN (SELECT version FROM schedules ORDER BY version DESC LIMIT 10)').run();
  }

  // ---- jobs -------------------------------------------------------------------------------

  /** Insert a job once; returns false if that broadcast key already exists (idempotent). */
  addJob(job: JobRow): boolean {
    const r = this.db
      .prepare(
        `INSERT OR IGNORE INTO jobs(key, command_id, command_type, item_id, priority, zones, ready_at, enqueued_at, spec, state)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(job.key, job.commandId, job.commandType, job.itemId ?? null, job.priority, JSON.stringify(job.zones), job.readyAt, job.enqueuedAt, JSON.stringify(job.spec), job.state);
    return r.changes === 1;
  }

  hasJob(key: string): boolean {
    return this.db.prepare('SELECT 1 FROM jobs WHERE key = ?').get(key) !== undefined;
  }

  setJobState(key: string, state: JobState): void {
    this.db.prepare('UPDATE jobs SET state = ? WHERE key = ?').run(state, key);
  }

  getJob(key: string): JobRow | undefined {
    const row = this.db.prepare('SELECT * FROM jobs WHERE key = ?').get(key) as RawJob | undefined;
    return row ? toJob(row) : undefined;
  }

  /** Jobs not yet finished, including ones that were on air when the process died. */
  openJobs(): JobRow[] {
    return (this.db.prepare("SELECT * FROM jobs WHERE state IN ('pending', 'playing') ORDER BY enqueued_at").all() as RawJob[]).map(toJob);
  }

  pruneJobs(before: number): number {
    return this.db.prepare("DELETE FROM jobs WHERE state NOT IN ('pending', 'playing') AND ready_at < ?").run(before).changes;
  }

  // ---- outbox -----------------------------------------------------------------------------

  nextAckSeq(): number {
    // A new database (a replaced or re-imaged box) starts its seqs at its creation time in µs,
    // beyond anything the old database used, so the collector's (station, seq) dedupe can
    // never mistake its acks for old ones and receipt them away.
    const seq = Number(this.getMeta('ack_seq') ?? String(Date.now() * 1000)) + 1;
    this.setMeta('ack_seq', seq);
    return seq;
  }

  putOutbox(seq: number, ack: Omit<Ack, 'historical'>): void {
    this.db.prepare('INSERT INTO outbox(seq, ack, sent) VALUES (?, ?, 0)').run(seq, JSON.stringify(ack));
  }

  outbox(limit = 10_000): OutboxRow[] {
    return (this.db.prepare('SELECT seq, ack, sent FROM outbox ORDER BY seq LIMIT ?').all(limit) as { seq: number; ack: string; sent: number }[]).map(
      (r) => ({ seq: r.seq, ack: JSON.parse(r.ack), sent: r.sent === 1 }),
    );
  }

  outboxDepth(): number {
    return (this.db.prepare('SELECT count(*) AS n FROM outbox').get() as { n: number }).n;
  }

  markSent(seqs: readonly number[]): void {
    const upd = this.db.prepare('UPDATE outbox SET sent = 1 WHERE seq = ?');
    this.tx(() => seqs.forEach((s) => upd.run(s)));
  }

  dropOutbox(seqs: readonly number[]): number {
    const del = this.db.prepare('DELETE FROM outbox WHERE seq = ?');
    return this.tx(() => seqs.reduce((n, s) => n + del.run(s).changes, 0));
  }

  // ---- as-run -----------------------------------------------------------------------------

  addAsRun(r: AsRunRow): void {
    this.db
      .prepare(
        `INSERT INTO asrun(broadcast_id, item_id, title, zone, priority, planned_at, started_at, ended_at, outcome, sha256, reason, file, test)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(r.broadcastId, r.itemId ?? null, r.title, r.zone, r.priority, r.plannedAt, r.startedAt ?? null, r.endedAt ?? null, r.outcome, r.sha256 ?? null, r.reason ?? null, r.file ?? null, r.test ? 1 : 0);
  }

  asRun(opts: { from?: number; to?: number; limit?: number } = {}): AsRunRow[] {
    const rows = this.db
      .prepare('SELECT * FROM asrun WHERE planned_at >= ? AND planned_at <= ? ORDER BY planned_at DESC, id DESC LIMIT ?')
      .all(opts.from ?? 0, opts.to ?? Number.MAX_SAFE_INTEGER, opts.limit ?? 100) as RawAsRun[];
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
    return this.db.prepare('DELETE FROM asrun WHERE planned_at < ?').run(before).changes;
  }
}

interface RawJob {
  key: string; command_id: string; command_type: string; item_id: string | null; priority: string;
  zones: string; ready_at: number; enqueued_at: number; spec: string; state: string;
}
interface RawAsRun {
  broadcast_id: string; item_id: string | null; title: string; zone: string; priority: string; planned_at: number;
  started_at: number | null; ended_at: number | null; outcome: string; sha256: string | null; reason: string | null;
  file: string | null; test: number;
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
