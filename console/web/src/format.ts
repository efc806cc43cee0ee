// Times in the fleet's zone (Asia/Ho_Chi_Minh), sizes, durations.
let zone = 'Asia/Ho_Chi_Minh';
let serverOffsetMs = 0;
export const setZone = (tz: string) => {
  zone = tz;
};
/** Server clock minus this browser's: "silent for 40 s" is judged on the server's time. */
export const setServerNow = (serverNow: number) => {
  serverOffsetMs = serverNow - Date.now();
};
export const serverNow = () => Date.now() + serverOffsetMs;

const pad = (n: number) => String(n).padStart(2, '0');

function parts(ms: number): Record<string, string> {
  const out: Record<string, string> = {};
  for (const p of new Intl.DateTimeFormat('en-GB', {
    timeZone: zone,
    hourCycle: 'h23',
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
  }).formatToParts(new Date(ms)))
    out[p.type] = p.value;
  return out;
}

export function dateTime(ms: number | string | null | undefined): string {
  if (ms === null || ms === undefined) return '–';
  const t = typeof ms === 'string' ? Date.parse(ms) : ms;
  if (!Number.isFinite(t)) return '–';
  const p = parts(t);
  return `${p.day}/${p.month} ${p.hour}:${p.minute}:${p.second}`;
}

export function time(ms: number | string | null | undefined): string {
  if (ms === null || ms === undefined) return '–';
  const t = typeof ms === 'string' ? Date.parse(ms) : ms;
  const p = parts(t);
  return `${p.hour}:${p.minute}:${p.second}`;
}

/** YYYY-MM-DD of an instant in the fleet's zone. */
export function localDate(ms: number): string {
  const p = parts(ms);
  return `${p.year}-${p.month}-${p.day}`;
}

/** `YYYY-MM-DDTHH:MM` (a datetime-local value, fleet zone) to an ISO instant with offset. */
export function localInputToIso(value: string): string {
  const m = /^(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d)$/.exec(value);
  if (!m) return '';
  const guess = Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!);
  const offsetAt = (t: number) => {
    const p = parts(t);
    return Date.UTC(+p.year!, +p.month! - 1, +p.day!, +p.hour!, +p.minute!, +p.second!) - Math.floor(t / 1000) * 1000;
  };
  const first = guess - offsetAt(guess);
  return new Date(guess - offsetAt(first)).toISOString();
}

export function ago(ms: number | null, now = serverNow()): string {
  if (ms === null) return '–';
  const s = Math.max(0, Math.round((now - ms) / 1000));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${pad(s % 60)}`;
  if (s < 86400) return `${Math.floor(s / 3600)}h${pad(Math.floor((s % 3600) / 60))}`;
  return `${Math.floor(s / 86400)}d${Math.floor((s % 86400) / 3600)}h`;
}

export function bytes(n: number | null): string {
  if (n === null) return '–';
  if (n >= 1024 ** 3) return `${(n / 1024 ** 3).toFixed(1)} GB`;
  if (n >= 1024 ** 2) return `${Math.round(n / 1024 ** 2)} MB`;
  return `${Math.round(n / 1024)} kB`;
}

export function seconds(s: number): string {
  const m = Math.floor(s / 60);
  return m > 0 ? `${m}:${pad(Math.round(s % 60))}` : `${s.toFixed(1)} s`;
}
