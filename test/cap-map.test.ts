import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { type CapAlert, type CapContext, type CapInfo, capKey, chooseInfo, defaultCapTemplate, parseCap, planCapMessage } from '../controller-cli/cap/index.js';

const DIR = new URL('./fixtures/cap/', import.meta.url);
const fixture = (name: string): string => readFileSync(new URL(name, DIR), 'utf8');

function msg(doc: string): CapAlert {
  const r = parseCap(doc);
  if (!r.ok) throw new Error(`fixture refused at ${r.path}: ${r.reason}`);
  return r.message;
}
const load = (name: string): CapAlert => msg(fixture(name));

const HOI_AN = ['phuong-cam-nam', 'phuong-cam-pho', 'phuong-minh-an', 'phuong-son-phong'];
const HOI_AN_DONG = ['phuong-cam-chau', 'xa-cam-thanh'];
const NOW = Date.parse('2026-11-03T07:05:00Z'); // 14:05 in Hội An

// Geocode values are illustrative administrative-unit codes, not the official ones.
function ctx(over: Partial<CapContext> = {}): CapContext {
  return {
    now: NOW,
    stations: [
      { id: 'phuong-minh-an', groups: ['hoi-an'], location: { lat: 15.8771, lon: 108.328 } },
      { id: 'phuong-cam-pho', groups: ['hoi-an'], location: { lat: 15.879, lon: 108.319 } },
      { id: 'phuong-son-phong', groups: ['hoi-an'], location: { lat: 15.885, lon: 108.33 } },
      { id: 'phuong-cam-nam', groups: ['hoi-an'], location: { lat: 15.867, lon: 108.335 } },
      { id: 'phuong-cam-chau', groups: ['hoi-an-dong'], location: { lat: 15.89, lon: 108.355 } },
      { id: 'xa-cam-thanh', groups: ['hoi-an-dong'], location: { lat: 15.872, lon: 108.37 } },
      { id: 'xa-tan-hiep', groups: ['tan-hiep'], location: { lat: 15.955, lon: 108.51 } },
    ],
    groups: ['hoi-an', 'hoi-an-dong', 'tan-hiep'],
    areas: [
      { valueName: 'MA_DVHC', value: '503', targets: ['hoi-an', 'hoi-an-dong'] },
      { valueName: 'MA_DVHC', value: '20470', targets: ['phuong-minh-an'] },
      { valueName: 'MA_DVHC', value: '20497', targets: ['tan-hiep'] },
    ],
    languages: ['en-US'],
    sources: [{ sender: 'canh-bao@nchmf.gov.vn', url: 'https://example.vn/cap/feed.xml' }, { sender: 'pccc@hoian.example.vn' }],
    repeatPolicy: { immediateSevere: 2, immediateExtreme: 3 },
    ...over,
  };
}

describe('planCapMessage: alerts', () => {
  it('plans the Hội An storm warning: Vietnamese text, geocode targets, expiry, repeat and audio', () => {
    expect(planCapMessage(load('storm-hoi-an-vi.xml'), ctx())).toEqual({
      identifier: 'KTTV-2026-BAO13-001',
      sender: 'canh-bao@nchmf.gov.vn',
      sent: '2026-11-03T14:00:00+07:00',
      status: 'Actual',
      msgType: 'Alert',
      action: 'alert',
      test: false,
      language: 'vi-VN',
      headline: 'Cảnh báo bão số 13 đổ bộ Hội An',
      text: 'Cảnh báo bão số 13 đổ bộ Hội An. Bão số 13 gió mạnh cấp 12, giật cấp 15 & mưa rất to. Dự kiến đổ bộ đêm nay. Người dân vùng trũng di dời đến nơi an toàn & không ra biển',
      targets: [...HOI_AN, ...HOI_AN_DONG, 'xa-tan-hiep'].sort(),
      expiresAt: '2026-11-04T07:00:00Z',
      effectiveAt: '2026-11-03T07:00:00Z',
      onsetAt: '2026-11-03T15:00:00Z',
      references: [],
      urgency: 'Immediate',
      severity: 'Severe',
      certainty: 'Likely',
      event: 'Bão số 13',
      repeat: 2,
      otherLanguages: [],
      audio: { uri: 'https://example.vn/canh-bao/bao-13.mp3', mimeType: 'audio/mpeg', size: 482113, digest: '3a7bd3e2360a3d29eea436fcfb7e44c735d117c4' },
      areaDescs: ['Thành phố Hội An', 'Xã Tân Hiệp (Cù Lao Chàm)'],
    });
  });

  it('chooses the vi-VN info of a bilingual message and hands the English one to the approver', () => {
    const plan = planCapMessage(load('multi-language.xml'), ctx());
    expect(plan).toMatchObject({ action: 'alert', language: 'vi-VN', headline: 'Cảnh báo lũ khu phố cổ Hội An', targets: ['phuong-minh-an'], repeat: 1 });
    expect(plan.text).toBe('Cảnh báo lũ khu phố cổ Hội An. Nước sông Thu Bồn dự kiến lên mức báo động 3 đêm nay. Kê cao đồ đạc.');
    expect(plan.otherLanguages).toEqual([
      {
        language: 'en-US',
        headline: 'Flood warning for Hoi An old town',
        description: 'The Thu Bon river is expected to reach alarm level 3 tonight.',
        instruction: 'Move goods to higher floors.',
      },
    ]);
    expect(plan.audio).toBeUndefined();
  });

  it('targets only stations inside a polygon around the old town', () => {
    const plan = planCapMessage(load('polygon-old-town.xml'), ctx());
    expect(plan).toMatchObject({ action: 'alert', targets: ['phuong-minh-an'], repeat: 3, headline: 'Cháy lớn trong khu phố cổ' });
    expect(plan.targets).not.toContain('xa-cam-thanh');
  });

  it('targets stations within a 3 km circle and not Cù Lao Chàm', () => {
    const plan = planCapMessage(load('circle-old-town.xml'), ctx());
    expect(plan).toMatchObject({ action: 'alert', targets: HOI_AN, language: 'en-US', repeat: 2 });
    expect(plan.expiresAt).toBeUndefined();
  });

  it('never matches a station without a location by polygon or circle, but does by group geocode', () => {
    const c = ctx();
    c.stations.push({ id: 'phuong-tan-an', groups: ['hoi-an'] });
    expect(planCapMessage(load('circle-old-town.xml'), c).targets).toEqual(HOI_AN);
    expect(planCapMessage(load('storm-hoi-an-vi.xml'), c).targets).toContain('phuong-tan-an');
  });

  it('marks Exercise and Test messages as test broadcasts', () => {
    expect(planCapMessage(load('exercise.xml'), ctx())).toMatchObject({ action: 'alert', test: true, status: 'Exercise', targets: [...HOI_AN, ...HOI_AN_DONG].sort() });
    expect(planCapMessage(load('test-status.xml'), ctx())).toMatchObject({ action: 'alert', test: true, status: 'Test' });
  });
});

describe('planCapMessage: updates and cancels', () => {
  it('plans an Update with its reference and the Immediate/Extreme repeat count', () => {
    expect(planCapMessage(load('update.xml'), ctx())).toMatchObject({
      action: 'update',
      references: [{ sender: 'canh-bao@nchmf.gov.vn', identifier: 'KTTV-2026-BAO13-001', sent: '2026-11-03T14:00:00+07:00' }],
      targets: ['phuong-minh-an'],
      repeat: 3,
      headline: 'Bão số 13 mạnh lên cấp 14',
    });
  });

  it('refuses an Update or a Cancel without references', () => {
    const upd = msg(fixture('update.xml').replace(/<references>[^<]*<\/references>/, ''));
    expect(planCapMessage(upd, ctx())).toMatchObject({ action: 'refuse', reason: expect.stringMatching(/Update without <references>/), targets: [] });
    const cancel = msg(fixture('cancel.xml').replace(/<references>[^<]*<\/references>/, ''));
    expect(planCapMessage(cancel, ctx())).toMatchObject({ action: 'refuse', reason: expect.stringMatching(/Cancel without <references>/) });
  });

  it('plans a Cancel with two references and no info: empty targets, no text', () => {
    const plan = planCapMessage(load('cancel.xml'), ctx());
    expect(plan).toMatchObject({ action: 'cancel', test: false, targets: [], repeat: 1, otherLanguages: [], areaDescs: [] });
    expect(plan.references.map((r) => r.identifier)).toEqual(['KTTV-2026-BAO13-001', 'KTTV-2026-BAO13-002']);
    expect(plan.reason).toBeUndefined();
    expect(plan.language).toBeUndefined();
    expect(plan.text).toBeUndefined();
  });

  it('does not refuse a Cancel whose area matches no station (it only stops what is playing)', () => {
    const doc = fixture('update.xml').replace('<msgType>Update</msgType>', '<msgType>Cancel</msgType>').replace('<value>20470</value>', '<value>00000</value>');
    expect(planCapMessage(msg(doc), ctx())).toMatchObject({ action: 'cancel', targets: [] });
  });
});

describe('planCapMessage: ignored and refused messages', () => {
  it.each([
    ['system.xml', /status System/],
    ['draft.xml', /status Draft/],
    ['ack.xml', /msgType Ack/],
    ['error.xml', /msgType Error/],
  ])('ignores %s with a reason and no targets', (name, reason) => {
    const plan = planCapMessage(load(name), ctx());
    expect(plan).toMatchObject({ action: 'ignore', reason: expect.stringMatching(reason), targets: [] });
    expect(plan.text).toBeUndefined();
  });

  it('refuses an unknown sender first, naming it, without carrying its text', () => {
    const plan = planCapMessage(load('storm-hoi-an-vi.xml'), ctx({ sources: [{ sender: 'pccc@hoian.example.vn' }] }));
    expect(plan).toMatchObject({ action: 'refuse', reason: expect.stringContaining('canh-bao@nchmf.gov.vn'), targets: [] });
    expect(plan.text).toBeUndefined();
    expect(plan.headline).toBeUndefined();
    // Before the status check: an untrusted System message is refused, not ignored.
    expect(planCapMessage(load('system.xml'), ctx({ sources: [] })).action).toBe('refuse');
  });

  it('refuses an area that matches no station, naming its areaDesc, never widening to all', () => {
    const plan = planCapMessage(load('area-nowhere.xml'), ctx());
    expect(plan).toMatchObject({ action: 'refuse', reason: 'area "Huyện Sa Pa" matches no station', targets: [] });
    expect(plan.headline).toBe('Rét hại ở Hội An'); // the approver still sees what was refused
  });

  it('refuses an alert with no area at all', () => {
    const doc = fixture('circle-old-town.xml').replace(/<area>[\s\S]*<\/area>/, '');
    expect(planCapMessage(msg(doc), ctx())).toMatchObject({ action: 'refuse', reason: expect.stringMatching(/no <area>/) });
  });

  it('refuses a cap.areas row whose target is neither a station nor a group', () => {
    const c = ctx({ areas: [{ valueName: 'MA_DVHC', value: '503', targets: ['hoi-an', 'ghost-ward'] }, ...ctx().areas.slice(1)] });
    expect(planCapMessage(load('storm-hoi-an-vi.xml'), c)).toMatchObject({ action: 'refuse', reason: expect.stringContaining('"ghost-ward"') });
  });

  it('refuses an expired message, including one that expires exactly now', () => {
    expect(planCapMessage(load('expired.xml'), ctx())).toMatchObject({
      action: 'refuse',
      reason: 'expired at 2026-11-03T06:00:00Z',
      expiresAt: '2026-11-03T06:00:00Z',
      targets: [],
    });
    const storm = load('storm-hoi-an-vi.xml');
    expect(planCapMessage(storm, ctx({ now: Date.parse('2026-11-04T07:00:00Z') })).action).toBe('refuse');
    expect(planCapMessage(storm, ctx({ now: Date.parse('2026-11-04T06:59:59Z') })).action).toBe('alert');
  });

  it('refuses a message sent more than 5 minutes in the future, tolerating a little clock skew', () => {
    const storm = load('storm-hoi-an-vi.xml'); // sent 07:00Z
    expect(planCapMessage(storm, ctx({ now: Date.parse('2026-11-03T06:54:59Z') }))).toMatchObject({ action: 'refuse', reason: expect.stringMatching(/^sent in the future/) });
    expect(planCapMessage(storm, ctx({ now: Date.parse('2026-11-03T06:55:00Z') })).action).toBe('alert');
  });
});

describe('planCapMessage: repeat, audio, text and determinism', () => {
  it('repeats 1 by default and clamps the policy to 1..20', () => {
    const storm = load('storm-hoi-an-vi.xml'); // Immediate + Severe
    expect(planCapMessage(storm, ctx({ repeatPolicy: undefined })).repeat).toBe(1);
    expect(planCapMessage(storm, ctx({ repeatPolicy: { immediateSevere: 50 } })).repeat).toBe(20);
    expect(planCapMessage(storm, ctx({ repeatPolicy: { immediateSevere: 0 } })).repeat).toBe(1);
    expect(planCapMessage(storm, ctx({ repeatPolicy: { immediateExtreme: 9 } })).repeat).toBe(1);
    expect(planCapMessage(load('multi-language.xml'), ctx()).repeat).toBe(1); // Expected, not Immediate
  });

  it('takes embedded base64 audio when the resource has derefUri', () => {
    const doc = fixture('storm-hoi-an-vi.xml').replace('<uri>https://example.vn/canh-bao/bao-13.mp3</uri>', '<derefUri>SUQzBAAAAAAAAA==</derefUri>');
    expect(planCapMessage(msg(doc), ctx()).audio).toEqual({
      derefBase64: 'SUQzBAAAAAAAAA==',
      mimeType: 'audio/mpeg',
      size: 482113,
      digest: '3a7bd3e2360a3d29eea436fcfb7e44c735d117c4',
    });
  });

  it('uses event as the headline when there is none, and a custom template when given', () => {
    const doc = fixture('storm-hoi-an-vi.xml').replace(/<headline>[^<]*<\/headline>/, '');
    const plan = planCapMessage(msg(doc), ctx({ template: (p) => `[${p.language}] ${p.headline} | ${p.instruction ?? ''}` }));
    expect(plan.headline).toBe('Bão số 13');
    expect(plan.text).toBe('[vi-VN] Bão số 13 | Người dân vùng trũng di dời đến nơi an toàn & không ra biển');
  });

  it('joins text parts with ". " unless a part already ends a sentence, collapsing whitespace', () => {
    expect(defaultCapTemplate({ language: 'vi', event: 'e', headline: 'Bão', description: 'Gió mạnh!\n  Mưa to.', instruction: 'Ở nhà' })).toBe('Bão. Gió mạnh! Mưa to. Ở nhà');
    expect(defaultCapTemplate({ language: 'vi', event: 'e', headline: 'Bão' })).toBe('Bão');
  });

  it('gives deeply equal plans for the same input, whatever the order of stations', () => {
    const storm = load('storm-hoi-an-vi.xml');
    const a = planCapMessage(storm, ctx());
    expect(planCapMessage(storm, ctx())).toEqual(a);
    expect(planCapMessage(storm, ctx({ stations: [...ctx().stations].reverse() }))).toEqual(a);
  });

  it('keys a message by sender, identifier and sent', () => {
    expect(capKey(load('storm-hoi-an-vi.xml'))).toBe('canh-bao@nchmf.gov.vn,KTTV-2026-BAO13-001,2026-11-03T14:00:00+07:00');
  });
});

describe('chooseInfo', () => {
  const info = (...langs: string[]): CapInfo[] => langs.map((language) => ({ language }) as CapInfo);
  it('prefers vi-VN, then any vi, then the fleet preferences in order, then the first block', () => {
    expect(chooseInfo(info('en-US', 'vi', 'vi-VN'), ['en-US'])).toBe(2);
    expect(chooseInfo(info('en-US', 'VI-vn'), ['en-US'])).toBe(1);
    expect(chooseInfo(info('de-DE', 'en-GB', 'fr-CA'), ['fr-FR', 'en-GB'])).toBe(2); // fr primary beats a later exact en-GB
    expect(chooseInfo(info('de-DE', 'en-gb'), ['en-GB'])).toBe(1);
    expect(chooseInfo(info('de-DE', 'ja-JP'), ['en-US'])).toBe(0);
    expect(chooseInfo([], ['en-US'])).toBe(-1);
  });
});
