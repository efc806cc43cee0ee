import { randomBytes } from 'node:crypto';
import { PROTOCOL_VERSION, type SignedType, type Target, type UnsignedEnvelope } from './schemas.js';

/** A fresh command id: time-ordered prefix for readable logs, random suffix for uniqueness. */
export function newCommandId(prefix: string, now: number): string {
  const stamp = new Date(now).toISOString().replace(/[-:T]/g, '').slice(0, 14);
  return `${prefix}-${stamp}-${randomBytes(4).toString('hex')}`;
}

export interface EnvelopeInput<T extends SignedType> {
  id: string;
  type: T;
  issuer: string;
  seq: number;
  now: number;
  ttlMs: number;
  target: Target;
  body: unknown;
}

export function makeEnvelope<T extends SignedType>(input: EnvelopeInput<T>): UnsignedEnvelope {
  return {
    v: PROTOCOL_VERSION,
    id: input.id,
    type: input.type,
    issuer: input.issuer,
    seq: input.seq,
    issuedAt: new Date(input.now).toISOString(),
    expiresAt: new Date(input.now + input.ttlMs).toISOString(),
    target: input.target,
    body: input.body,
  };
}

/** Default lifetimes: schedules stay retained for long; live commands are short-lived. */
export const DEFAULT_TTL_MS: Record<SignedType, number> = {
  schedule: 400 * 86_400_000,
  announce: 7 * 86_400_000,
  alert: 6 * 3600_000,
  cancel: 86_400_000,
  control: 3600_000,
};

/**
 * The longest a signed message may be valid. A command is acted on within days or not at all;
 * a schedule is a retained document that stays in force for its year. Bounding lifetimes also
 * bounds the replay memory each station must keep.
 */
export const MAX_LIFETIME_MS: Record<SignedType, number> = {
  schedule: 400 * 86_400_000,
  announce: 7 * 86_400_000,
  alert: 7 * 86_400_000,
  cancel: 7 * 86_400_000,
  control: 7 * 86_400_000,
};

/**
 * How far an issuer's seq may run ahead of its own issuedAt (in ms). Issuers number commands
 * max(last + 1, unix ms), so a real seq is within a burst of the issue time; a far larger one
 * (one accepted message with seq 9e15) would otherwise make every later command stale.
 */
export const MAX_SEQ_AHEAD_MS = 3600_000;
