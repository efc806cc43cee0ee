import type { StationView } from '../../shared/api';

export type Health = 'ok' | 'warn' | 'offline' | 'silent' | 'unknown';

/** Grace on top of the telemetry period: the timer's jitter and the collector's 200 ms tick. */
const SLACK_MS = 2000;
const DEFAULT_TELEMETRY_SEC = 30;

/** Red when the station says it is offline, or has said nothing for longer than its telemetry period. */
export function health(s: StationView, now: number): Health {
  if (s.online === null && s.lastSeen === null) return 'unknown';
  if (s.online === false) return 'offline';
  const period = (s.telemetrySec ?? DEFAULT_TELEMETRY_SEC) * 1000;
  if (s.lastSeen === null || now - s.lastSeen > period + SLACK_MS) return 'silent';
  if (s.storeFault || s.stopped || s.storeReset || s.ackConflicts > 0 || (s.clockOffsetMs !== null && Math.abs(s.clockOffsetMs) > 2000)) return 'warn';
  return 'ok';
}

export const isRed = (h: Health) => h === 'offline' || h === 'silent';
