// Console sessions live in memory only: a restart logs everyone out, and the private keys
// unsealed at login never touch the disk.
import { randomBytes } from 'node:crypto';
import type { SigningKey } from '../../controller-cli/keys.js';
import type { Role } from '../shared/api.js';

export interface Session {
  id: string;
  csrf: string;
  user: { name: string; role: Role; stations: string[]; groups: string[]; key: string | null };
  /** The user's own key, opened with their password at login; absent for users bound to none. */
  signer: SigningKey | null;
  ip: string;
  createdAt: number;
  lastSeen: number;
  /** The account row's updatedAt at login: any change to the account (password, scope, disabled) ends the session. */
  accountVersion: number;
  /** Open live streams of this session, closed when it ends. */
  closers: Set<() => void>;
}

export interface SessionLimits {
  /** Logged out after this long without a request. */
  idleMs: number;
  /** And after this long in any case. */
  maxMs: number;
}

export class Sessions {
  private readonly byId = new Map<string, Session>();

  constructor(
    readonly limits: SessionLimits,
    private readonly now: () => number = Date.now,
  ) {}

  create(user: Session['user'], signer: SigningKey | null, ip: string, accountVersion: number): Session {
    const t = this.now();
    const s: Session = {
      id: randomBytes(32).toString('base64url'),
      csrf: randomBytes(32).toString('base64url'),
      user,
      signer,
      ip,
      createdAt: t,
      lastSeen: t,
      accountVersion,
      closers: new Set(),
    };
    this.byId.set(s.id, s);
    return s;
  }

  /** The live session for a cookie value, touched; undefined when unknown or expired (then forgotten). */
  get(id: string | undefined, touch = true): Session | undefined {
    if (!id) return undefined;
    const s = this.byId.get(id);
    if (!s) return undefined;
    const t = this.now();
    if (t - s.lastSeen > this.limits.idleMs || t - s.createdAt > this.limits.maxMs) {
      this.drop(id);
      return undefined;
    }
    if (touch) s.lastSeen = t;
    return s;
  }

  drop(id: string): void {
    const s = this.byId.get(id);
    if (!s) return;
    this.byId.delete(id);
    for (const close of s.closers) close();
    s.closers.clear();
  }

  /** A disabled user or a changed password ends every session of that user at once. */
  dropUser(name: string): number {
    let n = 0;
    for (const [id, s] of [...this.byId])
      if (s.user.name === name) {
        this.drop(id);
        n++;
      }
    return n;
  }

  all(): Session[] {
    return [...this.byId.values()];
  }

  /** Forget expired sessions (their open streams are closed too). */
  sweep(): void {
    for (const id of [...this.byId.keys()]) this.get(id, false);
  }

  get size(): number {
    return this.byId.size;
  }
}

/**
 * Failed logins per account and per address in a sliding window. Past the limit, further tries
 * are refused without checking the password, so guessing runs at a few tries per quarter hour.
 */
export class LoginLimiter {
  private readonly failures = new Map<string, number[]>();

  constructor(
    private readonly opts: { windowMs: number; perAccount: number; perAddress: number } = { windowMs: 15 * 60_000, perAccount: 5, perAddress: 20 },
    private readonly now: () => number = Date.now,
  ) {}

  private recent(key: string): number[] {
    const t = this.now();
    const kept = (this.failures.get(key) ?? []).filter((at) => t - at < this.opts.windowMs);
    if (kept.length === 0) this.failures.delete(key);
    else this.failures.set(key, kept);
    return kept;
  }

  /** Seconds to wait, or 0 when a try is allowed. */
  retryAfter(name: string, ip: string): number {
    const waits: number[] = [];
    for (const [key, limit] of [
      [`u:${name}`, this.opts.perAccount],
      [`a:${ip}`, this.opts.perAddress],
    ] as const) {
      const r = this.recent(key);
      if (r.length >= limit) waits.push(Math.ceil((r[0]! + this.opts.windowMs - this.now()) / 1000));
    }
    return waits.length > 0 ? Math.max(1, ...waits) : 0;
  }

  failed(name: string, ip: string): void {
    const t = this.now();
    for (const key of [`u:${name}`, `a:${ip}`]) this.failures.set(key, [...this.recent(key), t]);
  }

  succeeded(name: string): void {
    this.failures.delete(`u:${name}`);
  }
}
