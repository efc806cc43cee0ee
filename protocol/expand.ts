import { Cron } from 'croner';
import type { ScheduleBody, ScheduleItem } from './schemas.js';

export interface Occurrence {
  item: ScheduleItem;
  /** Planned start, unix ms. */
  plannedAt: number;
  /** Stable id of this airing: the same on the station, in acks and in the central report. */
  broadcastId: string;
}

export function occurrenceId(itemId: string, plannedAt: number): string {
  return `${itemId}-${Math.floor(plannedAt / 1000)}`;
}

/** Returns an error message, or undefined when the expression is valid for croner. */
export function cronError(expr: string, tz: string): string | undefined {
  // croner accepts a leading seconds field; a loudspeaker item more often than once a minute is
  // always a mistake, and would cost thousands of acks an hour.
  const fields = expr.trim().split(/\s+/);
  if (!expr.trim().startsWith('@') && fields.length > 5) {
    return `expected 5 fields (minute hour day month weekday); "${expr}" has ${fields.length}: schedules more often than once a minute are refused`;
  }
  try {
    new Cron(expr, { timezone: tz, paused: true });
    return undefined;
  } catch (e) {
    return (e as Error).message;
  }
}

/**
 * Current IANA names that ICU (Node's time-zone data) lists under an older canonical name, so
 * they are not in Intl.supportedValuesOf('timeZone') although every Intl API accepts them.
 */
const ICU_CANONICAL: Readonly<Record<string, string>> = {
  'Asia/Ho_Chi_Minh': 'Asia/Saigon',
  'Asia/Kolkata': 'Asia/Calcutta',
  'Asia/Kathmandu': 'Asia/Katmandu',
  'Asia/Yangon': 'Asia/Rangoon',
  'Europe/Kyiv': 'Europe/Kiev',
  'America/Nuuk': 'America/Godthab',
  'Atlantic/Faroe': 'Atlantic/Faeroe',
  'Pacific/Chuuk': 'Pacific/Truk',
  'Pacific/Pohnpei': 'Pacific/Ponape',
};

/**
 * Undefined when `tz` is a time zone Intl accepts. Looked up in the list of supported zones
 * first: constructing an Intl.DateTimeFormat makes ICU load its date-formatting data (about
 * 8 MiB that then stay resident in a station that may never format a date). Only a name the
 * list does not have (an alias, UTC, other spellings) is tried the expensive, exact way.
 */
export function timezoneError(tz: string): string | undefined {
  if (typeof tz === 'string') {
    const known = Intl.supportedValuesOf('timeZone');
    if (known.includes(tz) || known.includes(ICU_CANONICAL[tz] ?? '')) return undefined;
  }
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return undefined;
  } catch {
    return `unknown time zone ${tz}`;
  }
}

function window(item: ScheduleItem): [number, number] {
  return [item.validFrom ? Date.parse(item.validFrom) : -Infinity, item.validUntil ? Date.parse(item.validUntil) : Infinity];
}

/**
 * Occurrences with fromMs < plannedAt <= toMs, in time order. Croner does the calendar maths:
 * a local time skipped by a DST jump fires once at the next valid time, a repeated one fires once.
 */
export function occurrencesBetween(schedule: ScheduleBody, fromMs: number, toMs: number, limitPerItem = 10_000): Occurrence[] {
  const out: Occurrence[] = [];
  for (const item of schedule.items) {
    const [validFrom, validUntil] = window(item);
    if (item.at !== undefined) {
      const t = Date.parse(item.at);
      if (t > fromMs && t <= toMs && t >= validFrom && t <= validUntil) {
        out.push({ item, plannedAt: t, broadcastId: occurrenceId(item.id, t) });
      }
      continue;
    }
    // An item that cannot be expanded (bad pattern or zone) is skipped, never fatal to the rest.
    try {
      const cron = new Cron(item.cron!, { timezone: item.tz ?? schedule.tz, paused: true });
      let cursor = new Date(Math.max(fromMs, validFrom === -Infinity ? fromMs : validFrom - 1));
      for (let n = 0; n < limitPerItem; n++) {
        const next = cron.nextRun(cursor);
        if (!next) break;
        const t = next.getTime();
        if (t > toMs || t > validUntil) break;
        if (t > fromMs && t >= validFrom) out.push({ item, plannedAt: t, broadcastId: occurrenceId(item.id, t) });
        cursor = next;
      }
    } catch {}
  }
  return out.sort((a, b) => a.plannedAt - b.plannedAt || a.item.id.localeCompare(b.item.id));
}

/** The next `count` occurrences strictly after fromMs (the CLI's `schedule next`). */
export function nextOccurrences(schedule: ScheduleBody, fromMs: number, count: number, horizonMs = 400 * 86_400_000): Occurrence[] {
  const out: Occurrence[] = [];
  for (const item of schedule.items) {
    const single = { ...schedule, items: [item] };
    // Expand in growing windows so a yearly item does not cost a year of minutely steps.
    out.push(...occurrencesBetween(single, fromMs, fromMs + horizonMs, count));
  }
  return out.sort((a, b) => a.plannedAt - b.plannedAt).slice(0, count);
}
