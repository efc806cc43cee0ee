/**
 * Playback policy: every rule about what a kind of broadcast is allowed to do on air, in one
 * pure place. The decision (decide.ts) works on levels; this file says which level each kind of
 * broadcast gets and what else follows from its kind: volume, length, chime or preamble,
 * exemptions from `stop` and quiet hours, re-airing after a crash, and who may cancel it.
 *
 * KINDS
 * - live alert (two or more signatures, `test: false`): level `emergency`. Preempts anything
 *   that is not an emergency, ignores quiet hours, `stop` and operator volume, plays at each
 *   zone's maximum volume with the emergency chime, and airs again from the start if the
 *   station restarted while it was on air. Cancelling it needs the same quorum as sending it.
 * - test alert (`test: true`, one signature): level `priority`, never `emergency`. It obeys
 *   quiet hours and `stop`, plays at no more than the fleet's test volume and for no longer
 *   than the fleet's test length, and always begins with the station's own cached preamble
 *   ("Đây là bản tin thử nghiệm…"), whatever audio the sender attached: a test can never
 *   sound like a real alert, and a live alert always cuts it.
 * - announcement / scheduled item: its own level (`normal` or `priority`), its own volume
 *   within the zone's maximum, the chime of its level if it asked for one.
 */
import type { Priority } from './decide.js';

export type BroadcastKind = 'live-alert' | 'test-alert' | 'announce' | 'schedule';

/** Fleet limits for test alerts (station config `testAlerts`). */
export interface TestAlertPolicy {
  maxDurationMs: number;
  maxVolume: number;
}

export interface KindInput {
  commandType: 'schedule' | 'announce' | 'alert';
  /** Alerts only. */
  test?: boolean;
  /** Announcements and schedule items: their declared level. */
  priority?: 'normal' | 'priority';
}

export function kindOf(k: KindInput): BroadcastKind {
  if (k.commandType === 'alert') return k.test ? 'test-alert' : 'live-alert';
  return k.commandType;
}

/** The level the playback decision sees. */
export function levelOf(k: KindInput): Priority {
  switch (kindOf(k)) {
    case 'live-alert':
      return 'emergency';
    case 'test-alert':
      return 'priority';
    default:
      return k.priority ?? 'normal';
  }
}

/** Whether a broadcast still starts under operator `stop` and inside quiet hours. */
export function exemptFromStopAndQuiet(level: Priority): boolean {
  return level === 'emergency';
}

/** Whether operator `control volume` changes it while on air. */
export function followsOperatorVolume(level: Priority): boolean {
  return level !== 'emergency';
}

export interface VolumeInput {
  kind: BroadcastKind;
  /** The zone's maximum (config). */
  zoneMax: number;
  /** The zone's current volume (default, or set by `control volume`). */
  zoneVolume: number;
  /** The broadcast's own volume, if it asked for one. */
  requested?: number;
}

export function volumeFor(v: VolumeInput, tests: TestAlertPolicy): number {
  switch (v.kind) {
    case 'live-alert':
      return v.zoneMax;
    case 'test-alert':
      return Math.min(v.zoneVolume, tests.maxVolume, v.zoneMax);
    default:
      return Math.min(v.requested ?? v.zoneVolume, v.zoneMax);
  }
}

/** Upper bound on one airing, in ms (undefined: the audio's own length). */
export function maxDurationMs(kind: BroadcastKind, requestedSec: number | undefined, tests: TestAlertPolicy): number | undefined {
  const requested = requestedSec !== undefined ? requestedSec * 1000 : undefined;
  if (kind === 'test-alert') return Math.min(requested ?? Infinity, tests.maxDurationMs);
  return requested;
}

/** What leads the airing: the chime of a level, the station's test preamble, or nothing. */
export type Lead = { kind: 'chime'; level: Priority } | { kind: 'test-preamble' } | { kind: 'none' };

export function leadFor(kind: BroadcastKind, level: Priority, chimeRequested: boolean): Lead {
  if (kind === 'test-alert') return { kind: 'test-preamble' };
  if (kind === 'live-alert') return { kind: 'chime', level: 'emergency' };
  return chimeRequested ? { kind: 'chime', level } : { kind: 'none' };
}

/**
 * A test alert without its preamble must not air: a clip that sounds like a real warning,
 * sent with one signature, is exactly what the two-person rule exists to prevent.
 */
export function mayAirWithoutLead(kind: BroadcastKind): boolean {
  return kind !== 'test-alert';
}

/** After a crash mid-airing: air it again from the start, or report it failed (interrupted). */
export function reairAfterRestart(level: Priority): boolean {
  // A cut-off warning is worse than a repeated one; a repeated programme is worse than a gap.
  return level === 'emergency';
}

export interface CancelInput {
  /** Level of the broadcast to cancel (undefined: the station does not know it). */
  targetLevel: Priority | undefined;
  /** Distinct public keys on the cancel that may sign alerts. */
  alertKeys: number;
  alertQuorum: number;
}

/**
 * Who may stop what. A live emergency was sent by a quorum of people; one key alone must not
 * be able to silence it (a stolen key would turn a real warning into a missed one), so its
 * cancel needs the same quorum. Anything else may be cancelled by any key allowed to cancel.
 * See docs/decisions.md, "Who may stop an emergency".
 */
export function cancelVerdict(c: CancelInput): { ok: true } | { ok: false; reason: 'quorum_not_met'; detail: string } {
  if (c.targetLevel !== 'emergency') return { ok: true };
  if (c.alertKeys >= c.alertQuorum) return { ok: true };
  return {
    ok: false,
    reason: 'quorum_not_met',
    detail: `cancelling a live alert needs signatures by ${c.alertQuorum} different keys allowed to sign alerts, it has ${c.alertKeys}`,
  };
}
