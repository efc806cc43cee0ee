// CI version of `npm run proof`'s access-control table: mosquitto started from exactly what
// `loa broker config` wrote, probed with real station and central credentials.
import { afterAll, expect, test } from 'vitest';
import { acl } from '../support/proof/acl.js';
import { cleanupTemp } from '../support/proof/lib.js';

afterAll(cleanupTemp);

test('stations write only their own topics, read only what is addressed to them; anonymous and wrong CAs refused', async () => {
  const r = await acl();
  expect(r.rows.length).toBeGreaterThan(30);
  expect(r.rows.filter((x) => x.verdict !== 'PASS').map((x) => `${x.case}: expected ${x.expected}, got ${x.got}`)).toEqual([]);
}, 120_000);
