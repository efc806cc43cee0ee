// `loa cap import` as a real subprocess: the --dry-run --json contract for every mapping rule,
// then real drafts (idempotent, Update replacing, Cancel stopping), audio resources served by a
// local HTTP server, and feed indexes.
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CapResult } from '../controller-cli/cap-import.js';
import { fixture as audioFixture } from '../support/audio.js';
import { CAP_FIXTURES, capFixture, FIXTURE_NOW, HOI_AN_CAP, HOI_AN_STATIONS, type RouteServer, serveRoutes, shiftCap, writeCapFleet } from '../support/cap.js';
import { runLoa } from '../support/cli.js';
import { tempDir } from '../support/tmp.js';

const HOI_AN = ['phuong-cam-nam', 'phuong-cam-pho', 'phuong-minh-an', 'phuong-son-phong'];
const HOI_AN_DONG = ['phuong-cam-chau', 'xa-cam-thanh'];
const fx = (name: string) => path.join(CAP_FIXTURES, name);

function results(r: { code: number; stdout: string; stderr: string }): CapResult[] {
  try {
    return JSON.parse(r.stdout) as CapResult[];
  } catch {
    throw new Error(`not JSON (exit ${r.code}):\n${r.stdout}\n${r.stderr}`);
  }
}
const byId = (rs: CapResult[], id: string) => rs.find((r) => r.identifier === id) ?? expect.fail(`no result for ${id}: ${JSON.stringify(rs.map((r) => r.identifier))}`);

describe('loa cap import --dry-run --json', () => {
  const dir = tempDir('loa-cap-dry-');
  const fleet = writeCapFleet(path.join(dir, 'fleet.yaml'), { stations: HOI_AN_STATIONS, cap: HOI_AN_CAP });
  const dry = (...args: string[]) => runLoa(fleet, ['cap', 'import', '--dry-run', '--json', '--now', FIXTURE_NOW, ...args]);

  it('prints the contract object for the Hội An storm warning, exit 0, and creates nothing', async () => {
    const r = await dry(fx('storm-hoi-an-vi.xml'));
    expect(r.code, r.stderr).toBe(0);
    expect(results(r)).toEqual([
      {
        source: fx('storm-hoi-an-vi.xml'),
        identifier: 'KTTV-2026-BAO13-001',
        sender: 'canh-bao@nchmf.gov.vn',
        sent: '2026-11-03T14:00:00+07:00',
        status: 'Actual',
        msgType: 'Alert',
        action: 'alert',
        reason: null,
        test: false,
        language: 'vi-VN',
        headline: 'Cảnh báo bão số 13 đổ bộ Hội An',
        text: 'Cảnh báo bão số 13 đổ bộ Hội An. Bão số 13 gió mạnh cấp 12, giật cấp 15 & mưa rất to. Dự kiến đổ bộ đêm nay. Người dân vùng trũng di dời đến nơi an toàn & không ra biển',
        targets: [...HOI_AN, ...HOI_AN_DONG, 'xa-tan-hiep'].sort(),
        expiresAt: '2026-11-04T07:00:00Z',
        references: [],
        urgency: 'Immediate',
        severity: 'Severe',
        repeat: 2,
        cancels: [],
        withdraws: [],
      },
    ]);
    expect(existsSync(path.join(dir, 'central'))).toBe(false);
  });

  it('maps areas, languages and status: geocode, polygon, circle, vi-VN first, Exercise and Test as tests, CAP 1.1', async () => {
    const r = await dry(...['multi-language.xml', 'polygon-old-town.xml', 'circle-old-town.xml', 'exercise.xml', 'test-status.xml', 'cap11.xml'].map(fx));
    expect(r.code, r.stdout + r.stderr).toBe(0);
    const rs = results(r);
    expect(byId(rs, 'KTTV-2026-LU-007')).toMatchObject({ action: 'alert', language: 'vi-VN', headline: 'Cảnh báo lũ khu phố cổ Hội An', targets: ['phuong-minh-an'], test: false });
    expect(byId(rs, 'HOIAN-2026-CHAY-01')).toMatchObject({ action: 'alert', targets: ['phuong-minh-an'], repeat: 3, severity: 'Extreme', urgency: 'Immediate' });
    expect(rs.find((x) => x.source.endsWith('circle-old-town.xml'))).toMatchObject({ action: 'alert', targets: HOI_AN, language: 'en-US' });
    expect(byId(rs, 'HOIAN-2026-EXERCISE-01')).toMatchObject({ action: 'alert', test: true, status: 'Exercise', targets: [...HOI_AN, ...HOI_AN_DONG].sort() });
    expect(byId(rs, 'HOIAN-2026-TEST-01')).toMatchObject({ action: 'alert', test: true, status: 'Test' });
    expect(rs.find((x) => x.source.endsWith('cap11.xml'))?.action).not.toBe('refuse');
  });

  it('ignores System, Draft, Ack and Error with a reason, exit 0', async () => {
    const r = await dry(...['system.xml', 'draft.xml', 'ack.xml', 'error.xml'].map(fx));
    expect(r.code).toBe(0);
    expect(results(r).map((x) => [x.action, x.reason, x.targets])).toEqual([
      ['ignore', expect.stringMatching(/status System/), []],
      ['ignore', expect.stringMatching(/status Draft/), []],
      ['ignore', expect.stringMatching(/msgType Ack/), []],
      ['ignore', expect.stringMatching(/msgType Error/), []],
    ]);
  });

  it('refuses with the element path and the reason, prints every object, exit 1: hostile XML, 50 MB, bad namespace, nowhere, expired, untrusted', async () => {
    const big = path.join(dir, 'big.xml');
    writeFileSync(big, Buffer.alloc(50 * 1024 * 1024, 0x20));
    const untrusted = path.join(dir, 'untrusted.xml');
    writeFileSync(untrusted, capFixture('storm-hoi-an-vi.xml').replace('canh-bao@nchmf.gov.vn', 'gia-mao@example.com'));
    const badUrgency = path.join(dir, 'bad-urgency.xml');
    writeFileSync(badUrgency, capFixture('storm-hoi-an-vi.xml').replace('<urgency>Immediate</urgency>', '<urgency>Soon</urgency>'));
    const started = Date.now();
    const r = await dry(
      fx('billion-laughs.xml'),
      fx('xxe.xml'),
      big,
      fx('wrong-namespace.xml'),
      badUrgency,
      fx('area-nowhere.xml'),
      fx('expired.xml'),
      untrusted,
      fx('exercise.xml'),
    );
    expect(Date.now() - started).toBeLessThan(20_000);
    expect(r.code, r.stderr).toBe(1);
    const rs = results(r);
    expect(rs).toHaveLength(9);
    const of = (file: string) => rs.find((x) => x.source === file)!;
    expect(of(fx('billion-laughs.xml'))).toMatchObject({ action: 'refuse', reason: 'document: DOCTYPE declarations are not allowed in CAP', identifier: null });
    expect(of(fx('xxe.xml')).reason).toMatch(/^document: DOCTYPE/);
    expect(of(big).reason).toMatch(/52428800 bytes is larger than .*refused without reading/);
    expect(of(fx('wrong-namespace.xml')).reason).toMatch(/^alert: namespace/);
    expect(of(badUrgency).reason).toBe('alert.info[0].urgency: expected one of Immediate|Expected|Future|Past|Unknown, got "Soon"');
    expect(of(fx('area-nowhere.xml'))).toMatchObject({ action: 'refuse', reason: 'area "Huyện Sa Pa" matches no station', targets: [] });
    expect(of(fx('expired.xml'))).toMatchObject({ action: 'refuse', reason: expect.stringMatching(/^expired at /) });
    expect(of(untrusted)).toMatchObject({ action: 'refuse', reason: expect.stringContaining('gia-mao@example.com'), headline: null, text: null });
    expect(of(fx('exercise.xml')).action).toBe('alert'); // the good one among them is still handled
  });

  it('--now replays: the storm is valid just before its expiry and refused at it', async () => {
    const before = await runLoa(fleet, ['cap', 'import', '--dry-run', '--json', '--now', '2026-11-04T06:59:59Z', fx('storm-hoi-an-vi.xml')]);
    expect(results(before)[0]!.action).toBe('alert');
    const at = await runLoa(fleet, ['cap', 'import', '--dry-run', '--json', '--now', '2026-11-04T14:00:00+07:00', fx('storm-hoi-an-vi.xml')]);
    expect(at.code).toBe(1);
    expect(results(at)[0]).toMatchObject({ action: 'refuse', reason: 'expired at 2026-11-04T07:00:00Z' });
  });

  it('a sequence in one run: the Update replaces the unsent Alert, the Cancel withdraws the unsent Update', async () => {
    const r = await dry(fx('cancel.xml'), fx('update.xml'), fx('storm-hoi-an-vi.xml')); // handled in order of <sent>
    expect(r.code).toBe(0);
    const [alert, update, cancel] = results(r);
    expect(alert).toMatchObject({ identifier: 'KTTV-2026-BAO13-001', action: 'alert' });
    expect(update).toMatchObject({ identifier: 'KTTV-2026-BAO13-002', action: 'update', cancels: [], withdraws: [expect.stringMatching(/^cap-20261103070000-/)] });
    expect(cancel).toMatchObject({ identifier: 'KTTV-2026-BAO13-003', action: 'cancel', cancels: [], targets: [], withdraws: [expect.stringMatching(/^cap-20261103070300-/)] });
    expect(update!.references).toEqual([{ sender: 'canh-bao@nchmf.gov.vn', identifier: 'KTTV-2026-BAO13-001', sent: '2026-11-03T14:00:00+07:00' }]);
  });

  it('a Cancel or Update of nothing Loa has: ignored (cancel) or drafted alone (update)', async () => {
    const update = await dry(fx('update.xml'));
    expect(results(update)[0]).toMatchObject({ action: 'update', cancels: [], withdraws: [] });
    const cancel = await dry(fx('cancel.xml'));
    expect(results(cancel)[0]).toMatchObject({ action: 'ignore', reason: expect.stringMatching(/^nothing to cancel/) });
    expect(cancel.code).toBe(0);
  });

  it('reads an Atom index and an RSS index of CAP entries (links relative to the index)', async () => {
    const atom = await dry(fx('feed-atom.xml'));
    expect(results(atom).map((x) => [x.source, x.action])).toEqual([
      [fx('storm-hoi-an-vi.xml'), 'alert'],
      [fx('update.xml'), 'update'],
    ]);
    const rss = await dry(fx('feed-rss.xml'));
    expect(results(rss).map((x) => x.identifier)).toEqual(['HOIAN-2026-CHAY-01', 'HOIAN-2026-EXERCISE-01']);
  });

  it('usage errors exit 2: --now without --dry-run, a --now that is not ISO, no file', async () => {
    expect((await runLoa(fleet, ['cap', 'import', '--now', FIXTURE_NOW, fx('storm-hoi-an-vi.xml')])).code).toBe(2);
    expect((await runLoa(fleet, ['cap', 'import', '--dry-run', '--now', 'yesterday', fx('storm-hoi-an-vi.xml')])).code).toBe(2);
    expect((await runLoa(fleet, ['cap', 'import'])).code).toBe(2);
  });

  it('the fleet template and language list shape the text; fleet mistakes name the key path and line', async () => {
    const f2 = writeCapFleet(path.join(dir, 'fleet-template.yaml'), {
      stations: HOI_AN_STATIONS,
      cap: { ...HOI_AN_CAP, languages: ['fr'], template: 'Thông báo khẩn về {event}: {headline}. {description}. {instruction}.' },
    });
    const doc = path.join(dir, 'fr.xml');
    writeFileSync(
      doc,
      capFixture('multi-language.xml').replace('<language>vi-VN</language>', '<language>fr-FR</language>').replace('Cảnh báo lũ khu phố cổ Hội An', 'Alerte crue'),
    );
    const r = await runLoa(f2, ['cap', 'import', '--dry-run', '--json', '--now', FIXTURE_NOW, fx('polygon-old-town.xml'), doc]);
    const [fire, flood] = results(r);
    expect(fire!.text).toBe('Thông báo khẩn về Cháy: Cháy lớn trong khu phố cổ. Tránh xa khu vực đường Trần Phú.');
    expect(flood).toMatchObject({ language: 'fr-FR', headline: 'Alerte crue' });

    const bad = writeCapFleet(path.join(dir, 'fleet-bad.yaml'), {
      stations: HOI_AN_STATIONS,
      cap: { ...HOI_AN_CAP, areas: [{ valueName: 'MA_DVHC', value: '1', targets: ['ghost'] }] },
    });
    const e = await runLoa(bad, ['cap', 'import', '--dry-run', fx('storm-hoi-an-vi.xml')]);
    expect(e.code).toBe(1);
    expect(e.stderr).toMatch(/fleet-bad\.yaml: cap\.areas\[0\]\.targets\[0\] \(line \d+\): a station or group id, got "ghost"/);
    const badTpl = writeCapFleet(path.join(dir, 'fleet-bad-tpl.yaml'), { stations: HOI_AN_STATIONS, cap: { ...HOI_AN_CAP, template: '{headline} {area}' } });
    expect((await runLoa(badTpl, ['cap', 'import', '--dry-run', fx('storm-hoi-an-vi.xml')])).stderr).toMatch(/cap\.template \(line \d+\): unknown placeholder \{area\}/);
  });
});

describe('loa cap import: drafts', () => {
  const dir = tempDir('loa-cap-import-');
  const fleet = writeCapFleet(path.join(dir, 'fleet.yaml'), { stations: HOI_AN_STATIONS, cap: HOI_AN_CAP });
  const drafts = path.join(dir, 'central', 'drafts');
  let server: RouteServer;
  const NOW = Date.now();
  /** A fixture moved to now, its example.vn links pointing at the local server. */
  const doc = (name: string, edit: (s: string) => string = (s) => s) => {
    const file = path.join(dir, `${name.replace(/\.xml$/, '')}-${Math.random().toString(16).slice(2, 8)}.xml`);
    writeFileSync(
      file,
      edit(shiftCap(capFixture(name), NOW - 60_000))
        .replaceAll('https://example.vn', server.url)
        .replaceAll('{{BASE}}', server.url),
    );
    return file;
  };
  const loa = (...args: string[]) => runLoa(fleet, ['cap', 'import', '--json', ...args]);
  const readDraft = (file: string) => JSON.parse(readFileSync(file, 'utf8'));
  const mp3 = readFileSync(audioFixture('music-10s.mp3'));

  beforeAll(async () => {
    server = await serveRoutes({ '/bao.mp3': { body: mp3, type: 'audio/mpeg' } });
  });
  afterAll(() => server?.close());

  it('a live alert becomes one unsigned draft needing the quorum; the same message again makes no second draft', async () => {
    const file = doc('storm-hoi-an-vi.xml');
    const r = await loa(file);
    expect(r.code, r.stderr + r.stdout).toBe(0);
    const [first] = results(r);
    expect(first).toMatchObject({ action: 'alert', created: true, needed: 2, test: false, audio: { source: 'speech', problem: 'HTTP 404 Not Found' } });
    const d = readDraft(first!.draft!);
    expect(d).toMatchObject({ needed: 2, origin: { kind: 'cap', sender: 'canh-bao@nchmf.gov.vn', identifier: 'KTTV-2026-BAO13-001' } });
    expect(d.origin.summary).toMatchObject({ urgency: 'Immediate', severity: 'Severe', certainty: 'Likely', areaDescs: ['Thành phố Hội An', 'Xã Tân Hiệp (Cù Lao Chàm)'] });
    expect(d.envelopes).toHaveLength(1);
    const env = d.envelopes[0];
    expect(env).toMatchObject({ type: 'alert', sigs: [], target: { stations: first!.targets }, body: { test: false, repeat: 2, title: 'Cảnh báo bão số 13 đổ bộ Hội An' } });
    expect(env.expiresAt).toBe(new Date(Date.parse(first!.expiresAt!)).toISOString()); // the CAP <expires>
    expect(Date.parse(env.expiresAt) - NOW).toBeGreaterThan(23 * 3600_000);
    expect(env.body.audio.tts.text).toBe(first!.text);
    expect(existsSync(path.join(dir, 'central', 'media', env.body.audio.sha256))).toBe(true);

    const again = await loa(file);
    expect(again.code).toBe(0);
    expect(results(again)[0]).toMatchObject({ action: 'alert', created: false, draft: first!.draft });
    expect(readdirSync(drafts).filter((f) => f.startsWith(path.basename(first!.draft!, '.json')))).toHaveLength(1);
    expect(readDraft(first!.draft!).createdAt).toBe(d.createdAt);
  });

  it('an Exercise becomes a test draft needing one approval', async () => {
    const [r] = results(await loa(doc('exercise.xml')));
    expect(r).toMatchObject({ action: 'alert', test: true, needed: 1, created: true });
    expect(readDraft(r!.draft!)).toMatchObject({ needed: 1, envelopes: [{ body: { test: true } }] });
  });

  it('an Update of an unsent draft withdraws it; of a sent one, cancels it first; a Cancel then stops the update', async () => {
    // The storm of the first test is still unsent.
    const storm = results(await loa(doc('storm-hoi-an-vi.xml')))[0]!;
    expect(storm.created).toBe(false);
    const upd = results(await loa(doc('update.xml')))[0]!;
    expect(upd).toMatchObject({ action: 'update', created: true, cancels: [], withdraws: [path.basename(storm.draft!, '.json')], targets: ['phuong-minh-an'], repeat: 3 });
    expect(existsSync(storm.draft!)).toBe(false);
    expect(existsSync(storm.draft!.replace(/\.json$/, '.withdrawn'))).toBe(true);
    expect(readDraft(upd.draft!).envelopes.map((e: { type: string }) => e.type)).toEqual(['alert']);

    // Approved and sent (what `loa alert approve` does to the file), then cancelled by its sender.
    renameSync(upd.draft!, upd.draft!.replace(/\.json$/, '.sent.json'));
    const cancel = results(await loa(doc('cancel.xml')))[0]!;
    const updId = path.basename(upd.draft!, '.json');
    expect(cancel).toMatchObject({ action: 'cancel', created: true, needed: 2, cancels: [updId], withdraws: [], targets: ['phuong-minh-an'] });
    const d = readDraft(cancel.draft!);
    expect(d.envelopes).toMatchObject([{ type: 'cancel', body: { broadcastId: updId }, target: { stations: ['phuong-minh-an'] }, sigs: [] }]);
  });

  it('a Test message may not stop a live alert; a Cancel of unknown messages is ignored', async () => {
    const live = results(await loa(doc('polygon-old-town.xml')))[0]!;
    renameSync(live.draft!, live.draft!.replace(/\.json$/, '.sent.json'));
    const ref = `pccc@hoian.example.vn,HOIAN-2026-CHAY-01,${live.sent}`;
    const testCancel = doc('cancel.xml', (s) =>
      s
        .replace('<status>Actual</status>', '<status>Test</status>')
        .replace('canh-bao@nchmf.gov.vn', 'pccc@hoian.example.vn')
        .replace(/<references>[\s\S]*<\/references>/, `<references>${ref}</references>`),
    );
    const r = await loa(testCancel);
    expect(r.code).toBe(1);
    expect(results(r)[0]).toMatchObject({ action: 'refuse', reason: expect.stringMatching(/status Test may not stop a live alert/), draft: null });
    const unknown = doc('cancel.xml', (s) => s.replace(/KTTV-2026-BAO13-00[12]/g, 'KTTV-2026-KHAC').replace('KTTV-2026-BAO13-003', 'KTTV-2026-KHAC-3'));
    const u = await loa(unknown);
    expect(u.code).toBe(0);
    expect(results(u)[0]).toMatchObject({ action: 'ignore', reason: expect.stringMatching(/^nothing to cancel/) });
  });

  it('an audio resource is fetched, checked against its SHA-1 digest and used; a wrong digest falls back to speech', async () => {
    const good = results(await loa(doc('resource-audio.xml')))[0]!;
    const sha256 = createHash('sha256').update(mp3).digest('hex');
    expect(good.audio).toEqual({ source: 'resource', resource: `${server.url}/bao.mp3`, sha256, bytes: mp3.length });
    const d = readDraft(good.draft!);
    expect(d.media).toEqual([sha256]);
    expect(d.envelopes[0].body.audio).toEqual({ kind: 'media', sha256, size: mp3.length });
    expect(statSync(path.join(dir, 'central', 'media', sha256)).size).toBe(mp3.length);

    const bad = results(await loa(doc('resource-audio-bad-digest.xml')))[0]!;
    expect(bad).toMatchObject({ action: 'alert', created: true });
    expect(bad.audio).toMatchObject({ source: 'speech', problem: expect.stringMatching(/^SHA-1 92c97680d0b695eb5bdaf88e3f3786f8e64c0067 does not match <digest> 0{40}$/) });
    expect(readDraft(bad.draft!).envelopes[0].body.audio.tts.text).toBe('Bản tin âm thanh về bão số 13');

    // Only http and https are fetched; a file: URI is not read.
    const local = results(
      await loa(doc('resource-audio.xml', (s) => s.replace('KTTV-2026-AUDIO-001', 'KTTV-2026-AUDIO-003').replace('{{BASE}}/bao.mp3', 'file:///etc/passwd'))),
    )[0]!;
    expect(local.audio).toMatchObject({ source: 'speech', problem: expect.stringMatching(/only http and https/) });
  });

  it('loa cap drafts lists the CAP drafts waiting for approval with urgency, severity and areas; not withdrawn or sent ones', async () => {
    const r = await runLoa(fleet, ['cap', 'drafts', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const rows = JSON.parse(r.stdout) as { identifier: string; msgType: string; draft: string }[];
    expect(rows.find((x) => x.identifier === 'HOIAN-2026-EXERCISE-01')).toMatchObject({
      status: 'Exercise',
      test: true,
      urgency: 'Expected',
      severity: 'Minor',
      areaDescs: ['Thành phố Hội An'],
      signatures: [],
      needed: 1,
    });
    expect(rows.find((x) => x.identifier === 'KTTV-2026-BAO13-003')).toMatchObject({ msgType: 'Cancel', needed: 2, stations: ['phuong-minh-an'] });
    expect(rows.map((x) => x.identifier)).not.toContain('KTTV-2026-BAO13-001'); // withdrawn
    expect(rows.map((x) => x.identifier)).not.toContain('KTTV-2026-BAO13-002'); // sent
    const table = await runLoa(fleet, ['cap', 'drafts']);
    expect(table.stdout).toMatch(/Alert Exercise \(test\): HOIAN-2026-EXERCISE-01 +Expected\/Minor/);
  });

  it('a feed URL in cap.sources vouches only for its own senders', async () => {
    const f2 = writeCapFleet(path.join(dir, 'fleet-feeds.yaml'), {
      stations: HOI_AN_STATIONS,
      cap: { ...HOI_AN_CAP, sources: [{ sender: 'canh-bao@nchmf.gov.vn', url: `${server.url}/kttv.xml` }, { sender: 'pccc@hoian.example.vn' }] },
    });
    server.set('/kttv.xml', { body: shiftCap(capFixture('exercise.xml'), NOW - 60_000) }); // a pccc message on the kttv feed
    const r = await runLoa(f2, ['cap', 'import', '--dry-run', '--json', `${server.url}/kttv.xml`]);
    expect(results(r)[0]).toMatchObject({ action: 'refuse', reason: expect.stringContaining('pccc@hoian.example.vn') });
    const same = await runLoa(f2, ['cap', 'import', '--dry-run', '--json', doc('exercise.xml')]); // the same sender from a file: trusted
    expect(results(same)[0]!.action).toBe('alert');
  });
});
