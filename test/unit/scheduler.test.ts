// The scheduler with fake timers and a fixed wall clock: what it queues and when, what it
// records as missed, and what a clock step or a refusing store does to it.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { StationEventBus } from '../../daemon/events.js';
import { AckOutbox } from '../../daemon/outbox.js';
import { Scheduler } from '../../daemon/scheduler.js';
import { type JobRow, StationStore } from '../../daemon/store.js';
import type { ScheduleBody } from '../../protocol/index.js';

const T0 = Date.UTC(2026, 11, 1, 22, 29, 0); // 05:29 in Hội An
const media = { kind: 'media' as const, sha256: 'b'.repeat(64), size: 100 };

function schedule(items: ScheduleBody['items']): ScheduleBody {
  return { station: 'st-a', version: 1, tz: 'Asia/Ho_Chi_Minh', items };
}
const item = (o: Partial<ScheduleBody['items'][number]>) => ({
  id: 'news',
  title: 'Tin',
  chime: false,
  repeat: 1,
  gapSec: 0,
  policy: 'wait' as const,
  maxDelaySec: 300,
  priority: 'normal' as const,
  audio: media,
  ...o,
});

function setup(body: ScheduleBody, scanUntil?: number) {
  const store = new StationStore(':memory:');
  store.saveSchedule(1, 'sched-1', body, Date.now());
  if (scanUntil !== undefined) store.setMeta('scan_until', scanUntil);
  const events = new StationEventBus();
  const queued: { job: JobRow; at: number }[] = [];
  const steps: number[] = [];
  events.on('job-queued', ({ job }) => queued.push({ job, at: Date.now() }));
  events.on('clock-stepped', ({ deltaMs }) => steps.push(deltaMs));
  const clock = { now: () => Date.now() };
  const scheduler = new Scheduler({ store, outbox: new AckOutbox(store, 'st-a', clock), clock, graceMs: 60_000, zones: ['main'], hooks: { has: () => false }, events });
  return { store, scheduler, queued, steps };
}

describe('Scheduler', () => {
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date', 'performance'] });
    vi.setSystemTime(T0);
  });
  afterEach(() => vi.useRealTimers());

  it('queues a daily 05:30 item 2 s ahead of its time, once', () => {
    const { scheduler, queued } = setup(schedule([item({ cron: '30 5 * * *' })]));
    scheduler.start();
    vi.advanceTimersByTime(57_999);
    expect(queued).toHaveLength(0);
    vi.advanceTimersByTime(1);
    expect(queued.map((q) => [q.job.key, q.job.readyAt - q.at])).toEqual([['news-' + (T0 + 60_000) / 1000, 2000]]);
    vi.advanceTimersByTime(120_000);
    expect(queued).toHaveLength(1);
    scheduler.stop();
  });

  it('after three hours off, a minutely item gets one missed ack for the whole run, not one per minute', () => {
    const { scheduler, store, queued } = setup(schedule([item({ id: 'tick', cron: '* * * * *' })]), T0 - 3 * 3600_000);
    scheduler.start();
    const missed = store.outbox().filter((r) => r.ack.state === 'missed');
    expect(missed).toHaveLength(1);
    // 180 minutes in the window; the two within the 60 s grace (05:28 and 05:29) still air.
    expect(missed[0]!.ack.detail).toMatch(/^178 occurrences from 2026-12-01T19:30:00.000Z to 2026-12-01T22:27:00.000Z/);
    expect(queued.map((q) => q.job.readyAt)).toEqual([T0 - 60_000, T0]);
    scheduler.stop();
  });

  it('notices a wall-clock step within a second', () => {
    const { scheduler, steps } = setup(schedule([]));
    scheduler.start();
    vi.setSystemTime(Date.now() + 3600_000);
    vi.advanceTimersByTime(1000);
    expect(steps).toHaveLength(1);
    expect(Math.round(steps[0]! / 1000)).toBe(3600);
    scheduler.stop();
  });

  it('keeps queuing when the store refuses writes (the writes wait in memory)', () => {
    const { scheduler, store, queued } = setup(schedule([item({ cron: '30 5 * * *' })]));
    store.db.pragma('query_only = 1');
    scheduler.start();
    vi.advanceTimersByTime(60_000);
    expect(queued).toHaveLength(1);
    expect(store.deferredCount).toBeGreaterThan(0);
    store.db.pragma('query_only = 0');
    expect(store.recover()).toBe(true);
    expect(store.outbox().map((r) => r.ack.state)).toEqual(['scheduled']);
    scheduler.stop();
  });
});
