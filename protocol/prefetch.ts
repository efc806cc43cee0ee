// Draft prefetch: a live alert waits for a second official, and that time is free. As soon as
// a draft carries one trusted signature, central publishes its clip and the partly signed
// envelope on `central/prefetch`; stations that it targets fetch and prepare the clip. A hint
// only moves media into the cache: it is never queued, acked or aired. The alert itself still
// needs its quorum on a command topic (verify.ts). Pure: the clock and the trust store are passed in.
import type { AudioRef } from './schemas.js';
import { type VerifyContext, verifyCommand } from './verify.js';

export type PrefetchContext = Omit<VerifyContext, 'alertQuorum' | 'replay'>;

export type PrefetchVerdict = { ok: true; id: string; audio: Extract<AudioRef, { kind: 'media' }> } | { ok: false; detail: string };

/** Nothing is remembered about hints: a replayed one fetches a clip already cached. */
const NO_REPLAY = { seenId: () => false, highestSeq: () => undefined };

/**
 * Whether a station should fetch a draft's clip now: a live alert (tests have no drafts), every
 * signature on it valid and by a key trusted to sign alerts (at least one), still valid, aimed
 * at this station, with a media clip.
 */
export function verifyPrefetch(raw: Buffer | string, ctx: PrefetchContext): PrefetchVerdict {
  const v = verifyCommand(raw, { ...ctx, alertQuorum: 1, replay: NO_REPLAY });
  if (!v.ok) return { ok: false, detail: `${v.reason}: ${v.detail}` };
  const c = v.command;
  if (c.type !== 'alert') return { ok: false, detail: `a prefetch hint carries an alert, not a ${c.type}` };
  if (c.body.test) return { ok: false, detail: 'a test alert is sent at once: nothing to prefetch' };
  if (c.body.audio.kind !== 'media') return { ok: false, detail: 'a live relay has no clip to prefetch' };
  return { ok: true, id: c.id, audio: c.body.audio };
}
