import { chmodSync, existsSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { type Ack, MAX_SEQ_AHEAD_MS, type SignedEnvelope, type StationState, type Telemetry } from '../protocol/index.js';
import { ensureGroupDir } from './secret-files.js';

type DB = Database.Database;

/** Schema version this code writes (PRAGMA user_version); older files are migrated on open. */
export const CENTRAL_SCHEMA_VERSION = 2;

const SCHEMA = `
CREATE TABLE IF NOT EXISTS acks (
  station TEXT NOT NULL,
  db TEXT NOT NULL,
  seq INTEGER NOT NULL,
  epoch INTEGER NOT NULL,
  state TEXT NOT NULL,
  command_id TEXT,
  command_type TEXT,
  broadcast_id TEXT,
  item_id TEXT,
  priority TEXT,
  planned_at TEXT,
  started_at TEXT,
  ended_at TEXT,
  at TEXT NOT NULL,
  reason TEXT,
  schedule_version INTEGER,
  test INTEGER NOT NULL DEFAULT 0,
  historical INTEGER NOT NULL DEFAULT 0,
  received_at INTEGER NOT NULL,
  json TEXT NOT NULL,
  UNIQUE (station, db, seq)
);
CREATE INDEX IF NOT EXISTS acks_broadcast ON acks (broadcast_id, station);
CREATE INDEX IF NOT EXISTS acks_received ON acks (received_at);
-- The same (station, db, seq) sent again with different content: kept, flagged, never merged.
CREATE TABLE IF NOT EXISTS ack_conflicts (
  station TEXT NOT NULL,
  db TEXT NOT NULL,
  seq INTEGER NOT NULL,
  received_at INTEGER NOT NULL,
  json TEXT NOT NULL,
  stored_json TEXT NOT NULL
);
-- Clips published retained on media/<sha256>: what \`loa media gc\` may clear.
CREATE TABLE IF NOT EXISTS media (
  sha256 TEXT PRIMARY KEY,
  bytes INTEGER NOT NULL,
  published_at INTEGER NOT NULL,
  cleared_at INTEGER
);
CREATE INDEX IF NOT EXISTS acks_command ON acks (command_id, station);
CREATE TABLE IF NOT EXISTS station_state (
  station TEXT PRIMARY KEY,
  online INTEGER NOT NULL,
  epoch INTEGER NOT NULL,
  schedule_version INTEGER,
  received_at INTEGER NOT NULL,
  json TEXT NOT NULL
);
-- Online/offline transitions, so a report can tell "unreachable" from "not confirmed".
CREATE TABLE IF NOT EXISTS state_log (
  station TEXT NOT NULL,
  online INTEGER NOT NULL,
  at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS state_log_station ON state_log (station, at);
CREATE TABLE IF NOT EXISTS telemetry (
  station TEXT PRIMARY KEY,
  at TEXT NOT NULL,
  received_at INTEGER NOT NULL,
  json TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS pushed_schedules (
  station TEXT NOT NULL,
  version INTEGER NOT NULL,
  pushed_at INTEGER NOT NULL,
  items_json TEXT NOT NULL,
  envelope TEXT NOT NULL,
  PRIMARY KEY (station, version)
);
CREATE TABLE IF NOT EXISTS issuer_seq (
  issuer TEXT PRIMARY KEY,
  seq INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS broadcasts (
  id TEXT PRIMARY KEY,
  type TEXT NOT NULL,
  status TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  sent_at INTEGER,
  planned_at INTEGER,
  title TEXT,
  priority TEXT NOT NULL,
  test INTEGER NOT NULL DEFAULT 0,
  stations TEXT NOT NULL,
  envelope TEXT NOT NULL
);
`;

export interface BroadcastRow {
  id: string;
  type: string;
  status: string;
  created_at: number;
  sent_at: number | null;
  planned_at: number | null;
  title: string | null;
  priority: string;
  test: number;
  stations: string;
  envelope: string;
}

export interface AckRow {
  station: string;
  seq: number;
  state: string;
  broadcast_id: string | null;
  command_id: string | null;
  command_type: string | null;
  item_id: string | null;
  planned_at: string | null;
  started_at: string | null;
  ended_at: string | null;
  at: string;
  reason: string | null;
  test: number;
  received_at: number;
}

export type AckWrite = 'new' | 'duplicate' | 'conflict';

/** Content that must match for a re-sent ack to be the same ack (a replay flips `historical`). */
function ackContent(json: string): string {
  const { historical: _h, ...rest } = JSON.parse(json) as Record<string, unknown>;
  return JSON.stringify(rest, Object.keys(rest).sort());
}

export class CentralDb {
  readonly db: DB;
  private readonly insertAck: Database.Statement;
  private readonly storedAck: Database.Statement;
  private readonly insertConflict: Database.Statement;
  private readonly upsertState: Database.Statement;
  private readonly logState: Database.Statement;
  private readonly lastLogged: Database.Statement;
  private readonly upsertTelemetry: Database.Statement;

  constructor(path: string, opts: { readonly?: boolean } = {}) {
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
    this.insertAck = this.db.prepare(`INSERT OR IGNORE INTO acks
      (station, db, seq, epoch, state, command_id, command_type, broadcast_id, item_id, priority, planned_at, started_at, ended_at, at, reason, schedule_version, test, historical, received_at, json)
      VALUES (@station, @db, @seq, @epoch, @state, @commandId, @commandType, @broadcastId, @itemId, @priority, @plannedAt, @startedAt, @endedAt, @at, @reason, @scheduleVersion, @test, @historical, @receivedAt, @json)`);
    this.storedAck = this.db.prepare('SELECT json FROM acks WHERE station = ? AND db = ? AND seq = ?');
    this.insertConflict = this.db.prepare('INSERT INTO ack_conflicts (station, db, seq, received_at, json, stored_json) VALUES (?, ?, ?, ?, ?, ?)');
    this.upsertState = this.db.prepare(`INSERT INTO station_state (station, online, epoch, schedule_version, received_at, json)
      VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT(station) DO UPDATE SET online=excluded.online, epoch=excluded.epoch,
      schedule_version=COALESCE(excluded.schedule_version, station_state.schedule_version), received_at=excluded.received_at, json=excluded.json`);
    this.logState = this.db.prepare('INSERT INTO state_log (station, online, at) VALUES (?, ?, ?)');
    this.lastLogged = this.db.prepare('SELECT online FROM state_log WHERE station = ? ORDER BY at DESC, rowid DESC LIMIT 1');
    this.upsertTelemetry = this.db.prepare(`INSERT INTO telemetry (station, at, received_at, json) VALUES (?, ?, ?, ?)
      ON CONFLICT(station) DO UPDATE SET at=excluded.at, received_at=excluded.received_at, json=excluded.json`);
  }

  close(): void {
    this.db.close();
  }

  /**
   * Inserts are idempotent on (station, db, seq): a replay from a station's outbox changes
   * nothing. A re-sent ack whose content differs from the stored row is not the same ack: it is
   * kept in ack_conflicts and reported, never silently taken for a duplicate.
   */
  writeAck(ack: Ack, receivedAt: number): AckWrite {
    const json = JSON.stringify(ack);
    const r = this.insertAck.run({
      station: ack.station,
      db: ack.db,
      seq: ack.seq,
      epoch: ack.epoch,
      state: ack.state,
      commandId: ack.commandId ?? null,
      commandType: ack.commandType ?? null,
      broadcastId: ack.broadcastId ?? null,
      itemId: ack.itemId ?? null,
      priority: ack.priority ?? null,
      plannedAt: ack.plannedAt ?? null,
      startedAt: ack.startedAt ?? null,
      endedAt: ack.endedAt ?? null,
      at: ack.at,
      reason: ack.reason ?? null,
      scheduleVersion: ack.scheduleVersion ?? null,
      test: ack.test ? 1 : 0,
      historical: ack.historical ? 1 : 0,
      receivedAt,
      json,
    });
    if (r.changes === 1) return 'new';
    const stored = (this.storedAck.get(ack.station, ack.db, ack.seq) as { json: string } | undefined)?.json;
    if (stored === undefined || ackContent(stored) === ackContent(json)) return 'duplicate';
    this.insertConflict.run(ack.station, ack.db, ack.seq, receivedAt, json, stored);
    return 'conflict';
  }

  conflicts(): { station: string; db: string; seq: number; received_at: number; json: string; stored_json: string }[] {
    return this.db.prepare('SELECT * FROM ack_conflicts ORDER BY received_at').all() as {
      station: string;
      db: string;
      seq: number;
      received_at: number;
      json: string;
      stored_json: string;
    }[];
  }

  conflictCounts(): Map<string, number> {
    const m = new Map<string, number>();
    for (const r of this.db.prepare('SELECT station, count(*) AS n FROM ack_conflicts GROUP BY station').all() as { station: string; n: number }[]) m.set(r.station, r.n);
    return m;
  }

  // ---- media published retained -------------------------------------------------------------

  recordMedia(sha256: string, bytes: number, now: number): void {
    this.db
      .prepare('INSERT INTO media (sha256, bytes, published_at) VALUES (?, ?, ?) ON CONFLICT(sha256) DO UPDATE SET published_at = excluded.published_at, cleared_at = NULL')
      .run(sha256, bytes, now);
  }

  publishedMedia(): { sha256: string; bytes: number; published_at: number }[] {
    return this.db.prepare('SELECT sha256, bytes, published_at FROM media WHERE cleared_at IS NULL ORDER BY published_at').all() as {
      sha256: string;
      bytes: number;
      published_at: number;
    }[];
  }

  markMediaCleared(sha256: string, now: number): void {
    this.db.prepare('UPDATE media SET cleared_at = ? WHERE sha256 = ?').run(now, sha256);
  }

  // ---- retention ----------------------------------------------------------------------------

  /**
   * Delete what is older than `before` (ms): acks (by when they were received), conflicts,
   * online/offline history and finished broadcasts. Pushed schedules keep their last 10
   * versions per station whatever their age: the report needs the one in force.
   */
  prune(before: number): Record<string, number> {
    return this.transaction(() => ({
      acks: this.db.prepare('DELETE FROM acks WHERE received_at < ?').run(before).changes,
      ackConflicts: this.db.prepare('DELETE FROM ack_conflicts WHERE received_at < ?').run(before).changes,
      stateLog: this.db.prepare('DELETE FROM state_log WHERE at < ?').run(before).changes,
      broadcasts: this.db.prepare("DELETE FROM broadcasts WHERE status <> 'draft' AND COALESCE(planned_at, sent_at, created_at) < ?").run(before).changes,
      pushedSchedules: this.db
        .prepare(
          'DELETE FROM pushed_schedules WHERE pushed_at < ? AND version NOT IN (SELECT version FROM pushed_schedules p WHERE p.station = pushed_schedules.station ORDER BY version DESC LIMIT 10)',
        )
        .run(before).changes,
    }));
  }

  writeState(state: StationState, receivedAt: number): void {
    this.upsertState.run(state.station, state.online ? 1 : 0, state.epoch, state.scheduleVersion ?? null, receivedAt, JSON.stringify(state));
    const last = this.lastLogged.get(state.station) as { online: number } | undefined;
    if (!last || last.online !== (state.online ? 1 : 0)) this.logState.run(state.station, state.online ? 1 : 0, receivedAt);
  }

  writeTelemetry(tel: Telemetry, receivedAt: number): void {
    this.upsertTelemetry.run(tel.station, tel.at, receivedAt, JSON.stringify(tel));
  }

  transaction<T>(fn: () => T): T {
    return this.db.transaction(fn)();
  }

  /**
   * seq = max(last + 1, now), but never more than half of MAX_SEQ_AHEAD_MS ahead of now: after
   * the central clock steps back, seqs restart near the new time (stations accept seqs down to
   * a day below the highest they saw; ids guard replays) instead of running ahead of issuedAt,
   * which stations refuse.
   */
  nextSeq(issuer: string, now: number): number {
    return this.transaction(() => {
      const row = this.db.prepare('SELECT seq FROM issuer_seq WHERE issuer = ?').get(issuer) as { seq: number } | undefined;
      const seq = Math.min(Math.max((row?.seq ?? 0) + 1, now), now + MAX_SEQ_AHEAD_MS / 2);
      this.db.prepare('INSERT INTO issuer_seq (issuer, seq) VALUES (?, ?) ON CONFLICT(issuer) DO UPDATE SET seq = excluded.seq').run(issuer, seq);
      return seq;
    });
  }

  lastPushedVersion(station: string): number {
    const row = this.db.prepare('SELECT MAX(version) AS v FROM pushed_schedules WHERE station = ?').get(station) as { v: number | null };
    return row.v ?? 0;
  }

  lastPushed(station: string): { version: number; items_json: string; pushed_at: number; envelope: string } | undefined {
    return this.db.prepare('SELECT version, items_json, pushed_at, envelope FROM pushed_schedules WHERE station = ? ORDER BY version DESC LIMIT 1').get(station) as
      | { version: number; items_json: string; pushed_at: number; envelope: string }
      | undefined;
  }

  allPushed(): { station: string; version: number; pushed_at: number; envelope: string }[] {
    return this.db.prepare('SELECT station, version, pushed_at, envelope FROM pushed_schedules ORDER BY station, version').all() as {
      station: string;
      version: number;
      pushed_at: number;
      envelope: string;
    }[];
  }

  recordPushed(station: string, version: number, itemsJson: string, envelope: SignedEnvelope, now: number): void {
    this.db
      .prepare('INSERT INTO pushed_schedules (station, version, pushed_at, items_json, envelope) VALUES (?, ?, ?, ?, ?)')
      .run(station, version, now, itemsJson, JSON.stringify(envelope));
  }

  appliedVersion(station: string): number | null {
    const tel = this.db.prepare('SELECT json FROM telemetry WHERE station = ?').get(station) as { json: string } | undefined;
    const st = this.db.prepare('SELECT schedule_version FROM station_state WHERE station = ?').get(station) as { schedule_version: number | null } | undefined;
    const fromTel = tel ? ((JSON.parse(tel.json) as Telemetry).scheduleVersion ?? null) : null;
    return fromTel ?? st?.schedule_version ?? null;
  }

  saveBroadcast(row: BroadcastRow): void {
    this.db
      .prepare(`INSERT INTO broadcasts (id, type, status, created_at, sent_at, planned_at, title, priority, test, stations, envelope)
        VALUES (@id, @type, @status, @created_at, @sent_at, @planned_at, @title, @priority, @test, @stations, @envelope)
        ON CONFLICT(id) DO UPDATE SET status=excluded.status, sent_at=excluded.sent_at, envelope=excluded.envelope`)
      .run(row);
  }

  drafts(): BroadcastRow[] {
    return this.db.prepare("SELECT * FROM broadcasts WHERE status = 'draft' ORDER BY created_at").all() as BroadcastRow[];
  }

  broadcast(id: string): BroadcastRow | undefined {
    return this.db.prepare('SELECT * FROM broadcasts WHERE id = ?').get(id) as BroadcastRow | undefined;
  }

  broadcasts(fromMs = 0, toMs = Number.MAX_SAFE_INTEGER): BroadcastRow[] {
    return this.db
      .prepare('SELECT * FROM broadcasts WHERE COALESCE(planned_at, sent_at, created_at) BETWEEN ? AND ? ORDER BY COALESCE(planned_at, sent_at, created_at)')
      .all(fromMs, toMs) as BroadcastRow[];
  }

  acksFor(broadcastId: string): AckRow[] {
    return this.db.prepare('SELECT * FROM acks WHERE broadcast_id = ? OR command_id = ? ORDER BY station, seq').all(broadcastId, broadcastId) as AckRow[];
  }

  acksBetweenPlanned(fromIso: string, toIso: string): AckRow[] {
    return this.db.prepare("SELECT * FROM acks WHERE command_type = 'schedule' AND planned_at BETWEEN ? AND ? ORDER BY station, seq").all(fromIso, toIso) as AckRow[];
  }

  onlineAt(station: string, atMs: number): boolean | undefined {
    const row = this.db.prepare('SELECT online FROM state_log WHERE station = ? AND at <= ? ORDER BY at DESC, rowid DESC LIMIT 1').get(station, atMs) as
      | { online: number }
      | undefined;
    return row ? row.online === 1 : undefined;
  }

  stationRows(): {
    state: Map<string, { online: number; epoch: number; received_at: number; json: string }>;
    telemetry: Map<string, { received_at: number; json: string }>;
    lastAck: Map<string, number>;
  } {
    const state = new Map<string, { online: number; epoch: number; received_at: number; json: string }>();
    for (const r of this.db.prepare('SELECT * FROM station_state').all() as { station: string; online: number; epoch: number; received_at: number; json: string }[])
      state.set(r.station, r);
    const telemetry = new Map<string, { received_at: number; json: string }>();
    for (const r of this.db.prepare('SELECT * FROM telemetry').all() as { station: string; received_at: number; json: string }[]) telemetry.set(r.station, r);
    const lastAck = new Map<string, number>();
    for (const r of this.db.prepare('SELECT station, MAX(received_at) AS t FROM acks GROUP BY station').all() as { station: string; t: number }[]) lastAck.set(r.station, r.t);
    return { state, telemetry, lastAck };
  }
}

/**
 * Bring an older central database to CENTRAL_SCHEMA_VERSION. v1 (user_version 0) keyed acks by
 * (station, seq) with seqs from the station's creation time; v2 adds the station store id.
 * v1 rows keep their seqs under db "0000000000000000" (v2 store ids are random 64-bit values).
 */
function migrate(db: DB): void {
  const version = db.pragma('user_version', { simple: true }) as number;
  if (version > CENTRAL_SCHEMA_VERSION) throw new Error(`central database schema ${version} is newer than this loa understands (${CENTRAL_SCHEMA_VERSION})`);
  db.transaction(() => {
    const hasAcks = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'acks'").get() !== undefined;
    const hasDb = hasAcks && (db.prepare('PRAGMA table_info(acks)').all() as { name: string }[]).some((c) => c.name === 'db');
    if (hasAcks && !hasDb) db.exec('ALTER TABLE acks RENAME TO acks_v1');
    db.exec(SCHEMA);
    if (hasAcks && !hasDb) {
      db.exec(`INSERT INTO acks (station, db, seq, epoch, state, command_id, command_type, broadcast_id, item_id, priority, planned_at, started_at, ended_at, at, reason, schedule_version, test, historical, received_at, json)
        SELECT station, '0000000000000000', seq, epoch, state, command_id, command_type, broadcast_id, item_id, priority, planned_at, started_at, ended_at, at, reason, schedule_version, test, historical, received_at, json FROM acks_v1;
        DROP TABLE acks_v1;`);
    }
    db.pragma(`user_version = ${CENTRAL_SCHEMA_VERSION}`);
  })();
}
