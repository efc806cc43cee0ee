import { readdirSync, readFileSync } from 'node:fs';
import fc from 'fast-check';
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { type CapAlert, capTimeMs, parseCap } from '../controller-cli/cap/index.js';

const DIR = new URL('./fixtures/cap/', import.meta.url);
const fixture = (name: string): string => readFileSync(new URL(name, DIR), 'utf8');
const STORM = fixture('storm-hoi-an-vi.xml');

function ok(input: string | Buffer): CapAlert {
  const r = parseCap(input);
  if (!r.ok) throw new Error(`unexpected refusal at ${r.path}: ${r.reason}`);
  return r.message;
}

function refused(input: string | Buffer): { path: string; reason: string } {
  const r = parseCap(input);
  if (r.ok) throw new Error('expected a refusal, got a message');
  return { path: r.path, reason: r.reason };
}

/** The storm fixture with one substring replaced (which must be present). */
function storm(from: string | RegExp, to: string): string {
  const out = STORM.replace(from, to);
  expect(out, `fixture edit ${String(from)} did nothing`).not.toBe(STORM);
  return out;
}

describe('parseCap: reading valid CAP', () => {
  it('reads the Vietnamese storm warning with every field typed and repeated elements as arrays', () => {
    const m = ok(STORM);
    expect(m).toMatchObject({
      version: '1.2',
      identifier: 'KTTV-2026-BAO13-001',
      sender: 'canh-bao@nchmf.gov.vn',
      sent: '2026-11-03T14:00:00+07:00',
      status: 'Actual',
      msgType: 'Alert',
      scope: 'Public',
      source: 'Trung tâm Dự báo KTTV Quốc gia',
      code: ['VN-TEST-PROFILE'],
      references: [],
    });
    expect(m.info).toHaveLength(1);
    const info = m.info[0];
    expect(info).toMatchObject({
      language: 'vi-VN',
      category: ['Met', 'Safety'],
      responseType: ['Evacuate', 'Prepare'],
      urgency: 'Immediate',
      severity: 'Severe',
      certainty: 'Likely',
      eventCode: [{ valueName: 'VN-KTTV', value: 'BAO' }],
      parameter: [{ valueName: 'CapDoGio', value: '12' }],
      expires: '2026-11-04T14:00:00+07:00',
    });
    expect(info.area.map((a) => a.areaDesc)).toEqual(['Thành phố Hội An', 'Xã Tân Hiệp (Cù Lao Chàm)']);
    expect(info.area[0]).toEqual({ areaDesc: 'Thành phố Hội An', polygon: [], circle: [], geocode: [{ valueName: 'MA_DVHC', value: '503' }] });
    expect(info.area[1]).toMatchObject({ altitude: 0, ceiling: 3000 });
  });

  it('decodes &amp; in text, keeps CDATA literal and trims values', () => {
    const info = ok(STORM).info[0];
    expect(info.description).toBe('Bão số 13 gió mạnh cấp 12, giật cấp 15 & mưa rất to.\n      Dự kiến đổ bộ đêm nay.');
    expect(info.instruction).toBe('Người dân vùng trũng di dời đến nơi an toàn & không ra biển');
    expect(ok(storm('<event>Bão số 13</event>', '<event><![CDATA[ &amp; ]]></event>')).info[0].event).toBe('&amp;');
    expect(ok(storm('<event>Bão số 13</event>', '<event>&#66;&#x1EA3;o</event>')).info[0].event).toBe('Bảo');
  });

  it('reads resources: size as a number, digest lowercased, base64 derefUri without whitespace', () => {
    const res = ok(STORM).info[0].resource;
    expect(res[0]).toEqual({ resourceDesc: 'Bản đồ đường đi của bão', mimeType: 'image/png', uri: 'https://example.vn/canh-bao/bao-13.png' });
    expect(res[1]).toEqual({
      resourceDesc: 'Bản tin âm thanh',
      mimeType: 'audio/mpeg',
      size: 482113,
      uri: 'https://example.vn/canh-bao/bao-13.mp3',
      digest: '3a7bd3e2360a3d29eea436fcfb7e44c735d117c4',
    });
    const deref = ok(storm('<uri>https://example.vn/canh-bao/bao-13.mp3</uri>', '<derefUri>SUQzBAAA\n  AAAAAA==</derefUri>'));
    expect(deref.info[0].resource[1].derefUri).toBe('SUQzBAAAAAAAAA==');
  });

  it('keeps identifiers and codes as strings (no number coercion)', () => {
    const m = ok(storm('KTTV-2026-BAO13-001', '000042'));
    expect(m.identifier).toBe('000042');
    expect(ok(storm('<value>503</value>', '<value>0503</value>')).info[0].area[0].geocode[0].value).toBe('0503');
  });

  it('defaults language to en-US when absent', () => {
    expect(ok(fixture('circle-old-town.xml')).info[0].language).toBe('en-US');
  });

  it('reads a circle area and a polygon area as numbers', () => {
    expect(ok(fixture('circle-old-town.xml')).info[0].area[0].circle).toEqual([{ center: { lat: 15.877, lon: 108.326 }, radiusKm: 3 }]);
    const ring = ok(fixture('polygon-old-town.xml')).info[0].area[0].polygon[0];
    expect(ring).toHaveLength(6);
    expect(ring[0]).toEqual(ring[5]);
  });

  it('keeps several info blocks in document order', () => {
    expect(ok(fixture('multi-language.xml')).info.map((i) => i.language)).toEqual(['en-US', 'vi-VN']);
  });

  it('parses references into sender/identifier/sent triples, across line breaks', () => {
    expect(ok(fixture('update.xml')).references).toEqual([{ sender: 'canh-bao@nchmf.gov.vn', identifier: 'KTTV-2026-BAO13-001', sent: '2026-11-03T14:00:00+07:00' }]);
    const cancel = ok(fixture('cancel.xml'));
    expect(cancel.info).toEqual([]);
    expect(cancel.references.map((r) => r.identifier)).toEqual(['KTTV-2026-BAO13-001', 'KTTV-2026-BAO13-002']);
  });

  it('reads a cap:-prefixed document exactly like the default-namespace one and skips the XML signature', () => {
    const prefixed = fixture('prefixed-ns.xml');
    const plain = prefixed.replace(/<(\/?)cap:/g, '<$1').replace('xmlns:cap=', 'xmlns=');
    expect(ok(prefixed)).toEqual(ok(plain));
    expect(ok(prefixed).info[0].area[0].geocode).toEqual([{ valueName: 'MA_DVHC', value: '503' }]);
  });

  it('ignores a UTF-8 byte-order mark in a Buffer or a string', () => {
    const want = ok(STORM);
    expect(ok(Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(STORM)]))).toEqual(want);
    expect(ok(`\uFEFF${STORM}`)).toEqual(want);
  });

  it('does not care about indentation or whitespace between elements', () => {
    const want = ok(STORM);
    expect(ok(STORM.replace(/>\s+</g, '><'))).toEqual(want);
    expect(ok(STORM.replace(/\n/g, '\r\n').replace(/>\s+</g, '>\n\t\t  <'))).toEqual(want);
    expect(ok(storm('<status>Actual</status>', '<status>\n   Actual  \n</status>')).status).toBe('Actual');
  });

  it('accepts the CAP 1.1 namespace and reads 1.0 "Very Likely" as Likely', () => {
    const m = ok(fixture('cap11.xml'));
    expect(m.version).toBe('1.1');
    expect(m.info[0].certainty).toBe('Likely');
  });

  it('accepts -00:00 as UTC and converts date-times to epoch ms', () => {
    expect(ok(storm('2026-11-03T14:00:00+07:00</sent>', '2026-11-03T07:00:00-00:00</sent>')).sent).toBe('2026-11-03T07:00:00-00:00');
    expect(capTimeMs('2026-11-03T14:00:00+07:00')).toBe(Date.parse('2026-11-03T07:00:00Z'));
    expect(capTimeMs('2026-11-03T07:00:00-00:00')).toBe(Date.parse('2026-11-03T07:00:00Z'));
    expect(capTimeMs('2026-11-03T07:00:00Z')).toBeUndefined();
  });

  it('parses Private addresses with quoted multi-word entries', () => {
    const m = ok(storm('<scope>Public</scope>', '<scope>Private</scope><addresses>ubnd@hoian.vn "Ban chỉ huy PCTT" x@y.vn</addresses>'));
    expect(m.addresses).toEqual(['ubnd@hoian.vn', 'Ban chỉ huy PCTT', 'x@y.vn']);
  });

  it('reads a Buffer and the same string identically', () => {
    expect(ok(Buffer.from(STORM))).toEqual(ok(STORM));
  });
});

describe('parseCap: refusals name the element path', () => {
  it.each(['identifier', 'sender', 'sent', 'status', 'msgType', 'scope'])('refuses a missing alert.%s', (name) => {
    const doc = STORM.replace(new RegExp(`<${name}>[^<]*</${name}>`), '');
    expect(refused(doc)).toEqual({ path: `alert.${name}`, reason: 'required element is missing' });
  });

  it.each(['event', 'urgency', 'severity', 'certainty'])('refuses a missing alert.info[0].%s', (name) => {
    const doc = STORM.replace(new RegExp(`<${name}>[^<]*</${name}>`), '');
    expect(refused(doc)).toEqual({ path: `alert.info[0].${name}`, reason: 'required element is missing' });
  });

  it('refuses an info without any category', () => {
    const doc = STORM.replace(/<category>[^<]*<\/category>/g, '');
    expect(refused(doc)).toEqual({ path: 'alert.info[0].category', reason: 'at least one category is required' });
  });

  it('refuses an empty required element', () => {
    expect(refused(storm('<event>Bão số 13</event>', '<event>  </event>'))).toEqual({ path: 'alert.info[0].event', reason: 'must not be empty' });
  });

  it('refuses a resource without mimeType or resourceDesc, naming its index', () => {
    expect(refused(storm('<mimeType>audio/mpeg</mimeType>', '')).path).toBe('alert.info[0].resource[1].mimeType');
    expect(refused(storm('<resourceDesc>Bản tin âm thanh</resourceDesc>', '')).path).toBe('alert.info[0].resource[1].resourceDesc');
  });

  it('refuses an area without areaDesc', () => {
    expect(refused(storm('<areaDesc>Xã Tân Hiệp (Cù Lao Chàm)</areaDesc>', '')).path).toBe('alert.info[0].area[1].areaDesc');
  });

  it('refuses a geocode without value', () => {
    expect(refused(storm('<value>20497</value>', '')).path).toBe('alert.info[0].area[1].geocode[0].value');
  });

  it('requires restriction when scope is Restricted and addresses when Private', () => {
    expect(refused(storm('<scope>Public</scope>', '<scope>Restricted</scope>'))).toEqual({ path: 'alert.restriction', reason: 'required when scope is Restricted' });
    expect(ok(storm('<scope>Public</scope>', '<scope>Restricted</scope><restriction>Chỉ cán bộ</restriction>')).restriction).toBe('Chỉ cán bộ');
    expect(refused(storm('<scope>Public</scope>', '<scope>Private</scope>'))).toEqual({ path: 'alert.addresses', reason: 'required when scope is Private' });
  });

  it.each([
    ['<status>Actual</status>', '<status>actual</status>', 'alert.status'],
    ['<msgType>Alert</msgType>', '<msgType>Warning</msgType>', 'alert.msgType'],
    ['<scope>Public</scope>', '<scope>Everyone</scope>', 'alert.scope'],
    ['<category>Safety</category>', '<category>Weather</category>', 'alert.info[0].category[1]'],
    ['<responseType>Prepare</responseType>', '<responseType>Run</responseType>', 'alert.info[0].responseType[1]'],
    ['<urgency>Immediate</urgency>', '<urgency>Now</urgency>', 'alert.info[0].urgency'],
    ['<severity>Severe</severity>', '<severity>High</severity>', 'alert.info[0].severity'],
    ['<certainty>Likely</certainty>', '<certainty>Sure</certainty>', 'alert.info[0].certainty'],
  ])('refuses a bad enumeration value (%s → %s) at %s', (from, to, path) => {
    const r = refused(storm(from, to));
    expect(r.path).toBe(path);
    expect(r.reason).toMatch(/^expected one of .*\|.*, got "/);
  });

  it('refuses a trailing Z in a date-time, naming the element', () => {
    expect(refused(storm('<sent>2026-11-03T14:00:00+07:00</sent>', '<sent>2026-11-03T07:00:00Z</sent>'))).toEqual({
      path: 'alert.sent',
      reason: 'expected a date-time like 2026-11-03T14:00:00+07:00, got 2026-11-03T07:00:00Z',
    });
    expect(refused(storm('<expires>2026-11-04T14:00:00+07:00</expires>', '<expires>2026-11-04T07:00:00Z</expires>')).path).toBe('alert.info[0].expires');
  });

  it.each([
    '2026-11-03T14:00:00.5+07:00',
    '2026-11-03T14:00:00',
    '2026-11-03 14:00:00+07:00',
    '2026-02-30T14:00:00+07:00',
    '2026-11-03T24:00:00+07:00',
    '2026-11-03T14:00:00+0700',
  ])('refuses the date-time %s', (bad) => {
    expect(refused(storm('<onset>2026-11-03T22:00:00+07:00</onset>', `<onset>${bad}</onset>`)).path).toBe('alert.info[0].onset');
  });

  it.each(['KTTV 2026', 'KTTV,2026', 'KTTV&amp;2026', 'KTTV&lt;2026'])('refuses the identifier "%s"', (bad) => {
    expect(refused(storm('<identifier>KTTV-2026-BAO13-001</identifier>', `<identifier>${bad}</identifier>`)).path).toBe('alert.identifier');
  });

  it('refuses a sender with a space', () => {
    expect(refused(storm('<sender>canh-bao@nchmf.gov.vn</sender>', '<sender>canh bao@nchmf.gov.vn</sender>')).path).toBe('alert.sender');
  });

  it.each(['canh-bao@nchmf.gov.vn,KTTV-1', 'canh-bao@nchmf.gov.vn,KTTV-1,2026-11-03T14:00:00Z', 'a,b,2026-11-03T14:00:00+07:00,extra', ',KTTV-1,2026-11-03T14:00:00+07:00'])(
    'refuses the malformed reference "%s"',
    (bad) => {
      const doc = fixture('update.xml').replace(/<references>[^<]*<\/references>/, `<references>${bad}</references>`);
      expect(refused(doc).path).toMatch(/^alert\.references/);
    },
  );

  it('refuses a polygon that is not closed, or has too few points, at its index', () => {
    const poly = fixture('polygon-old-town.xml');
    const open = poly.replace(/15\.8730,108\.3225<\/polygon>/, '15.8731,108.3225</polygon>');
    expect(refused(open)).toMatchObject({ path: 'alert.info[0].area[0].polygon[0]', reason: expect.stringMatching(/not closed/) });
    const few = poly.replace(/<polygon>[^<]*<\/polygon>/, '<polygon>15.87,108.32 15.88,108.33 15.87,108.32</polygon>');
    expect(refused(few)).toMatchObject({ path: 'alert.info[0].area[0].polygon[0]', reason: expect.stringMatching(/at least 4/) });
    const second = poly.replace('</polygon>', '</polygon><polygon>95,108 1,1 2,2 95,108</polygon>');
    expect(refused(second)).toMatchObject({ path: 'alert.info[0].area[0].polygon[1]', reason: expect.stringMatching(/latitude 95/) });
  });

  it('refuses a malformed circle', () => {
    const c = fixture('circle-old-town.xml');
    expect(refused(c.replace('108.326 3', '108.326 -3')).path).toBe('alert.info[0].area[0].circle[0]');
    expect(refused(c.replace('108.326 3', '108.326')).path).toBe('alert.info[0].area[0].circle[0]');
  });

  it('refuses a bad size, digest or derefUri', () => {
    expect(refused(storm('<size>482113</size>', '<size>482 KB</size>')).path).toBe('alert.info[0].resource[1].size');
    expect(refused(storm('3A7BD3E2360A3D29EEA436FCFB7E44C735D117C4', 'not-a-digest')).path).toBe('alert.info[0].resource[1].digest');
    expect(refused(storm('<size>482113</size>', '<derefUri>not base64!</derefUri>')).path).toBe('alert.info[0].resource[1].derefUri');
  });

  it('refuses ceiling without altitude, and a non-numeric altitude', () => {
    expect(refused(storm('<altitude>0</altitude>', '')).path).toBe('alert.info[0].area[1].ceiling');
    expect(refused(storm('<altitude>0</altitude>', '<altitude>sea</altitude>')).path).toBe('alert.info[0].area[1].altitude');
  });

  it('refuses a singleton that appears twice', () => {
    expect(refused(storm('<status>Actual</status>', '<status>Actual</status><status>Test</status>'))).toEqual({
      path: 'alert.status',
      reason: 'appears 2 times; at most once allowed',
    });
  });

  it('refuses child elements where text is expected', () => {
    expect(refused(storm('<event>Bão số 13</event>', '<event>Bão <b>13</b></event>')).path).toBe('alert.info[0].event');
  });

  it('refuses unknown entity references (there is no DTD to define them)', () => {
    const r = refused(storm('<event>Bão số 13</event>', '<event>Bão&nbsp;13</event>'));
    expect(r.path).toBe('alert.info[0].event');
    expect(r.reason).toMatch(/unknown entity reference &nbsp;/);
  });

  it('refuses a wrong namespace, a missing namespace and a root that is not alert', () => {
    expect(refused(fixture('wrong-namespace.xml'))).toMatchObject({ path: 'alert', reason: expect.stringMatching(/urn:example:not-cap.*not CAP/) });
    expect(refused(STORM.replace(' xmlns="urn:oasis:names:tc:emergency:cap:1.2"', ''))).toMatchObject({ path: 'alert', reason: expect.stringMatching(/no namespace/) });
    expect(refused(STORM.replace(/alert/g, 'alarm')).reason).toMatch(/root element is <alarm>/);
  });

  it('treats unprefixed children of a cap:-prefixed root as not CAP (so required elements are missing)', () => {
    const doc = fixture('prefixed-ns.xml').replace(/cap:identifier/g, 'identifier');
    expect(refused(doc).path).toBe('alert.identifier');
  });

  it('refuses XML that is not well-formed, and text that is not XML', () => {
    expect(refused(STORM.replace('</info>', ''))).toMatchObject({ path: 'document', reason: expect.stringMatching(/^not well-formed XML/) });
    expect(refused('')).toMatchObject({ path: 'document' });
    expect(refused('hello')).toMatchObject({ path: 'document' });
    expect(refused(`${STORM}<alert/>`)).toMatchObject({ path: 'document' });
  });
});

describe('parseCap: hostile input', () => {
  afterEach(() => vi.restoreAllMocks());

  it('refuses billion laughs before parsing', () => {
    const parse = vi.spyOn(XMLParser.prototype, 'parse');
    const t0 = performance.now();
    expect(refused(fixture('billion-laughs.xml'))).toEqual({ path: 'document', reason: 'DOCTYPE declarations are not allowed in CAP' });
    expect(performance.now() - t0).toBeLessThan(200);
    expect(parse).not.toHaveBeenCalled();
  });

  it('refuses an external entity (XXE) without reading the file', () => {
    const r = refused(fixture('xxe.xml'));
    expect(r.reason).toBe('DOCTYPE declarations are not allowed in CAP');
    expect(JSON.stringify(r)).not.toMatch(/root:/);
  });

  it('refuses an ENTITY declaration even without DOCTYPE, in any case', () => {
    expect(refused(storm('<note>', '<!entity x "y"><note>')).reason).toBe('ENTITY declarations are not allowed in CAP');
    expect(refused(`<!doctype alert>${STORM}`).reason).toBe('DOCTYPE declarations are not allowed in CAP');
  });

  it('refuses a 50 MB input by size in well under a second, without parsing', () => {
    const validate = vi.spyOn(XMLValidator, 'validate');
    const parse = vi.spyOn(XMLParser.prototype, 'parse');
    const huge = `<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2"><note>${'x'.repeat(50 * 1024 * 1024)}</note></alert>`;
    let t0 = performance.now();
    expect(refused(huge)).toMatchObject({ path: 'document', reason: expect.stringMatching(/larger than 2097152 bytes/) });
    expect(performance.now() - t0).toBeLessThan(1000);
    const buf = Buffer.from(huge);
    t0 = performance.now();
    expect(refused(buf).reason).toMatch(/larger than 2097152/);
    expect(performance.now() - t0).toBeLessThan(1000);
    expect(validate).not.toHaveBeenCalled();
    expect(parse).not.toHaveBeenCalled();
  });

  it('honours a smaller maxBytes, counting UTF-8 bytes not characters', () => {
    expect(parseCap(STORM, { maxBytes: 2048 })).toMatchObject({ ok: false, path: 'document', reason: expect.stringMatching(/larger than 2048/) });
    const bytes = Buffer.byteLength(STORM);
    expect(STORM.length).toBeLessThan(bytes); // Vietnamese text: multi-byte characters
    expect(parseCap(STORM, { maxBytes: bytes }).ok).toBe(true);
    expect(parseCap(STORM, { maxBytes: bytes - 1 }).ok).toBe(false);
  });

  it('refuses very deep nesting without a stack overflow', () => {
    const deep = `<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2">${'<info>'.repeat(20000)}${'</info>'.repeat(20000)}</alert>`;
    expect(refused(deep).path).toBe('document');
  });

  it('refuses bytes that are not UTF-8, and a non-UTF-8 encoding declaration', () => {
    expect(refused(Buffer.from([0x3c, 0x61, 0xff, 0xfe, 0x3e])).reason).toBe('not valid UTF-8');
    expect(refused(STORM.replace('encoding="UTF-8"', 'encoding="ISO-8859-1"')).reason).toMatch(/only UTF-8/);
  });

  it('refuses prototype-polluting element names without throwing', () => {
    expect(parseCap(storm('<note>', '<__proto__>x</__proto__><note>')).ok).toBe(false);
    expect(parseCap(storm('<note>', '<constructor>x</constructor><note>')).ok).toBe(false);
  });

  it('never throws on 2,000 random strings, byte arrays and mutated fixtures', () => {
    const fixtures = readdirSync(DIR).map(fixture);
    const tokens = [
      '<',
      '>',
      '&',
      '&amp;',
      '&#0;',
      '&#x110000;',
      ']]>',
      '<![CDATA[',
      '<!--',
      '-->',
      '"',
      'xmlns:x="y"',
      '<info>',
      '</info>',
      '<area>',
      '</alert>',
      'Z',
      ',',
      '\u0000',
      '\uFEFF',
      '<?xml version="1.0"?>',
    ];
    const mutated = fc
      .tuple(
        fc.constantFrom(...fixtures),
        fc.array(fc.tuple(fc.nat(), fc.nat({ max: 40 }), fc.oneof(fc.constantFrom(...tokens), fc.string({ maxLength: 8 }))), { minLength: 1, maxLength: 6 }),
      )
      .map(([doc, edits]) =>
        edits.reduce((d, [pos, del, ins]) => {
          const at = pos % (d.length + 1);
          return d.slice(0, at) + ins + d.slice(at + del);
        }, doc),
      );
    const input = fc.oneof(
      { arbitrary: mutated, weight: 3 },
      fc.string({ maxLength: 300 }),
      fc.string({ unit: 'binary', maxLength: 300 }),
      fc.uint8Array({ maxLength: 300 }).map((a) => Buffer.from(a)),
    );
    fc.assert(
      fc.property(input, (x) => {
        const r = parseCap(x);
        if (!r.ok) {
          expect(typeof r.path).toBe('string');
          expect(r.reason.length).toBeGreaterThan(0);
        }
      }),
      { numRuns: 2000 },
    );
  });
});
