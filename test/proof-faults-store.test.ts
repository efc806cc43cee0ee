// CI version of the store, disk and clock rows of `npm run proof`'s fault table (issue 11): one
// repetition each, one after another (each fills a tmpfs, moves a clock or corrupts a database
// of its own, on its own broker, collector and station).
import { afterAll, describe, expect, test } from 'vitest';
import { catchUp, clockWrong, corruptStore, diskFull, type FaultResult, silentAiring } from '../support/proof/faults.js';
import { cleanupTemp } from '../support/proof/lib.js';

afterAll(cleanupTemp);

function expectClean(r: FaultResult): void {
  expect(r.checks.filter((c) => !c.ok)).toEqual([]);
  expect(r.emitted).toBeGreaterThan(0);
  expect({ commandsLost: r.commandsLost, lost: r.lost, duplicated: r.duplicated, crashes: r.crashes, received: r.received }).toEqual({
    commandsLost: 0,
    lost: 0,
    duplicated: 0,
    crashes: 0,
    received: r.emitted,
  });
  expect(r.commandsSent).toBeGreaterThan(0);
  expect(r.verdict).toBe('PASS');
}

describe('faults of the disk, the store and the clock: nothing lost, nothing silent', () => {
  test('disk full while live alerts arrive: no PUBACK for what was not stored; everything airs once the disk is freed', async () => {
    expectClean(await diskFull(1));
  }, 180_000);

  test('airings whose audio does not come: refetched, or failed no_audio / disk_full in bounded time, zones freed', async () => {
    expectClean(await silentAiring(1));
  }, 240_000);

  test('an unreadable station database: moved aside, fresh store under a new id, said loudly, schedule re-applied', async () => {
    expectClean(await corruptStore(1));
  }, 180_000);

  test('a clock an hour behind holds commands until it is right; a ten-year jump wipes no history', async () => {
    expectClean(await clockWrong(1));
  }, 180_000);

  test('three hours off with a minutely item: one missed ack, not 180', async () => {
    expectClean(await catchUp(1));
  }, 180_000);
});
