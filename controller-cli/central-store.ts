// The central store: one interface, two implementations. SQLite (central-db.ts) is the embedded
// default; PostgreSQL (central-pg.ts) lets several collectors on several machines write one
// database. Every method returns a Promise, whichever store is behind it, so each caller is
// written once. The schema and its migrations are in central-schema.ts.
import { readFileSync } from 'node:fs';
import { t } from '../io/i18n.js';
import type { Ack, SignedEnvelope, StationState, Telemetry } from '../protocol/index.js';
import type { Q } from './central-sql.js';
import { CliError } from './errors.js';

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

export interface ConflictRow {
  station: string;
  db: string;
  seq: number;
  received_at: number;
  json: string;
  stored_json: string;
}

export type AckWrite = 'new' | 'duplicate' | 'conflict';

/** What the collector writes: one message as it arrived, with the time it arrived. */
export type Inbound = { kind: 'ack'; value: Ack; at: number } | { kind: 'state'; value: StationState; at: number } | { kind: 'telemetry'; value: Telemetry; at: number };

export interface StationRowsData {
  state: Map<string, { online: number; epoch: number; received_at: number; json: string }>;
  telemetry: Map<string, { received_at: number; json: string }>;
  lastAck: Map<string, number>;
  /** Highest schedule version pushed per station. */
  desired: Map<string, number>;
  /** Ack conflicts per station. */
  conflicts: Map<string, number>;
}

export interface CentralStore {
  readonly kind: 'sqlite' | 'postgres';
  /** Plain queries (`?` placeholders, SQL both engines run) for the console's own tables. */
  readonly sql: Q;
  close(): Promise<void>;

  /**
   * Write a batch in one transaction, durably committed when this resolves (receipts may go
   * out then). Acks are idempotent on (station, db, seq); one re-sent with different content
   * (apart from `historical`) is kept in ack_conflicts. Returns the outcome of each ack, in order.
   */
  ingest(batch: readonly Inbound[]): Promise<AckWrite[]>;
  writeAck(ack: Ack, receivedAt: number): Promise<AckWrite>;
  writeState(state: StationState, receivedAt: number): Promise<void>;
  writeTelemetry(tel: Telemetry, receivedAt: number): Promise<void>;
  conflicts(): Promise<ConflictRow[]>;
  conflictCounts(): Promise<Map<string, number>>;

  recordMedia(sha256: string, bytes: number, now: number): Promise<void>;
  publishedMedia(): Promise<{ sha256: string; bytes: number; published_at: number }[]>;
  markMediaCleared(sha256: string, now: number): Promise<void>;

  /** Delete acks, conflicts, state history and finished broadcasts older than `before` (ms); keep the last 10 schedules per station. */
  prune(before: number): Promise<Record<string, number>>;

  /** The next command seq of an issuer: max(last + 1, now), at most MAX_SEQ_AHEAD_MS / 2 ahead; atomic across processes. */
  nextSeq(issuer: string, now: number): Promise<number>;
  lastPushedVersion(station: string): Promise<number>;
  lastPushed(station: string): Promise<{ version: number; items_json: string; pushed_at: number; envelope: string } | undefined>;
  allPushed(): Promise<{ station: string; version: number; pushed_at: number; envelope: string }[]>;
  recordPushed(station: string, version: number, itemsJson: string, envelope: SignedEnvelope, now: number): Promise<void>;
  appliedVersion(station: string): Promise<number | null>;

  saveBroadcast(row: BroadcastRow): Promise<void>;
  drafts(): Promise<BroadcastRow[]>;
  broadcast(id: string): Promise<BroadcastRow | undefined>;
  broadcasts(fromMs?: number, toMs?: number): Promise<BroadcastRow[]>;
  acksFor(broadcastId: string): Promise<AckRow[]>;
  acksBetweenPlanned(fromIso: string, toIso: string): Promise<AckRow[]>;
  onlineAt(station: string, atMs: number): Promise<boolean | undefined>;
  stationRows(): Promise<StationRowsData>;
}

/** Content that must match for a re-sent ack to be the same ack (a replay flips `historical`). */
export function ackContent(json: string): string {
  const { historical: _h, ...rest } = JSON.parse(json) as Record<string, unknown>;
  return JSON.stringify(rest, Object.keys(rest).sort());
}

export function isPostgresUrl(database: string): boolean {
  return /^postgres(ql)?:\/\//i.test(database);
}

/** A database URL fit for a log line or an error: no password. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return url.replace(/:[^:@/]*@/, ':***@');
  }
}

export interface StoreLocation {
  /** A SQLite file path, or a postgres:// URL. */
  database: string;
  /** PostgreSQL: a file holding the password (like broker.passwordFile); else the URL, PGPASSWORD or ~/.pgpass. */
  databasePasswordFile?: string;
}

/** Open the fleet's central store (and bring its schema up to date). */
export async function openCentralStore(where: StoreLocation, opts: { readonly?: boolean; poolSize?: number } = {}): Promise<CentralStore> {
  if (isPostgresUrl(where.database)) {
    const { PgCentralStore } = await import('./central-pg.js');
    let password: string | undefined;
    if (where.databasePasswordFile) {
      try {
        password = readFileSync(where.databasePasswordFile, 'utf8').trim();
      } catch (e) {
        throw new CliError(t('db.passwordFile', { file: where.databasePasswordFile, reason: (e as Error).message }));
      }
    }
    try {
      return await PgCentralStore.open(where.database, { ...(password !== undefined ? { password } : {}), ...(opts.poolSize ? { poolSize: opts.poolSize } : {}) });
    } catch (e) {
      if (e instanceof CliError) throw e;
      throw new CliError(t('db.unreachable', { url: redactUrl(where.database), reason: (e as Error).message }));
    }
  }
  const { SqliteCentralStore } = await import('./central-db.js');
  return new SqliteCentralStore(where.database, opts);
}
