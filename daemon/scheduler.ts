import { type Occurrence, occurrencesBetween, type ScheduleBody } from '../protocol/index.js';
import type { Clock } from './clock.js';
import type { StationEventBus } from './events.js';
import type { AckOutbox } from './outbox.js';
import type { JobRow, StationStore } from './store.js';

export interface SchedulerHooks {
  /** Whether playout already holds this broadcast (queued or on air). */
  has(key: string): boolean;
  error?(e: Error): void;
}

export interface SchedulerOptions {
  store: StationStore;
  outbox: AckOutbox;
  clock: Clock;
  graceMs: number;
  /** Every zone of the station: an item without zones plays on all of them. */
  zones: string[];
  hooks: SchedulerHooks;
  /** job-queued for each occurrence due; clock-stepped when the wall clock jumps. */
  events: StationEventBus;
}

/**
 * Plays the applied schedule with or without a broker. It expands recurrence itself, turns each
 * occurrence into a job (or a `missed` ack when it is already too late), re-arms at most every
 * 60 s from the wall clock (so clock steps and suspend are noticed), and keeps `scan_until` in
 * SQLite so a restart knows what it has already handled. Writes that a full disk refuses are
 * kept in memory (store.durable) and the schedule keeps playing.
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
  /** scan_until as this process knows it, even when the store cannot record it. */
  private scanUntil: number | undefined;

  constructor(private readonly o: SchedulerOptions) {}

  start(): void {
    this.stopped = false;
    const saved = this.o.store.getMeta('scan_until');
    this.scanUntil = saved === undefined ? this.o.clock.now() : Number(saved);
    this.skew = this.o.clock.now() - performance.now();
    // A cheap once-a-second look for clock steps, so a jump is handled at once rather than at
    // the next minute's re-arm.
    this.watch = setInterval(() => {
      const skew = this.o.clock.now() - performance.now();
      const delta = skew - this.skew;
      this.skew = skew;
      if (Math.abs(delta) > Scheduler.STEP_MS) {
        this.o.events.emit('clock-stepped', { deltaMs: delta });
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
      this.o.hooks.error?.(e as Error);
      this.timer = setTimeout(() => this.tick(), Scheduler.MAX_SLEEP_MS);
    }
  }

  private scan(): void {
    const { store, clock } = this.o;
    const now = clock.now();
    const horizon = now + Scheduler.LEAD_MS;
    const current = store.currentSchedule();
    let scanUntil = this.scanUntil ?? horizon;
    if (horizon < scanUntil) {
      // The clock went back: occurrences up to scanUntil were handled, and broadcast ids are
      // derived from planned times, so re-reaching them cannot air anything twice.
      scanUntil = horizon;
    }
    if (current) {
      const from = Math.max(scanUntil, now - Scheduler.MAX_CATCH_UP_MS);
      const late = new Map<string, Occurrence[]>();
      for (const occ of occurrencesBetween(current.body, from, horizon)) {
        if (now - occ.plannedAt <= this.o.graceMs) this.fire(occ, current.commandId, current.version);
        else late.set(occ.item.id, [...(late.get(occ.item.id) ?? []), occ]);
      }
      for (const occs of late.values()) this.missed(occs, current.commandId, current.version, now);
    }
    this.scanUntil = horizon;
    store.durable('scan_until', () => store.setMeta('scan_until', horizon), now);
    const next = current ? nextAfter(current.body, horizon) : undefined;
    const wait = Math.max(0, Math.min(Scheduler.MAX_SLEEP_MS, next === undefined ? Infinity : next - Scheduler.LEAD_MS - now));
    this.timer = setTimeout(() => this.tick(), wait);
  }

  private fire(occ: Occurrence, commandId: string, version: number): void {
    const { store, outbox } = this.o;
    const job = this.job(occ, commandId);
    if (this.o.hooks.has(job.key) || store.hasJob(job.key)) return;
    store.durable(
      'scheduled',
      () => {
        if (!store.addJob(job)) return;
        outbox.add({
          state: 'scheduled',
          commandId,
          commandType: 'schedule',
          broadcastId: job.key,
          itemId: job.itemId,
          priority: job.priority,
          zones: job.zones,
          plannedAt: job.readyAt,
          scheduleVersion: version,
        });
      },
      this.o.clock.now(),
    );
    // Queued whether or not the write went through: a full disk must not silence the schedule.
    this.o.events.emit('job-queued', { job });
  }

  /**
   * Occurrences of one item found already past the grace window (the daemon was down, the
   * clock jumped): one `missed` ack for the whole run of them, not one per occurrence, so a
   * week of a minutely item is one row, not ten thousand.
   */
  private missed(occs: Occurrence[], commandId: string, version: number, now: number): void {
    const { store, outbox } = this.o;
    const first = occs[0]!;
    const last = occs[occs.length - 1]!;
    const job = { ...this.job(first, commandId), state: 'missed' as const };
    if (store.hasJob(job.key)) return;
    const lateS = Math.round((now - first.plannedAt) / 1000);
    const detail =
      occs.length === 1
        ? `could not start within ${Math.round(this.o.graceMs / 1000)} s (${lateS} s late)`
        : `${occs.length} occurrences from ${new Date(first.plannedAt).toISOString()} to ${new Date(last.plannedAt).toISOString()} could not start within ${Math.round(this.o.graceMs / 1000)} s`;
    store.durable(
      'missed',
      () => {
        if (!store.addJob(job)) return;
        outbox.add({
          state: 'missed',
          commandId,
          commandType: 'schedule',
          broadcastId: job.key,
          itemId: job.itemId,
          priority: job.priority,
          zones: job.zones,
          plannedAt: job.readyAt,
          scheduleVersion: version,
          reason: 'grace_exceeded',
          detail,
        });
        store.addAsRun({
          broadcastId: job.key,
          itemId: job.itemId,
          title: job.spec.title,
          zone: job.zones.join(','),
          priority: job.priority,
          plannedAt: job.readyAt,
          outcome: 'missed',
          reason: occs.length > 1 ? `grace_exceeded (${occs.length} occurrences)` : 'grace_exceeded',
        });
      },
      now,
    );
  }

  private job(occ: Occurrence, commandId: string): JobRow {
    const item = occ.item;
    return {
      key: occ.broadcastId,
      commandId,
      commandType: 'schedule',
      itemId: item.id,
      priority: item.priority,
      zones: item.zones ?? this.o.zones,
      readyAt: occ.plannedAt,
      enqueuedAt: this.o.clock.now(),
      state: 'pending',
      spec: {
        title: item.title,
        audio: item.audio,
        volume: item.volume,
        chime: item.chime,
        repeat: item.repeat,
        gapSec: item.gapSec,
        maxDurationSec: item.maxDurationSec,
        policy: item.policy,
        // A scheduled item is never aired later than the grace window.
        maxDelaySec: Math.min(item.maxDelaySec, Math.round(this.o.graceMs / 1000)),
      },
    };
  }
}

function nextAfter(body: ScheduleBody, now: number): number | undefined {
  const occ = occurrencesBetween(body, now, now + Scheduler.MAX_SLEEP_MS + 1000, 2)[0];
  return occ?.plannedAt;
}
