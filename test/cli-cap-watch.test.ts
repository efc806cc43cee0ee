// `loa cap watch` as a real subprocess: a directory read once, feeds polled with ETag and
// If-Modified-Since against a local HTTP server, and the sources it refuses.
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CapResult } from '../controller-cli/cap-import.js';
import { capFixture, HOI_AN_CAP, HOI_AN_STATIONS, type RouteServer, serveRoutes, shiftCap, writeCapFleet } from '../support/cap.js';
import { runLoa } from '../support/cli.js';
import { LOA_BIN, type Proc, spawnProc, until } from '../support/proof/lib.js';
import { tempDir } from '../support/tmp.js';

const lines = (stdout: string): CapResult[] =>
  stdout
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as CapResult);

describe('loa cap watch', () => {
  const dir = tempDir('loa-cap-watch-');
  const NOW = Date.now();
  const moved = (name: string, edit: (s: string) => string = (s) => s) => edit(shiftCap(capFixture(name), NOW - 60_000)).replaceAll('https://example.vn', 'http://127.0.0.1:9');
  let server: RouteServer;
  let fleet: string;
  let watcher: Proc | undefined;

  beforeAll(async () => {
    server = await serveRoutes();
    fleet = writeCapFleet(path.join(dir, 'fleet.yaml'), {
      stations: HOI_AN_STATIONS,
      cap: {
        ...HOI_AN_CAP,
        sources: [
          { sender: 'canh-bao@nchmf.gov.vn', url: `${server.url}/kttv/feed.xml` },
          { sender: 'pccc@hoian.example.vn', url: `${server.url}/pccc/latest.xml` },
        ],
      },
    });
  });
  afterAll(async () => {
    await watcher?.stop();
    server?.close();
  });

  it('--once reads a directory: CAP files only (not .part or dotfiles), one draft each; a second pass makes none', async () => {
    const drop = path.join(dir, 'drop');
    mkdirSync(drop);
    writeFileSync(path.join(drop, 'bao.xml'), moved('storm-hoi-an-vi.xml'));
    writeFileSync(path.join(drop, 'dien-tap.cap'), moved('exercise.xml'));
    writeFileSync(path.join(drop, 'dang-ghi.xml.part'), '<alert');
    writeFileSync(path.join(drop, '.an.xml'), '<alert');
    const r = await runLoa(fleet, ['cap', 'watch', drop, '--once', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const first = lines(r.stdout);
    expect(first.map((x) => [x.identifier, x.action, x.created, x.needed])).toEqual([
      ['KTTV-2026-BAO13-001', 'alert', true, 2],
      ['HOIAN-2026-EXERCISE-01', 'alert', true, 1],
    ]);
    const again = lines((await runLoa(fleet, ['cap', 'watch', drop, '--once', '--json'])).stdout);
    expect(again.map((x) => [x.identifier, x.created, x.draft])).toEqual(first.map((x) => [x.identifier, false, x.draft]));
  });

  it('refuses sources it may not watch: a URL not in cap.sources, a path that is not a directory (exit 2)', async () => {
    expect((await runLoa(fleet, ['cap', 'watch', `${server.url}/other.xml`, '--once'])).code).toBe(2);
    expect((await runLoa(fleet, ['cap', 'watch', path.join(dir, 'fleet.yaml'), '--once'])).code).toBe(2);
    const none = writeCapFleet(path.join(dir, 'fleet-none.yaml'), { stations: HOI_AN_STATIONS, cap: HOI_AN_CAP });
    expect((await runLoa(none, ['cap', 'watch', '--once'])).code).toBe(2);
  });

  it('polls the cap.sources feeds: Atom entries fetched once, ETag and If-Modified-Since answered 304, a new entry drafted', async () => {
    const update = moved('update.xml');
    server.set('/kttv/feed.xml', {
      etag: '"v1"',
      body: `<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom"><id>kttv</id>
        <entry><id>a</id><updated>2026-11-03T07:00:00Z</updated><link type="application/cap+xml" href="a.xml"/></entry></feed>`,
    });
    server.set('/kttv/a.xml', { body: moved('multi-language.xml') });
    server.set('/kttv/b.xml', { body: update.replace('KTTV-2026-BAO13-001', 'KTTV-2026-LU-007') }); // an Update of a.xml
    // The second source is a single CAP document, versioned by Last-Modified only.
    server.set('/pccc/latest.xml', { lastModified: 'Tue, 03 Nov 2026 07:00:00 GMT', body: moved('polygon-old-town.xml') });

    watcher = spawnProc(LOA_BIN, ['--fleet', fleet, 'cap', 'watch', '--json', '--interval', '1']);
    const results = () => lines(watcher!.logs());
    await until(
      () => results().length >= 2,
      30_000,
      () => `two results from the watcher:\n${watcher!.logs()}`,
    );
    expect(results().map((x) => [x.identifier, x.action, x.created])).toEqual(
      expect.arrayContaining([
        ['KTTV-2026-LU-007', 'alert', true],
        ['HOIAN-2026-CHAY-01', 'alert', true],
      ]),
    );
    // The next polls ask conditionally and get 304: nothing is fetched or drafted again.
    await until(() => server.requests.some((q) => q.path === '/kttv/feed.xml' && q.ifNoneMatch === '"v1"' && q.status === 304), 15_000, 'a 304 for the feed');
    await until(
      () => server.requests.some((q) => q.path === '/pccc/latest.xml' && q.ifModifiedSince === 'Tue, 03 Nov 2026 07:00:00 GMT' && q.status === 304),
      15_000,
      'a 304 for the single document',
    );

    server.set('/kttv/feed.xml', {
      etag: '"v2"',
      body: `<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom"><id>kttv</id>
        <entry><id>b</id><updated>2026-11-03T07:01:00Z</updated><link href="b.xml"/></entry>
        <entry><id>a</id><updated>2026-11-03T07:00:00Z</updated><link type="application/cap+xml" href="a.xml"/></entry></feed>`,
    });
    await until(
      () => results().length >= 3,
      30_000,
      () => `the new entry drafted:\n${watcher!.logs()}`,
    );
    expect(results()[2]).toMatchObject({ identifier: 'KTTV-2026-BAO13-002', action: 'update', created: true });
    expect(server.requests.filter((q) => q.path === '/kttv/a.xml')).toHaveLength(1);
    expect(server.requests.filter((q) => q.path === '/kttv/b.xml')).toHaveLength(1);
    expect(results()).toHaveLength(3);
    await watcher.stop();
    expect(watcher.proc.exitCode).toBe(0);
  });
});
