// CI version of `npm run proof`'s fault table: every fault case once, against real mosquitto
// (generated config, persistence), real daemons and the real `loa collect`. The cases are
// independent (own broker, collector and station each), so they run concurrently.
import { afterAll, describe, expect, test } from 'vitest';
import { brokerDownAtSchedule, brokerKill, cacheQuota, clockStep, collectorDown, daemonKill, type FaultResult } from '../support/proof/faults.js';
import { cleanupTemp } from '../support/proof/lib.js';

afterAll(cleanupTemp);

function expectClean(r: FaultResult): void {
  // Failed checks first: their detail says what went wrong.
  expect(r.checks.filter((c) => !c.ok)).toEqual([]);
  expect(r.emitted).toBeGreaterThan(0);
  expect({ lost: r.lost, duplicated: r.duplicated, crashes: r.crashes, received: r.received }).toEqual({ lost: 0, duplicated: 0, crashes: 0, received: r.emitted });
  expect(r.onTime.ok).toBe(r.onTime.total);
  expect(r.verdict).toBe('PASS');
}

describe.concurrent('faults: nothing lost, nothing twice, nothing crashes (1 repetition each)', () => {
  test('broker kill -9 mid-broadcast, restart', async () => {
    expectClean(await brokerKill(1));
  }, 120_000);

  test('daemon SIGKILL mid-playback, restart: the airing is acked failed/interrupted and not re-aired', async () => {
    expectClean(await daemonKill(1));
  }, 120_000);

  test('collector down for a whole broadcast, then started: every ack arrives', async () => {
    expectClean(await collectorDown(1));
  }, 120_000);

  test('broker down at a scheduled time: the item airs on time', async () => {
    const r = await brokerDownAtSchedule(1);
    expectClean(r);
    expect(r.onTime.total).toBe(1);
  }, 120_000);

  test('cache quota exceeded: unpinned clips evicted, nothing pending evicted, each pending clip airs its own audio', async () => {
    const r = await cacheQuota(1);
    expectClean(r);
    expect(r.onTime.total).toBe(3);
  }, 180_000);

  test('wall clock stepped back and forward by an hour: skipped items acked missed, nothing aired twice', async () => {
    const r = await clockStep(1);
    expectClean(r);
    expect(r.onTime.total).toBe(3);
  }, 180_000);
});
