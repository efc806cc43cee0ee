import { z } from 'zod';

// Quiet hours: local-time windows in which normal and priority items do not start. Pure; the
// station's playback decision and the console's schedule review both use it.

export interface QuietWindow {
  /** Local 'HH:MM', inclusive. */
  start: string;
  /** Local 'HH:MM', exclusive. start > end wraps midnight; start == end is an empty window. */
  end: string;
}

const MINUTES_PER_DAY = 1440;
export const MS_PER_MINUTE = 60_000;
export const MS_PER_DAY = MINUTES_PER_DAY * MS_PER_MINUTE;

/** Local time of day as integer milliseconds, so boundary comparisons are exact. */
export function msOfDay(localMinutes: number): number {
  const ms = Math.round(localMinutes * MS_PER_MINUTE);
  return ((ms % MS_PER_DAY) + MS_PER_DAY) % MS_PER_DAY;
}
const HHMM = /^([01][0-9]|2[0-3]):([0-5][0-9])$/;

export function parseHhmm(s: unknown): number | undefined {
  if (typeof s !== 'string') return undefined;
  const m = HHMM.exec(s);
  return m ? Number(m[1]) * 60 + Number(m[2]) : undefined;
}

/** For config validation: an error message, or undefined when the window is well-formed. */
export function quietWindowError(w: QuietWindow): string | undefined {
  if (parseHhmm(w?.start) === undefined) return `quiet hours start ${JSON.stringify(w?.start)}: expected HH:MM (00:00-23:59)`;
  if (parseHhmm(w?.end) === undefined) return `quiet hours end ${JSON.stringify(w?.end)}: expected HH:MM (00:00-23:59)`;
  return undefined;
}

/**
 * True when `localMinutes` (minutes since local midnight, may be fractional) falls in any
 * window [start, end). Windows with start > end wrap midnight (22:00-05:00). A malformed window
 * is ignored here (never throws, so a bad config cannot stop the emergency path); validate
 * config with quietWindowError().
 */
export function isQuietTime(localMinutes: number, windows: readonly QuietWindow[]): boolean {
  if (!Number.isFinite(localMinutes)) return false;
  const m = msOfDay(localMinutes);
  for (const w of windows) {
    let start = parseHhmm(w?.start);
    let end = parseHhmm(w?.end);
    if (start === undefined || end === undefined || start === end) continue;
    start *= MS_PER_MINUTE;
    end *= MS_PER_MINUTE;
    if (start < end ? m >= start && m < end : m >= start || m < end) return true;
  }
  return false;
}

const formatters = new Map<string, Intl.DateTimeFormat>();

/**
 * Minutes since local midnight in `tz` at `nowMs`, including seconds and milliseconds as a
 * fraction. Pure (Intl only; formatters are memoised). Throws RangeError on an unknown tz.
 */
export function localMinutesOf(nowMs: number, tz: string): number {
  let f = formatters.get(tz);
  if (!f) {
    f = new Intl.DateTimeFormat('en-GB', {
      timeZone: tz,
      hourCycle: 'h23',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
    });
    formatters.set(tz, f);
  }
  let h = 0;
  let min = 0;
  let s = 0;
  for (const p of f.formatToParts(new Date(nowMs))) {
    if (p.type === 'hour') h = Number(p.value) % 24;
    else if (p.type === 'minute') min = Number(p.value);
    else if (p.type === 'second') s = Number(p.value);
  }
  const ms = ((nowMs % 1000) + 1000) % 1000;
  return h * 60 + min + (s + ms / 1000) / 60;
}

/** A window as people write it in the fleet file and station.yaml. */
export const QuietWindowSchema = z.strictObject({
  start: z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'expected a time of day "HH:MM" (00:00 to 23:59)'),
  end: z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'expected a time of day "HH:MM" (00:00 to 23:59)'),
});
