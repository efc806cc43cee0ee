// A CapPlan → the unsigned envelopes of its draft. Pure: the clock and the audio come in.
// Ids are derived from the CAP message (sender, identifier, sent), never random, so that
// - the same message always names the same draft file (idempotency across processes), and
// - should two drafts of one message ever both be approved, stations refuse the second as a
//   replay (they remember command ids).
import { createHash } from 'node:crypto';
import { type AudioRef, DEFAULT_TTL_MS, MAX_LIFETIME_MS, makeEnvelope, type Target, type UnsignedEnvelope } from '../../protocol/index.js';
import type { CapPlan } from './map.js';
import { type CapReference, capTimeMs } from './parse.js';

/** issuer and seq of an envelope nobody has signed yet: the first approver's key replaces both. */
export const UNSIGNED_ISSUER = 'unsigned';

/** The id of the draft's main envelope for a CAP message: `cap-<sent, UTC>-<16 hex of its key>`. */
export function capBroadcastId(ref: CapReference): string {
  const key = `${ref.sender},${ref.identifier},${ref.sent}`;
  const ms = capTimeMs(ref.sent);
  const stamp = ms === undefined ? '00000000000000' : new Date(ms).toISOString().replace(/[-:T]/g, '').slice(0, 14);
  return `cap-${stamp}-${createHash('sha256').update(key).digest('hex').slice(0, 16)}`;
}

/** A Loa alert that a CAP Update or Cancel stops. */
export interface CapCancelTarget {
  broadcastId: string;
  target: Target;
  test: boolean;
  /** Stations it was sent to. */
  stations: string[];
}

export interface CapEnvelopeInput {
  plan: CapPlan;
  /** ms since the epoch: issuedAt of every envelope. */
  now: number;
  /** Lifetime when the message has no `<expires>`. */
  defaultLifetimeMs: number;
  cancels: CapCancelTarget[];
  /** Alert and update only. */
  audio?: AudioRef;
}

export type UnsignedDraftEnvelope = UnsignedEnvelope & { sigs: [] };

/**
 * When the alert's envelope stops being valid: the CAP `<expires>` when given, else the default
 * lifetime, never beyond the protocol's bound for commands.
 */
export function capAlertExpiry(plan: Pick<CapPlan, 'expiresAt'>, now: number, defaultLifetimeMs: number): number {
  const bound = now + MAX_LIFETIME_MS.alert;
  const wanted = plan.expiresAt !== undefined ? Date.parse(plan.expiresAt) : now + defaultLifetimeMs;
  return Math.min(bound, wanted);
}

const TITLE_MAX = 200;
const title = (s: string | undefined) => {
  const t = (s ?? '').replace(/\s+/g, ' ').trim();
  return t.length <= TITLE_MAX ? t : `${t.slice(0, TITLE_MAX - 1)}…`;
};

/**
 * [cancel(old)…, alert] for an alert or update; [cancel…] for a cancel, the last one carrying the
 * message's own id. Cancels of an update live as long as its alert, so the draft can be approved
 * for as long as the alert could be.
 */
export function capEnvelopes(input: CapEnvelopeInput): UnsignedDraftEnvelope[] {
  const { plan, now } = input;
  const main = capBroadcastId(plan);
  const isCancel = plan.action === 'cancel';
  if (!isCancel && plan.action !== 'alert' && plan.action !== 'update') throw new Error(`no envelopes for a ${plan.action} plan`);
  if (isCancel && input.cancels.length === 0) throw new Error('a cancel draft needs something to cancel');
  if (!isCancel && (!input.audio || plan.targets.length === 0)) throw new Error('an alert draft needs audio and targets');
  const alertEnd = isCancel ? now + DEFAULT_TTL_MS.cancel : capAlertExpiry(plan, now, input.defaultLifetimeMs);
  const reason = `CAP ${plan.msgType} ${plan.identifier}`.slice(0, 500);
  const envelope = (id: string, type: 'alert' | 'cancel', target: Target, body: unknown): UnsignedDraftEnvelope => ({
    ...makeEnvelope({ id, type, issuer: UNSIGNED_ISSUER, seq: 0, now, ttlMs: Math.max(1000, alertEnd - now), target, body }),
    sigs: [],
  });
  const cancels = input.cancels.map((c, i) => {
    const id = isCancel && i === input.cancels.length - 1 ? main : `${main}-x${i + 1}`;
    return envelope(id, 'cancel', c.target, { broadcastId: c.broadcastId, reason });
  });
  if (isCancel) return cancels;
  const alert = envelope(
    main,
    'alert',
    { stations: [...plan.targets] },
    {
      title: title(plan.headline),
      test: plan.test,
      repeat: plan.repeat,
      gapSec: 0,
      audio: input.audio,
    },
  );
  return [...cancels, alert];
}
