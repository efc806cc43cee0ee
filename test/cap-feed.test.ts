import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { capAlertExpiry, capBroadcastId, capEnvelopes, UNSIGNED_ISSUER } from '../controller-cli/cap/envelopes.js';
import { classifySource } from '../controller-cli/cap/feed.js';
import { type CapContext, parseCap, planCapMessage } from '../controller-cli/cap/index.js';
import { capTemplate, capTemplateError, renderCapTemplate } from '../controller-cli/cap/template.js';
import { AlertBody, CancelBody, MAX_LIFETIME_MS } from '../protocol/index.js';

const DIR = new URL('./fixtures/cap/', import.meta.url);
const fixture = (name: string): string => readFileSync(new URL(name, DIR), 'utf8');

describe('classifySource: a CAP document or an index of them', () => {
  it('reads the Atom index: CAP-typed link preferred, oldest entry last as written, updated kept', () => {
    expect(classifySource(fixture('feed-atom.xml'))).toEqual({
      kind: 'index',
      format: 'atom',
      entries: [
        { href: 'update.xml', id: 'urn:example:kttv:KTTV-2026-BAO13-002', updated: '2026-11-03T07:03:00Z' },
        { href: 'storm-hoi-an-vi.xml', id: 'urn:example:kttv:KTTV-2026-BAO13-001', updated: '2026-11-03T07:00:00Z' },
      ],
    });
  });

  it('reads an RSS 2.0 index by item links', () => {
    const r = classifySource(fixture('feed-rss.xml'));
    expect(r).toMatchObject({ kind: 'index', format: 'rss' });
    expect(r.kind === 'index' && r.entries.map((e) => [e.href, e.id])).toEqual([
      ['exercise.xml', 'HOIAN-2026-EXERCISE-01'],
      ['polygon-old-town.xml', 'HOIAN-2026-CHAY-01'],
    ]);
  });

  it('reads atom: prefixes, content src, and &amp; in an href; skips entries without a link', () => {
    const feed = `\uFEFF<?xml version="1.0"?>
      <a:feed xmlns:a="http://www.w3.org/2005/Atom">
        <a:entry><a:id>x</a:id><a:content type="application/cap+xml" src="https://x.vn/cap?id=1&amp;f=xml"/></a:entry>
        <a:entry><a:id>y</a:id></a:entry>
        <a:entry><a:link rel="self" href="https://x.vn/self"/><a:link rel="alternate" href="https://x.vn/alt"/></a:entry>
      </a:feed>`;
    expect(classifySource(feed)).toEqual({
      kind: 'index',
      format: 'atom',
      entries: [{ href: 'https://x.vn/cap?id=1&f=xml', id: 'x' }, { href: 'https://x.vn/alt' }],
    });
  });

  it('says cap for a CAP alert (with a BOM, a declaration, a comment or a prefix)', () => {
    expect(classifySource(fixture('storm-hoi-an-vi.xml'))).toEqual({ kind: 'cap' });
    expect(classifySource(Buffer.from(`\uFEFF${fixture('prefixed-ns.xml')}`))).toEqual({ kind: 'cap' });
  });

  it('refuses a DTD in an index (billion laughs, XXE) before parsing, and anything else by its root', () => {
    const laughs = fixture('billion-laughs.xml').replace(/<alert[\s\S]*$/, '<feed xmlns="http://www.w3.org/2005/Atom"><entry><link href="&lol9;"/></entry></feed>');
    expect(classifySource(laughs)).toEqual({ kind: 'unknown', reason: 'DOCTYPE declarations are not allowed in CAP' });
    expect(classifySource('<html><body/></html>')).toMatchObject({ kind: 'unknown', reason: expect.stringContaining('<html>') });
    expect(classifySource('<feed><entry>')).toMatchObject({ kind: 'unknown', reason: expect.stringMatching(/not well-formed/) });
    expect(classifySource(Buffer.alloc(5 * 1024 * 1024, 0x20))).toMatchObject({ kind: 'unknown', reason: expect.stringMatching(/larger than/) });
  });
});

describe('cap.template', () => {
  const parts = { language: 'vi-VN', event: 'Bão số 13', headline: 'Bão số 13 đổ bộ.', description: 'Gió  mạnh\n cấp 12', instruction: 'Không ra biển' };

  it('fills placeholders, folds whitespace and tidies the punctuation an empty part leaves', () => {
    expect(renderCapTemplate('Thông báo khẩn về {event}: {headline}. {description}. {instruction}.', parts)).toBe(
      'Thông báo khẩn về Bão số 13: Bão số 13 đổ bộ. Gió mạnh cấp 12. Không ra biển.',
    );
    const noDescription = { ...parts, description: undefined };
    expect(capTemplate('{headline}. {description}. {instruction}.')(noDescription)).toBe('Bão số 13 đổ bộ. Không ra biển.');
    expect(renderCapTemplate('{description}. {headline}', noDescription)).toBe('Bão số 13 đổ bộ.');
  });

  it('names an unknown placeholder and refuses an empty template', () => {
    expect(capTemplateError('{headline} {area}')).toMatch(/unknown placeholder \{area\}/);
    expect(capTemplateError('  ')).toMatch(/non-empty/);
    expect(capTemplateError('Cảnh báo: {headline}. {instruction}')).toBeUndefined();
  });
});

describe('capEnvelopes', () => {
  const NOW = Date.parse('2026-11-03T07:05:00Z');
  const ctx: CapContext = {
    now: NOW,
    stations: [
      { id: 'phuong-minh-an', groups: ['hoi-an'], location: { lat: 15.8771, lon: 108.328 } },
      { id: 'xa-tan-hiep', groups: ['tan-hiep'] },
    ],
    groups: ['hoi-an', 'tan-hiep'],
    areas: [
      { valueName: 'MA_DVHC', value: '503', targets: ['hoi-an'] },
      { valueName: 'MA_DVHC', value: '20497', targets: ['tan-hiep'] },
      { valueName: 'MA_DVHC', value: '20470', targets: ['phuong-minh-an'] },
    ],
    languages: [],
    sources: [{ sender: 'canh-bao@nchmf.gov.vn' }],
    repeatPolicy: { immediateSevere: 2, immediateExtreme: 3 },
  };
  const plan = (name: string) => {
    const r = parseCap(fixture(name));
    if (!r.ok) throw new Error(r.reason);
    return planCapMessage(r.message, ctx);
  };
  const audio = { kind: 'media' as const, sha256: 'a'.repeat(64), size: 10 };

  it('derives the id from sender, identifier and sent: stable, and the same for the reference to it', () => {
    const alert = plan('storm-hoi-an-vi.xml');
    const id = capBroadcastId(alert);
    expect(id).toMatch(/^cap-20261103070000-[0-9a-f]{16}$/);
    expect(capBroadcastId(plan('update.xml').references[0]!)).toBe(id);
    expect(capBroadcastId({ ...alert, identifier: 'other' })).not.toBe(id);
  });

  it('an alert: one unsigned envelope to the planned stations, expiring at the CAP <expires>', () => {
    const p = plan('storm-hoi-an-vi.xml');
    const [env, ...rest] = capEnvelopes({ plan: p, now: NOW, defaultLifetimeMs: 6 * 3600_000, cancels: [], audio });
    expect(rest).toEqual([]);
    expect(env).toMatchObject({ id: capBroadcastId(p), type: 'alert', issuer: UNSIGNED_ISSUER, seq: 0, sigs: [], target: { stations: ['phuong-minh-an', 'xa-tan-hiep'] } });
    expect(env!.expiresAt).toBe('2026-11-04T07:00:00.000Z');
    expect(AlertBody.parse(env!.body)).toMatchObject({ title: 'Cảnh báo bão số 13 đổ bộ Hội An', test: false, repeat: 2, audio });
  });

  it('an update: the cancels first, living as long as the new alert, which comes last with the message id', () => {
    const p = plan('update.xml');
    const old = { broadcastId: 'cap-20261103070000-0123456789abcdef', target: { stations: ['xa-tan-hiep'] }, test: false, stations: ['xa-tan-hiep'] };
    const envs = capEnvelopes({ plan: p, now: NOW, defaultLifetimeMs: 6 * 3600_000, cancels: [old], audio });
    expect(envs.map((e) => [e.type, e.id])).toEqual([
      ['cancel', `${capBroadcastId(p)}-x1`],
      ['alert', capBroadcastId(p)],
    ]);
    expect(CancelBody.parse(envs[0]!.body)).toEqual({ broadcastId: old.broadcastId, reason: 'CAP Update KTTV-2026-BAO13-002' });
    expect(envs[0]!.target).toEqual(old.target);
    expect(envs[0]!.expiresAt).toBe(envs[1]!.expiresAt);
  });

  it('a cancel: only cancels, the last one named after the message', () => {
    const p = plan('cancel.xml');
    const c = (id: string) => ({ broadcastId: id, target: { stations: ['phuong-minh-an'] }, test: false, stations: ['phuong-minh-an'] });
    const envs = capEnvelopes({ plan: p, now: NOW, defaultLifetimeMs: 6 * 3600_000, cancels: [c('cap-a'), c('cap-b')] });
    expect(envs.map((e) => [e.type, e.id])).toEqual([
      ['cancel', `${capBroadcastId(p)}-x1`],
      ['cancel', capBroadcastId(p)],
    ]);
    expect(() => capEnvelopes({ plan: p, now: NOW, defaultLifetimeMs: 1, cancels: [] })).toThrow();
  });

  it('expiry: the CAP <expires>, else the default lifetime, never beyond the 7-day command bound', () => {
    expect(capAlertExpiry({ expiresAt: '2026-11-04T07:00:00Z' }, NOW, 3600_000)).toBe(Date.parse('2026-11-04T07:00:00Z'));
    expect(capAlertExpiry({}, NOW, 3600_000)).toBe(NOW + 3600_000);
    expect(capAlertExpiry({ expiresAt: '2027-01-01T00:00:00Z' }, NOW, 3600_000)).toBe(NOW + MAX_LIFETIME_MS.alert);
  });
});
