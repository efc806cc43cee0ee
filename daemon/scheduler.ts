import { occurrencesBetween, type Occurrence, type ScheduleBody } from '../protocol/index.js';
import type { Clock } from './clock.js';
import type { StationStore } from './store.js';

export interface SchedulerHooks {
  /** An occurrence whose time has come (within the grace window). */
  fire(occ: Occurrence, version: number): void;
  /** An occurrence that could not start within the grace window (daemon down, clock step). */
  missed(occ: Occurrence, version: number, lateMs: number): void;
  error?(e: Error): void;
  /** The wall clock jumped (NTP step, suspend, operator): timers armed on it are stale. */
  clockStepped?(deltaMs: number): void;
}

/**
 * Plays the applied schedule with or without a broker. It expands recurrence itself, re-arms
 * at most every 60 s from the wall clock (so clock steps and suspend are noticed), and keeps
 * `scan_until` in SQLite so a restart knows what it has already handled.
 */
export class Scheduler {
  /** Never look back further than this when catching up after downtime. */
  static readonly MAX_CATCH_UP_MS = 7 * 86_400_000;
  static readonly MAX_SLEEP_MS = 60_000;
  /**
   * Occurrences are queued this long before their time, so the database write and the ack
   * happen ahead and the engine's own timer starts the audio on the planned instant.
   */
  static readonly LEAD_MS = 2_000;
  /** A wall-clock change beyond this between two one-second checks counts as a step. */
  static readonly STEP_MS = 500;
  private timer: NodeJS.Timeout | undefined;
  private watch: NodeJS.Timeout | undefined;
  private stopped = false;
  /** Wall-clock minus monotonic time at the last check: it moves only when the clock steps. */
  private skew = 0;

  constructor(
    private readonly store: StationStore,
    private readonly clock: Clock,
    private readonly graceMs: number,
    private readonly hooks: SchedulerHooks,
  ) {}

  start(): void {
    this.stopped = false;
    if (this.store.getMeta('scan_until') === undefined) this.store.setMeta('scan_until', this.clock.now());
    this.skew = this.clock.now() - performance.now();
    // A cheap once-a-second look for clock steps, so a jump is handled at once rather than at
    // the next minute's re-arm.
    this.watch = setInterval(() => {
      const skew = this.clock.now() - performance.now();
      const delta = skew - this.skew;
      this.skew = skew;
      if (Math.abs(delta) > Scheduler.STEP_MS) {
        this.hooks.clockStepped?.(delta);
        this.tick();
      }
    }, 1000);
    this.watch.unref();
    this.tick();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    if (this.watch) clearInterval(this.watch);
  }

  /** A new schedule was applied: occurrences from now on follow it. */
  reload(): void {
    this.tick();
  }

  private tick(): void {
    if (this.timer) clearTimeout(this.timer);
    if (this.stopped) return;
    try {
      this.scan();
    } catch (e) {
      // Never let one bad tick end the schedule: try again within the minute.
      this.hooks.error?.(e as Error);
      this.timer = setTimeout(() => this.tick(), Scheduler.MAX_SLEEP_MS);
    }
  }

  private scan(): void {
    const now = this.clock.now();
    const horizon = now + Scheduler.LEAD_MS;
    const current = this.store.currentSchedule();
    let scanUntil = Number(this.store.getMeta('scan_until') ?? horizon);
    if (horizon < scanUntil) {
      // The clock went back: occurrences up to scanUntil were handled, and broadcast ids are
      // derived from planned times, so re-reaching them cannot air anything twice.
      scanUntil = horizon;
    }
    if (current) {
      const from = Math.max(scanUntil, now - Scheduler.MAX_CATCH_UP_MS);
      for (const occ of occurrencesBetween(current.body, from, horizon)) {
        const late = now - occ.plannedAt;
        if (late <= this.graceMs) this.hooks.fire(occ, current.version);
        else this.hooks.missed(occ, current.version, late);
      }
    }
    this.store.setMeta('scan_until', horizon);
    const next = current ? nextAfter(current.body, horizon) : undefined;
    const wait = Math.max(0, Math.min(Scheduler.MAX_SLEEP_MS, next === undefined ? Infinity : next - Scheduler.LEAD_MS - now));
    this.timer = setTimeout(() => this.tick(), wait);
  }
}

function nextAfter(body: ScheduleBody, now: number): number | undefined {
  const occ = occurrencesBetween(body, now, now + Scheduler.MAX_SLEEP_MS + 1000, 2)[0];
  return occ?.plannedAt;
}
