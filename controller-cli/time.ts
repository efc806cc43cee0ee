import { t } from '../io/i18n.js';
import { UsageError } from './errors.js';

/** Milliseconds to add to UTC to get wall-clock time in `tz` at instant `ms`. */
export function tzOffsetMs(tz: string, ms: number): number {
  const parts = new Intl.DateTimeFormat('en-US', {
    timeZone: tz,
    hourCycle: 'h23',
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
  }).formatToParts(new Date(ms));
  const get = (type: string) => Number(parts.find((p) => p.type === type)?.value);
  const asUtc = Date.UTC(get('year'), get('month') - 1, get('day'), get('hour'), get('minute'), get('second'));
  return asUtc - Math.floor(ms / 1000) * 1000;
}

/** Wall-clock time in `tz` to an instant. */
export function localToUtc(tz: string, y: number, mo: number, d: number, h = 0, mi = 0, s = 0): number {
  const guess = Date.UTC(y, mo - 1, d, h, mi, s);
  const first = guess - tzOffsetMs(tz, guess);
  return guess - tzOffsetMs(tz, first);
}

export function formatLocal(ms: number, tz: string): string {
  const local = new Date(ms + tzOffsetMs(tz, ms));
  return local.toISOString().slice(0, 16).replace('T', ' ');
}

/**
 * Times on the command line: an ISO instant with offset, `YYYY-MM-DD[ HH:MM]` or `HH:MM`
 * (local time in the fleet's zone; `HH:MM` already past today means tomorrow).
 */
export function parseWhen(text: string, tz: string, now: number, option: string): number {
  const s = text.trim();
  if (/[zZ]$|[+-]\d\d:?\d\d$/.test(s) && /^\d{4}-\d\d-\d\dT/.test(s)) {
    const ms = Date.parse(s);
    if (Number.isFinite(ms)) return ms;
  }
  let m = /^(\d{4})-(\d\d)-(\d\d)(?:[ T](\d\d):(\d\d)(?::(\d\d))?)?$/.exec(s);
  if (m) return localToUtc(tz, +m[1]!, +m[2]!, +m[3]!, +(m[4] ?? 0), +(m[5] ?? 0), +(m[6] ?? 0));
  m = /^(\d\d?):(\d\d)$/.exec(s);
  if (m && +m[1]! < 24 && +m[2]! < 60) {
    const today = new Date(now + tzOffsetMs(tz, now));
    let at = localToUtc(tz, today.getUTCFullYear(), today.getUTCMonth() + 1, today.getUTCDate(), +m[1]!, +m[2]!);
    if (at <= now) at = localToUtc(tz, today.getUTCFullYear(), today.getUTCMonth() + 1, today.getUTCDate() + 1, +m[1]!, +m[2]!);
    return at;
  }
  throw new UsageError(t('time.invalid', { option, value: text }));
}
