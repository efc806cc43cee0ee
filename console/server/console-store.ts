// The console's rows in the central database: accounts and the audit log, plus the few reads
// the live page needs. Same database as the CLI and the collector (SQLite or PostgreSQL, one
// schema in controller-cli/central-schema.ts): one source of truth. The SQL here runs on both.
import type { CentralStore } from '../../controller-cli/central-store.js';
import type { AuditEntry, Role } from '../shared/api.js';
import type { SealedKey } from './credentials.js';

export interface UserRecord {
  name: string;
  role: Role;
  stations: string[];
  groups: string[];
  /** The fleet signing key bound to this user, sealed with their password. */
  key: string | null;
  sealedKey: SealedKey | null;
  passwordHash: string;
  disabled: boolean;
  createdAt: number;
  updatedAt: number;
}

export interface AuditQuery {
  from?: number;
  to?: number;
  user?: string;
  /** Actions starting with this (e.g. `schedule.`). */
  action?: string;
  limit?: number;
}

export interface ChangedRow {
  station: string;
  receivedAt: number;
  json: string;
}

/** What the console reads and writes beyond the CLI's tables. */
export interface ConsoleStore {
  user(name: string): Promise<UserRecord | undefined>;
  users(): Promise<UserRecord[]>;
  putUser(user: UserRecord): Promise<void>;
  appendAudit(entry: Omit<AuditEntry, 'id'>): Promise<void>;
  audit(q: AuditQuery): Promise<AuditEntry[]>;
  /** When each station last went online or offline. */
  lastTransitions(): Promise<Map<string, number>>;
  /** Rows written at or after `sinceMs` (the live feed when the collector runs in another process). */
  changesSince(sinceMs: number): Promise<{ states: ChangedRow[]; telemetry: ChangedRow[]; acks: ChangedRow[] }>;
  /** Schedules pushed at or after `sinceMs`, by anyone (the CLI too). */
  pushesSince(sinceMs: number): Promise<{ station: string; version: number; pushedAt: number }[]>;
}

interface UserRow {
  name: string;
  role: string;
  stations: string;
  groups_json: string;
  key_id: string | null;
  sealed_key: string | null;
  password_hash: string;
  disabled: number;
  created_at: number;
  updated_at: number;
}

const toUser = (r: UserRow): UserRecord => ({
  name: r.name,
  role: r.role as Role,
  stations: JSON.parse(r.stations) as string[],
  groups: JSON.parse(r.groups_json) as string[],
  key: r.key_id,
  sealedKey: r.sealed_key ? (JSON.parse(r.sealed_key) as SealedKey) : null,
  passwordHash: r.password_hash,
  disabled: Number(r.disabled) === 1,
  createdAt: Number(r.created_at),
  updatedAt: Number(r.updated_at),
});

const PUT_USER = `INSERT INTO console_users (name, role, stations, groups_json, key_id, sealed_key, password_hash, disabled, created_at, updated_at)
  VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (name) DO UPDATE SET role = excluded.role, stations = excluded.stations,
  groups_json = excluded.groups_json, key_id = excluded.key_id, sealed_key = excluded.sealed_key, password_hash = excluded.password_hash,
  disabled = excluded.disabled, updated_at = excluded.updated_at`;

/** The console's store on the fleet's central store (its connection, its transactions). */
export class SqlConsoleStore implements ConsoleStore {
  constructor(private readonly central: CentralStore) {}

  private get q() {
    return this.central.sql;
  }

  async user(name: string): Promise<UserRecord | undefined> {
    const r = await this.q.get<UserRow>('SELECT * FROM console_users WHERE name = ?', [name]);
    return r ? toUser(r) : undefined;
  }

  async users(): Promise<UserRecord[]> {
    return (await this.q.all<UserRow>('SELECT * FROM console_users ORDER BY name')).map(toUser);
  }

  async putUser(u: UserRecord): Promise<void> {
    await this.q.run(PUT_USER, [
      u.name,
      u.role,
      JSON.stringify(u.stations),
      JSON.stringify(u.groups),
      u.key,
      u.sealedKey ? JSON.stringify(u.sealedKey) : null,
      u.passwordHash,
      u.disabled ? 1 : 0,
      u.createdAt,
      u.updatedAt,
    ]);
  }

  async appendAudit(e: Omit<AuditEntry, 'id'>): Promise<void> {
    await this.q.run('INSERT INTO console_audit (at, account, role, ip, action, target, outcome, detail) VALUES (?, ?, ?, ?, ?, ?, ?, ?)', [
      e.at,
      e.user,
      e.role,
      e.ip,
      e.action,
      e.target,
      e.outcome,
      e.detail,
    ]);
  }

  async audit(f: AuditQuery): Promise<AuditEntry[]> {
    // Conditions are added only when set: PostgreSQL cannot type a bare `? IS NULL`.
    const where = ['at BETWEEN ? AND ?'];
    const params: unknown[] = [f.from ?? 0, f.to ?? Number.MAX_SAFE_INTEGER];
    if (f.user !== undefined) {
      where.push('account = ?');
      params.push(f.user);
    }
    if (f.action !== undefined) {
      where.push('substr(action, 1, ?) = ?');
      params.push(f.action.length, f.action);
    }
    params.push(f.limit ?? 1000);
    const rows = await this.q.all<AuditEntry & { account: string }>(
      `SELECT rowid AS id, at, account, role, ip, action, target, outcome, detail FROM console_audit WHERE ${where.join(' AND ')} ORDER BY at DESC, rowid DESC LIMIT ?`,
      params,
    );
    return rows.map(({ account, ...r }) => ({ ...r, id: Number(r.id), at: Number(r.at), user: account }));
  }

  async lastTransitions(): Promise<Map<string, number>> {
    const m = new Map<string, number>();
    for (const r of await this.q.all<{ station: string; at: number }>('SELECT station, MAX(at) AS at FROM state_log GROUP BY station')) m.set(r.station, Number(r.at));
    return m;
  }

  async changesSince(sinceMs: number): Promise<{ states: ChangedRow[]; telemetry: ChangedRow[]; acks: ChangedRow[] }> {
    const rows = async (table: string) =>
      (await this.q.all<ChangedRow>(`SELECT station, received_at AS "receivedAt", json FROM ${table} WHERE received_at >= ? ORDER BY received_at`, [sinceMs])).map((r) => ({
        ...r,
        receivedAt: Number(r.receivedAt),
      }));
    return { states: await rows('station_state'), telemetry: await rows('telemetry'), acks: await rows('acks') };
  }

  async pushesSince(sinceMs: number): Promise<{ station: string; version: number; pushedAt: number }[]> {
    return (
      await this.q.all<{ station: string; version: number; pushedAt: number }>(
        'SELECT station, version, pushed_at AS "pushedAt" FROM pushed_schedules WHERE pushed_at >= ? ORDER BY pushed_at',
        [sinceMs],
      )
    ).map((r) => ({ ...r, version: Number(r.version), pushedAt: Number(r.pushedAt) }));
  }
}
