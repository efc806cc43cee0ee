/**
 * The playback decision: which queued airings start, which running ones are preempted, which
 * are given up. Pure: no I/O, no timers, no Date.now — the clock and the local wall-clock
 * minute are arguments, so every rule below is unit-tested with fixed clocks.
 *
 * Levels (Circular 39/2020/TT-BTTTT): normal < priority < emergency.
 *
 * RULES (in the order they are applied)
 *
 * 1. Deadline. A queued job's deadline is `readyAt + maxDelayMs`. Once `now > deadline` the job
 *    is given up, with exactly one decision:
 *      - `fail media_not_ready` if its media is still not prepared (a station fault, reported
 *        even when quiet hours or a stop would also have held it back);
 *      - else `missed stopped` if it is a normal/priority job and an operator `stop` is in force;
 *      - else `missed quiet_hours` if it is a normal/priority job and the deadline fell inside
 *        quiet hours (it was held back by them);
 *      - else `missed max_delay`.
 *    Until the deadline a job whose media is not ready simply waits for the media: it neither
 *    starts nor reserves zones, and other jobs may use its zones meanwhile.
 *
 * 2. Eligibility. A job is eligible when `readyAt <= now <= deadline`, its media is ready and,
 *    for normal/priority jobs, it is not quiet time and the station is not `stopped`.
 *    Emergencies ignore quiet hours and `stopped`. Ineligible jobs stay queued (no decision).
 *
 * 3. Order. Eligible jobs are considered one by one: emergency, then priority, then normal;
 *    within a level FIFO by `enqueuedAt` (then `readyAt`, then key, so the answer is
 *    deterministic). Each job either starts now (on ALL its zones at once) or waits.
 *
 * 4. A zone the job needs is usable when it is:
 *      - free (nothing playing, nothing started or reserved earlier in this decision); or
 *      - playing a LOWER-level item and the job is an emergency: emergency preempts normal and
 *        priority at once. A priority job never cuts a running normal item: it is simply
 *        considered first when the zone frees ("priority goes before normal at the next gap");
 *      - playing an EQUAL-level normal/priority item, the job's policy is `interrupt`, and
 *        that item started before the job became eligible (`max(readyAt, enqueuedAt)`). So the
 *        newest interrupt wins over what was on air when it arrived, but two interrupt items
 *        that become ready together do not cut each other: the second waits.
 *    A playing emergency is never preempted by anything; two emergencies on one zone queue
 *    FIFO. The policy of the PLAYING item is not consulted: the newcomer's policy decides.
 *
 * 5. Reservation (partial overlaps). A job that is eligible but cannot start reserves all its
 *    zones against jobs considered after it, so a multi-zone job is not starved by a stream of
 *    smaller jobs on its free zones; those zones may stay idle while it waits for the rest. This
 *    gives per-zone FIFO within a level and "higher level first at the gap" across levels.
 *    One exception: an `interrupt` job ignores reservations of EQUAL-level waiting jobs (it
 *    does not queue behind its level, it takes the zone) but never those of a higher level.
 *    Emergencies are considered first, so no lower-level reservation ever holds them back. A
 *    waiting emergency also holds its free zones: normal programming does not start there only
 *    to be cut (and lost as `preempted`) moments later.
 *
 * 6. Preemption is whole-item and atomic. A playing item is one airing on one set of zones; if
 *    a starting job needs any of its zones, the item is stopped on all of its zones (its
 *    broadcast acks `preempted`) and its other zones become free for later jobs in the same
 *    decision. A preemption is only emitted together with the start that needs it: a job that
 *    cannot start on all its zones cuts nothing.
 *
 * 7. Quiet hours and `stopped` gate starts only: an item already on air when quiet hours begin
 *    plays to its end (maxDurationSec bounds it).
 *
 * Output order: given-up jobs first (`missed`/`fail`), then for each starting job its
 * `preempt` decisions immediately followed by its `start`. The engine executes them in order.
 *
 * Caller contract: `zones` must be resolved (the engine turns "no zones" into all station
 * zones) and non-empty; a key that is in `playing` is ignored if also present in `queue`.
 * Call `nextWakeAt` on the state AFTER applying the decisions; it is the earliest time at which
 * decide() could answer differently without any other event (new command, media ready,
 * playback end). Across a DST change its quiet-hours boundary can be off by the shift, so the
 * engine should also re-run decide() on a coarse tick (e.g. every 30 s).
 */
import { isQuietTime, MS_PER_DAY, MS_PER_MINUTE, msOfDay, parseHhmm, type QuietWindow } from '../../protocol/quiet-hours.js';

export { isQuietTime, localMinutesOf, type QuietWindow, quietWindowError } from '../../protocol/quiet-hours.js';

export type Priority = 'normal' | 'priority' | 'emergency';
export type Policy = 'interrupt' | 'wait';

export const PRIORITY_RANK: Readonly<Record<Priority, number>> = { normal: 0, priority: 1, emergency: 2 };

/** One airing of a broadcast on a set of zones. */
export interface Job {
  /** broadcastId, unique per airing. */
  key: string;
  priority: Priority;
  /** Zone ids it needs (all at once). */
  zones: string[];
  /** Planned start (ms); not eligible before. */
  readyAt: number;
  /** When the station queued it (ms); FIFO within a level. */
  enqueuedAt: number;
  /** Equal-level behaviour when a zone is busy. Ignored for emergencies (they always queue). */
  policy: Policy;
  /** Waiting past readyAt + maxDelayMs => missed. */
  maxDelayMs: number;
  /** Audio prepared in the cache (streams: true). */
  mediaReady: boolean;
}

export interface Playing {
  key: string;
  priority: Priority;
  zones: string[];
  startedAt: number;
  /** Informational: the newcomer's policy decides, not the running item's. */
  policy?: Policy;
}

export interface DecideInput {
  now: number;
  queue: readonly Job[];
  playing: readonly Playing[];
  quietHours: readonly QuietWindow[];
  /** Minutes since local midnight at `now` (may be fractional); see localMinutesOf(). */
  localMinutes: number;
  /** Operator stop (control `stop`): normal/priority jobs do not start; emergencies still do. */
  stopped?: boolean;
}

export type Decision =
  | { kind: 'start'; key: string; zones: string[] }
  | { kind: 'preempt'; key: string; by: string; zones: string[] }
  | { kind: 'missed'; key: string; reason: 'max_delay' | 'quiet_hours' | 'stopped' }
  | { kind: 'fail'; key: string; reason: 'media_not_ready' };

// ---- decide ---------------------------------------------------------------------------------

const rank = (p: Priority): number => PRIORITY_RANK[p] ?? 0;
const deadlineOf = (j: Job): number => j.readyAt + j.maxDelayMs;
const eligibleSince = (j: Job): number => Math.max(j.readyAt, j.enqueuedAt);
const uniq = (zones: readonly string[]): string[] => [...new Set(zones)];

function byLevelThenFifo(a: Job, b: Job): number {
  return rank(b.priority) - rank(a.priority) || a.enqueuedAt - b.enqueuedAt || a.readyAt - b.readyAt || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0);
}

/** Local minutes at time t, derived from the caller's localMinutes at `now` (exact without DST). */
function localMinutesAt(input: DecideInput, t: number): number {
  return input.localMinutes + (t - input.now) / MS_PER_MINUTE;
}

type ZoneClaim = { kind: 'playing'; item: Playing } | { kind: 'started'; key: string } | { kind: 'reserved'; rank: number };

export function decide(input: DecideInput): Decision[] {
  const { now } = input;
  const quietNow = isQuietTime(input.localMinutes, input.quietHours);
  const gated = (j: Job): boolean => j.priority !== 'emergency' && (quietNow || input.stopped === true);

  const playingKeys = new Set(input.playing.map((p) => p.key));
  const seen = new Set<string>();
  const givenUp: Decision[] = [];
  const eligible: Job[] = [];

  for (const job of input.queue) {
    if (playingKeys.has(job.key) || seen.has(job.key)) continue;
    seen.add(job.key);
    const deadline = deadlineOf(job);
    if (now > deadline) {
      if (!job.mediaReady) givenUp.push({ kind: 'fail', key: job.key, reason: 'media_not_ready' });
      else if (job.priority !== 'emergency' && input.stopped === true) givenUp.push({ kind: 'missed', key: job.key, reason: 'stopped' });
      else if (job.priority !== 'emergency' && isQuietTime(localMinutesAt(input, deadline), input.quietHours)) {
        givenUp.push({ kind: 'missed', key: job.key, reason: 'quiet_hours' });
      } else givenUp.push({ kind: 'missed', key: job.key, reason: 'max_delay' });
      continue;
    }
    if (job.readyAt > now || !job.mediaReady || gated(job)) continue;
    eligible.push(job);
  }
  eligible.sort(byLevelThenFifo);

  const claims = new Map<string, ZoneClaim>();
  for (const p of input.playing) for (const z of uniq(p.zones)) claims.set(z, { kind: 'playing', item: p });
  const preempted = new Set<string>();
  const started: Decision[] = [];

  for (const job of eligible) {
    const r = rank(job.priority);
    const zones = uniq(job.zones);
    const victims = new Map<string, Playing>();
    let blocked = false;
    for (const z of zones) {
      const c = claims.get(z);
      if (c === undefined) continue;
      if (c.kind === 'started') {
        blocked = true;
        break;
      }
      if (c.kind === 'reserved') {
        const ignorable = job.priority !== 'emergency' && job.policy === 'interrupt' && c.rank === r;
        if (!ignorable) {
          blocked = true;
          break;
        }
        continue;
      }
      const p = c.item;
      const pr = rank(p.priority);
      const canPreempt = p.priority !== 'emergency' && (job.priority === 'emergency' ? pr < r : pr === r && job.policy === 'interrupt' && p.startedAt < eligibleSince(job));
      if (!canPreempt) {
        blocked = true;
        break;
      }
      victims.set(p.key, p);
    }
    if (blocked) {
      // Reserve the zones it waits for; a zone already claimed stronger keeps its claim.
      for (const z of zones) {
        const c = claims.get(z);
        if (c === undefined || (c.kind === 'reserved' && c.rank < r)) claims.set(z, { kind: 'reserved', rank: r });
      }
      continue;
    }
    for (const v of victims.values()) {
      preempted.add(v.key);
      const vz = uniq(v.zones);
      started.push({ kind: 'preempt', key: v.key, by: job.key, zones: vz });
      for (const z of vz) {
        const c = claims.get(z);
        if (c?.kind === 'playing' && c.item.key === v.key) claims.delete(z);
      }
    }
    for (const z of zones) claims.set(z, { kind: 'started', key: job.key });
    started.push({ kind: 'start', key: job.key, zones });
  }
  return [...givenUp, ...started];
}

/**
 * The earliest time after `now` at which decide() could answer differently if nothing else
 * happens: a job's readyAt, the first millisecond past a job's deadline, or a quiet-hours
 * boundary (only when a normal/priority job is queued). Undefined when nothing is pending.
 */
export function nextWakeAt(input: DecideInput): number | undefined {
  const { now } = input;
  let best: number | undefined;
  const consider = (t: number): void => {
    if (Number.isFinite(t) && t > now && (best === undefined || t < best)) best = t;
  };
  const playingKeys = new Set(input.playing.map((p) => p.key));
  let gatedJobs = false;
  for (const job of input.queue) {
    if (playingKeys.has(job.key)) continue;
    consider(job.readyAt);
    consider(Math.floor(deadlineOf(job)) + 1);
    if (job.priority !== 'emergency') gatedJobs = true;
  }
  if (gatedJobs && Number.isFinite(input.localMinutes)) {
    const m = msOfDay(input.localMinutes);
    for (const w of input.quietHours) {
      const start = parseHhmm(w?.start);
      const end = parseHhmm(w?.end);
      if (start === undefined || end === undefined || start === end) continue;
      for (const b of [start, end]) {
        const delta = (((b * MS_PER_MINUTE - m) % MS_PER_DAY) + MS_PER_DAY) % MS_PER_DAY;
        consider(now + (delta === 0 ? MS_PER_DAY : delta));
      }
    }
  }
  return best;
}
