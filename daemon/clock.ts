import { readFileSync } from 'node:fs';

/** Wall clock of the station. Tests and the fault suite move it; production uses Date.now. */
export interface Clock {
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };

/**
 * Test hooks, honoured only with `LOA_TEST_HOOKS=1` so a stray variable on a production box
 * can never move its clock: `LOA_CLOCK_START=<ISO>` starts the clock at that instant and lets
 * it run in real time; `LOA_CLOCK_FILE=<path>` holds an offset in ms that may be rewritten
 * while running (a clock step). Both exist so real daemon processes can be tested at 05:30 or
 * across a clock jump.
 */
export function clockFromEnv(env: NodeJS.ProcessEnv = process.env, warn: (msg: string) => void = () => {}): Clock {
  if (env.LOA_TEST_HOOKS !== '1') {
    if (env.LOA_CLOCK_START || env.LOA_CLOCK_FILE) warn('LOA_CLOCK_START/LOA_CLOCK_FILE are ignored: test hooks are off (set LOA_TEST_HOOKS=1 only in tests)');
    return systemClock;
  }
  let offset = 0;
  if (env.LOA_CLOCK_START) {
    const t = Date.parse(env.LOA_CLOCK_START);
    if (Number.isNaN(t)) throw new Error(`LOA_CLOCK_START: expected an ISO time, got ${env.LOA_CLOCK_START}`);
    offset = t - Date.now();
  }
  const file = env.LOA_CLOCK_FILE;
  if (!file) return offset === 0 ? systemClock : { now: () => Date.now() + offset };
  let cached = 0;
  let readAt = 0;
  return {
    now() {
      const real = Date.now();
      if (real - readAt > 200) {
        readAt = real;
        try {
          const v = Number(readFileSync(file, 'utf8').trim());
          cached = Number.isFinite(v) ? v : 0;
        } catch {
          cached = 0;
        }
      }
      return real + offset + cached;
    },
  };
}
