import type { KeyObject } from 'node:crypto';
import type { z } from 'zod';
import { MAX_LIFETIME_MS, MAX_SEQ_AHEAD_MS } from './envelope.js';
import { cronError, timezoneError } from './expand.js';
import { BODY_SCHEMAS, type Command, EnvelopeShape, type ScheduleBody, type SignedEnvelope, type SignedType, type Target } from './schemas.js';
import { checkSignature, publicKeyFingerprint, publicKeyFromRaw, signedBytes } from './signing.js';
import { MAX_MESSAGE_BYTES } from './topics.js';

export const REJECT_REASONS = [
  'bad_signature',
  'unknown_key',
  'key_not_allowed',
  'expired',
  'not_yet_valid',
  'replayed',
  'stale_seq',
  'wrong_target',
  'invalid',
  'quorum_not_met',
] as const;
export type RejectReason = (typeof REJECT_REASONS)[number];

export interface TrustedKey {
  id: string;
  publicKey: KeyObject;
  /** Hex of the raw 32 public-key bytes: a quorum counts people's keys, not key names. */
  fingerprint: string;
  /** Message types this key may sign. */
  allow: readonly SignedType[];
}

/** A trusted key from its configured base64 (canonical only; see publicKeyError). */
export function trustedKey(id: string, publicKey: string, allow: readonly SignedType[]): TrustedKey {
  return { id, publicKey: publicKeyFromRaw(publicKey), fingerprint: publicKeyFingerprint(publicKey), allow };
}

/**
 * Indexes of keys whose public key repeats an earlier entry's. The same key listed under two
 * names would let one person meet a two-person quorum; trust stores refuse it.
 */
export function repeatedPublicKeys(keys: readonly { publicKey: string }[]): number[] {
  const seen = new Set<string>();
  const out: number[] = [];
  keys.forEach((k, i) => {
    const fp = publicKeyFingerprint(k.publicKey);
    if (seen.has(fp)) out.push(i);
    seen.add(fp);
  });
  return out;
}

export interface ReplayView {
  /** True if a command with this id was already accepted. */
  seenId(id: string): boolean;
  /** Highest seq accepted from this issuer, if any. */
  highestSeq(issuer: string): number | undefined;
}

export interface VerifyContext {
  station: { id: string; groups: readonly string[] };
  keys: ReadonlyMap<string, TrustedKey>;
  now: number;
  /** Distinct allowed signatures a live (non-test) alert needs. */
  alertQuorum: number;
  /** Tolerated clock difference between the controller and this box. */
  clockSkewMs: number;
  replay: ReplayView;
}

/**
 * Seqs are per issuer and monotonic (the CLI uses max(last+1, unix ms)). Messages can arrive
 * out of order across topics, so only a seq far below the highest seen is stale; anything
 * closer is caught by the id replay memory, which is kept until the message expires.
 */
export const SEQ_WINDOW = 24 * 3600 * 1000;

export type VerifyResult =
  /** `signers`: key ids whose signatures verified; `distinctKeys`: how many different public keys they are. */
  { ok: true; command: Command; signers: string[]; distinctKeys: number } | { ok: false; reason: RejectReason; detail: string; id?: string; type?: SignedType; issuer?: string };

export function matchesTarget(target: Target, station: { id: string; groups: readonly string[] }): boolean {
  if (target.all === true) return true;
  if (target.stations?.includes(station.id)) return true;
  return target.groups?.some((g) => station.groups.includes(g)) ?? false;
}

function zodDetail(error: z.ZodError, prefix: (string | number)[] = []): string {
  const issue = error.issues[0];
  if (!issue) return 'invalid';
  const path = [...prefix, ...issue.path.map((p) => (typeof p === 'symbol' ? String(p) : p))].join('.');
  return `${path || '(root)'}: ${issue.message}`;
}

/** Parse raw bytes without throwing; anything wrong is an `invalid` result. */
export function parseEnvelope(
  raw: Buffer | string,
): { ok: true; envelope: SignedEnvelope; command: Command } | { ok: false; reason: 'invalid'; detail: string; id?: string; type?: SignedType } {
  const size = typeof raw === 'string' ? Buffer.byteLength(raw) : raw.length;
  if (size > MAX_MESSAGE_BYTES) return { ok: false, reason: 'invalid', detail: `message of ${size} bytes exceeds ${MAX_MESSAGE_BYTES}` };
  let text: string;
  if (typeof raw === 'string') text = raw;
  else {
    try {
      text = new TextDecoder('utf-8', { fatal: true }).decode(raw);
    } catch {
      return { ok: false, reason: 'invalid', detail: 'payload is not valid UTF-8' };
    }
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    return { ok: false, reason: 'invalid', detail: `malformed JSON: ${(e as Error).message.slice(0, 160)}` };
  }
  if (depthExceeds(json, 32)) return { ok: false, reason: 'invalid', detail: 'JSON nested deeper than 32 levels' };
  const shape = EnvelopeShape.safeParse(json);
  const partial = json as { id?: unknown; type?: unknown };
  const hint = {
    id: typeof partial?.id === 'string' && /^[a-z0-9-]{1,64}$/.test(partial.id) ? partial.id : undefined,
    type: shape.success ? shape.data.type : undefined,
  };
  if (!shape.success) return { ok: false, reason: 'invalid', detail: zodDetail(shape.error), ...hint };
  const envelope = shape.data;
  const body = BODY_SCHEMAS[envelope.type].safeParse(envelope.body);
  if (!body.success) return { ok: false, reason: 'invalid', detail: zodDetail(body.error, ['body']), ...hint };
  if (envelope.type === 'schedule') {
    const sched = body.data as ScheduleBody;
    const tzErr = timezoneError(sched.tz);
    if (tzErr) return { ok: false, reason: 'invalid', detail: `body.tz: ${tzErr}`, ...hint };
    for (const [n, item] of sched.items.entries()) {
      const tz = item.tz ?? sched.tz;
      const itemTzErr = timezoneError(tz);
      if (itemTzErr) return { ok: false, reason: 'invalid', detail: `body.items.${n}.tz: ${itemTzErr}`, ...hint };
      const err = item.cron !== undefined ? cronError(item.cron, tz) : undefined;
      if (err) return { ok: false, reason: 'invalid', detail: `body.items.${n}.cron: ${err}`, ...hint };
    }
  }
  const issued = Date.parse(envelope.issuedAt);
  const lifetime = Date.parse(envelope.expiresAt) - issued;
  if (lifetime <= 0) {
    return { ok: false, reason: 'invalid', detail: 'expiresAt: must be after issuedAt', ...hint };
  }
  if (lifetime > MAX_LIFETIME_MS[envelope.type]) {
    const days = MAX_LIFETIME_MS[envelope.type] / 86_400_000;
    return { ok: false, reason: 'invalid', detail: `expiresAt: a ${envelope.type} may be valid for at most ${days} days after issuedAt`, ...hint };
  }
  if (envelope.seq > issued + MAX_SEQ_AHEAD_MS) {
    return { ok: false, reason: 'invalid', detail: `seq: ${envelope.seq} runs more than ${MAX_SEQ_AHEAD_MS / 60_000} minutes ahead of issuedAt (${issued})`, ...hint };
  }
  return { ok: true, envelope, command: { ...envelope, body: body.data } as Command };
}

function depthExceeds(value: unknown, max: number): boolean {
  // Iterative, so hostile nesting cannot overflow the stack.
  const stack: [unknown, number][] = [[value, 0]];
  while (stack.length > 0) {
    const [v, d] = stack.pop()!;
    if (v === null || typeof v !== 'object') continue;
    if (d >= max) return true;
    for (const child of Array.isArray(v) ? v : Object.values(v as object)) stack.push([child, d + 1]);
  }
  return false;
}

/**
 * Decide whether a station may act on a command. Pure: the clock, trust store and replay
 * memory are passed in. The order matters: cheap structural checks first, then keys and
 * signatures, then time, target and replay.
 */
export function verifyCommand(raw: Buffer | string, ctx: VerifyContext): VerifyResult {
  const parsed = parseEnvelope(raw);
  if (!parsed.ok) return parsed;
  const { envelope, command } = parsed;
  const base = { id: envelope.id, type: envelope.type, issuer: envelope.issuer };

  if (envelope.sigs[0]!.key !== envelope.issuer) {
    return { ok: false, reason: 'bad_signature', detail: "first signature is not the issuer's", ...base };
  }
  const signers: string[] = [];
  const fingerprints = new Set<string>();
  // The canonical bytes are the same for every signature: serialise them once.
  let signed: Buffer | undefined;
  for (const sig of envelope.sigs) {
    const key = ctx.keys.get(sig.key);
    if (!key) return { ok: false, reason: 'unknown_key', detail: `key ${sig.key} is not trusted by this station`, ...base };
    signed ??= signedBytes(envelope);
    if (!checkSignature(envelope, sig, key.publicKey, signed)) {
      return { ok: false, reason: 'bad_signature', detail: `signature by ${sig.key} does not verify`, ...base };
    }
    if (!key.allow.includes(envelope.type)) {
      return { ok: false, reason: 'key_not_allowed', detail: `key ${sig.key} may not sign ${envelope.type}`, ...base };
    }
    if (signers.includes(sig.key)) return { ok: false, reason: 'invalid', detail: `key ${sig.key} signed twice`, ...base };
    signers.push(sig.key);
    fingerprints.add(key.fingerprint);
  }

  const issuedAt = Date.parse(envelope.issuedAt);
  const expiresAt = Date.parse(envelope.expiresAt);
  if (issuedAt > ctx.now + ctx.clockSkewMs) {
    return { ok: false, reason: 'not_yet_valid', detail: `issued at ${envelope.issuedAt}, in the future`, ...base };
  }
  if (expiresAt <= ctx.now - ctx.clockSkewMs) {
    return { ok: false, reason: 'expired', detail: `expired at ${envelope.expiresAt}`, ...base };
  }
  if (!matchesTarget(envelope.target, ctx.station)) {
    return { ok: false, reason: 'wrong_target', detail: `target does not include station ${ctx.station.id}`, ...base };
  }
  if (command.type === 'schedule' && command.body.station !== ctx.station.id) {
    return { ok: false, reason: 'wrong_target', detail: `schedule is for station ${command.body.station}`, ...base };
  }
  if (command.type === 'alert' && !command.body.test && fingerprints.size < ctx.alertQuorum) {
    return {
      ok: false,
      reason: 'quorum_not_met',
      detail:
        fingerprints.size < signers.length
          ? `a live alert needs signatures by ${ctx.alertQuorum} different keys; ${signers.join(', ')} are ${fingerprints.size} key(s) under ${signers.length} names`
          : `a live alert needs signatures by ${ctx.alertQuorum} different keys, it has ${signers.length}`,
      ...base,
    };
  }
  // Schedules are retained and re-delivered on every reconnect: their replay guard is the
  // document version, checked when applying.
  if (command.type !== 'schedule') {
    if (ctx.replay.seenId(envelope.id)) {
      return { ok: false, reason: 'replayed', detail: `command ${envelope.id} was already received`, ...base };
    }
    const highest = ctx.replay.highestSeq(envelope.issuer);
    if (highest !== undefined && envelope.seq < highest - SEQ_WINDOW) {
      return { ok: false, reason: 'stale_seq', detail: `seq ${envelope.seq} is far below ${highest} from ${envelope.issuer}`, ...base };
    }
  }
  return { ok: true, command, signers, distinctKeys: fingerprints.size };
}
