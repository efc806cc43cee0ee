// Acceptance for several collectors: 13 real `loa-station` daemons on a Mosquitto configured by
// `loa broker config`, two `loa collect --shared collectors` writing one real PostgreSQL
// database (a database of this test's own). One collector is SIGKILLed while the acks of a
// broadcast to `all` stream in: the other takes over without a restart, central/state never says
// offline, every ack every station emitted is committed once and receipted (0 lost, 0
// duplicated), and the dead collector rejoins under its own client id.
import { afterAll, describe, expect, test } from 'vitest';
import { collectorFailover, FAILOVER_STATIONS } from '../support/proof/faults.js';
import { cleanupTemp } from '../support/proof/lib.js';

afterAll(cleanupTemp);

describe('several collectors on one PostgreSQL', () => {
  test(`SIGKILL one of two collectors during a ${FAILOVER_STATIONS}-station broadcast: 0 lost, 0 duplicated, no restart`, async () => {
    const r = await collectorFailover(1);
    expect(r.checks.filter((c) => !c.ok)).toEqual([]);
    expect(r.emitted).toBeGreaterThanOrEqual(FAILOVER_STATIONS * 5); // primed control ack + received, scheduled, started, completed
    expect({ lost: r.lost, duplicated: r.duplicated, crashes: r.crashes, received: r.received }).toEqual({ lost: 0, duplicated: 0, crashes: 0, received: r.emitted });
    expect(r.commandsLost).toBe(0);
    expect(r.verdict).toBe('PASS');
  }, 240_000);
});
