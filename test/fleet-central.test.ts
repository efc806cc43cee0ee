// What the fleet file says about the central side: where the database is (a SQLite path or a
// postgres:// URL), where drafts and media go, and which ward brokers are bridged. Loaded with the
// real loader from temp files; mistakes name the key path.
import { readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { bridgeRules, mosquittoAcl } from '../controller-cli/broker-acl.js';
import { bridgeTopics } from '../controller-cli/broker-config.js';
import { bridgeOf, loadFleet } from '../controller-cli/fleet.js';
import { cleanupTempDirs, tempDir } from '../support/tmp.js';

const dir = tempDir('loa-fleet-central-');
afterAll(cleanupTempDirs);

let n = 0;
function fleet(
  extra: Record<string, unknown>,
  stations = [
    { id: 'st-a', name: 'A', groups: ['east'] },
    { id: 'st-b', name: 'B' },
  ],
): string {
  const file = join(dir, `fleet-${++n}.yaml`);
  writeFileSync(
    file,
    stringify({
      broker: { urls: ['mqtt://127.0.0.1:1883'], stationUrls: ['mqtts://loa.example:8883'], passwordFile: 'secrets/central.password' },
      groups: [{ id: 'east', name: 'Đông' }],
      stations,
      ...extra,
    }),
  );
  return file;
}

describe('fleet file: the central database', () => {
  it('a path is SQLite, resolved next to the fleet file; drafts and media live beside it', () => {
    const f = loadFleet(fleet({ database: 'db/central.sqlite' }));
    expect(f.database).toBe(join(dir, 'db', 'central.sqlite'));
    expect(f.centralDir).toBe(join(dir, 'db'));
  });

  it('a postgres:// URL is kept as it is; central files go to central/ (or centralDir); a password file is allowed', () => {
    const f = loadFleet(fleet({ database: 'postgres://loa@db.example:5432/loa', databasePasswordFile: 'secrets/db.password' }));
    expect(f.database).toBe('postgres://loa@db.example:5432/loa');
    expect(f.databasePasswordFile).toBe(join(dir, 'secrets', 'db.password'));
    expect(f.centralDir).toBe(join(dir, 'central'));
    expect(loadFleet(fleet({ database: 'postgresql://loa@db/loa', centralDir: '/var/lib/loa' })).centralDir).toBe('/var/lib/loa');
  });

  it('another URL scheme, or a password file for SQLite, names the key', () => {
    expect(() => loadFleet(fleet({ database: 'mysql://loa@db/loa' }))).toThrow(/database.*postgres:\/\/user@host:5432\/dbname/);
    expect(() => loadFleet(fleet({ database: 'central.sqlite', databasePasswordFile: 'x' }))).toThrow(/databasePasswordFile.*only for a postgres/);
  });
});

describe('fleet file: bridged brokers', () => {
  it('a bridge carries its stations; the ACL and the bridge topics are exactly theirs', () => {
    const f = loadFleet(fleet({ bridges: [{ id: 'bridge-east', stations: ['st-a'], stationUrls: ['mqtts://edge.example:8883'] }] }));
    expect(bridgeOf(f, 'st-a')?.id).toBe('bridge-east');
    expect(bridgeOf(f, 'st-b')).toBeUndefined();
    expect(bridgeRules(f, f.bridges[0]!)).toEqual([
      'topic write loa/v1/station/st-a/state',
      'topic write loa/v1/station/st-a/telemetry',
      'topic write loa/v1/station/st-a/ack',
      'topic read loa/v1/station/st-a/cmd',
      'topic read loa/v1/station/st-a/schedule',
      'topic read loa/v1/group/east/cmd',
      'topic read loa/v1/all/cmd',
      'topic read loa/v1/media/#',
      'topic read loa/v1/central/state',
      'topic read loa/v1/central/receipt/st-a',
      'topic read loa/v1/central/prefetch',
    ]);
    expect(mosquittoAcl(f)).toContain('user bridge-east\ntopic write loa/v1/station/st-a/state');
    expect(bridgeTopics(f, f.bridges[0]!).filter((t) => t.includes('st-b'))).toEqual([]);
  });

  it('refuses an unknown station, a station in two bridges, a bridge id that is a station or the central user', () => {
    expect(() => loadFleet(fleet({ bridges: [{ id: 'br', stations: ['st-x'] }] }))).toThrow(/bridges\[0\]\.stations\[0\].*unknown station "st-x"/);
    expect(() =>
      loadFleet(
        fleet({
          bridges: [
            { id: 'br-1', stations: ['st-a'] },
            { id: 'br-2', stations: ['st-a'] },
          ],
        }),
      ),
    ).toThrow(/bridges\[1\]\.stations\[0\]/);
    expect(() => loadFleet(fleet({ bridges: [{ id: 'st-b', stations: ['st-a'] }] }))).toThrow(/bridges\[0\]\.id/);
    expect(() => loadFleet(fleet({ bridges: [{ id: 'loa-central', stations: ['st-a'] }] }))).toThrow(/bridges\[0\]\.id/);
  });
});

describe('fleet file: 10,000 stations', () => {
  it('loads (the second time from the per-user parse cache, with the same result); an error lists a few ids, with its line, cached or not', () => {
    const cache = tempDir('loa-parse-cache-');
    process.env.LOA_CACHE_DIR = cache;
    try {
      const stations = Array.from({ length: 10_000 }, (_, i) => ({ id: `xa-${i}`, name: `Xã ${i}` }));
      const file = fleet({}, stations);
      const first = loadFleet(file);
      expect(first.stations).toHaveLength(10_000);
      expect(readdirSync(cache).filter((f) => f.endsWith('.json'))).toHaveLength(1);
      expect(loadFleet(file)).toEqual(first);
      const bad = fleet({ bridges: [{ id: 'br', stations: ['nowhere'] }] }, stations);
      const messageOf = () => {
        try {
          loadFleet(bad);
        } catch (e) {
          return (e as Error).message;
        }
        return '';
      };
      const uncached = messageOf();
      expect(uncached).toMatch(/line \d+.*xa-0, xa-1, .* … \(10000\)/);
      expect(uncached.length).toBeLessThan(600);
      expect(messageOf()).toBe(uncached);
    } finally {
      delete process.env.LOA_CACHE_DIR;
    }
  });
});
