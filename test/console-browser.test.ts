// Console I in a real browser: Debian's Chromium (playwright-core) against `loa serve
// --collect`, a private mosquitto and real `loa-station` processes with file outputs.
import { readFileSync } from 'node:fs';
import mqtt from 'mqtt';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { parse } from 'yaml';
import { Topics } from '../protocol/index.js';
import { fixture } from '../support/audio.js';
import { launchBrowser } from '../support/browser.js';
import { type ConsoleFleet, startConsoleFleet } from '../support/console-fleet.js';

const TELEMETRY_SEC = 2;

describe('the console in Chromium', () => {
  let f: ConsoleFleet;
  let ward: BrowserContext;
  let ops: BrowserContext;
  let base: string;

  beforeAll(async () => {
    f = await startConsoleFleet({
      stations: [
        { id: 'phuong-a', name: 'Phường A', group: 'dong', location: { lat: 15.877, lon: 108.328 } },
        { id: 'phuong-b', name: 'Phường B', group: 'dong', location: { lat: 15.879, lon: 108.319 } },
        { id: 'xa-c', name: 'Xã C', group: 'tay', location: { lat: 15.862, lon: 108.312 } },
      ],
      groups: [
        { id: 'dong', name: 'Cụm Đông' },
        { id: 'tay', name: 'Cụm Tây' },
      ],
      keys: [
        { id: 'ward-dong', allow: ['announce', 'schedule'] },
        { id: 'ward-tay', allow: ['announce', 'schedule'] },
        { id: 'centre', allow: ['announce', 'schedule', 'alert', 'cancel', 'control'] },
      ],
      users: [
        { name: 'lan', role: 'ward', password: 'mat-khau-cua-lan', groups: ['dong'], key: 'ward-dong' },
        { name: 'hung', role: 'ward', password: 'mat-khau-cua-hung', groups: ['tay'], key: 'ward-tay' },
        { name: 'centre', role: 'operator', password: 'mat-khau-trung-tam', key: 'centre' },
      ],
      telemetrySec: TELEMETRY_SEC,
    });
    base = f.console.url.replace(/\/$/, '');
    [ward, ops] = await Promise.all([launchBrowser(), launchBrowser()]);
  }, 120_000);

  afterAll(async () => {
    await Promise.all([ward?.close(), ops?.close()]);
    await f?.stop();
  });

  /** A session outside the browser (node's fetch): the cookie and CSRF headers to send. */
  async function apiLogin(name: string, password: string): Promise<Record<string, string>> {
    const res = await fetch(`${base}/api/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name, password }) });
    expect(res.status).toBe(200);
    const csrf = ((await res.json()) as { csrf: string }).csrf;
    return { cookie: res.headers.get('set-cookie')!.split(';')[0]!, 'x-csrf-token': csrf };
  }

  async function login(ctx: BrowserContext, name: string, password: string): Promise<Page> {
    await ctx.clearCookies();
    const page = ctx.pages()[0] ?? (await ctx.newPage());
    await page.goto(`${base}/`);
    await page.fill('input[name=name]', name);
    await page.fill('input[name=password]', password);
    await page.click('button[type=submit]');
    await page.waitForSelector('header.top');
    return page;
  }

  test('a ward user announces to their ward by uploading a file and watches it reach N/N live', async () => {
    const page = await login(ward, 'lan', 'mat-khau-cua-lan');
    // Only their own two stations, both live.
    await expect.poll(() => page.locator('tr.station').count()).toBe(2);
    await expect.poll(() => page.locator('tr.station[data-health=ok]').count(), { timeout: 10_000 }).toBe(2);
    expect(await page.locator('[data-station=xa-c]').count()).toBe(0);
    await page.click('a[data-nav="/announce"]');
    await page.setInputFiles('input[type=file][name=audio]', fixture('speech-vi.wav'));
    await page.waitForSelector('.preview[data-media]', { timeout: 20_000 });
    await page.fill('input[name=title]', 'Thông báo họp tổ dân phố');
    await page.check('input[data-target-group=dong]');
    await page.click('button[data-action=send]');
    await page.waitForURL(/\/broadcasts\/announce-/);
    const id = page.url().split('/').pop()!;
    // The detail page fills in live, without a reload: received → … → completed at both.
    await page.waitForSelector('[data-progress="2/2"]', { timeout: 45_000 });
    await expect.poll(() => page.locator('tr[data-state=completed]').count(), { timeout: 45_000 }).toBe(2);
    expect(await page.textContent('[data-reached]')).toContain('2/2');
    // The stations really played it: their file outputs hold a rendered clip.
    const acks = await page.evaluate(async (bid) => (await (await fetch(`/api/broadcasts/${bid}`)).json()) as { by: string }, id);
    expect(acks.by).toBe('ward-dong');
  });

  test('a ward user cannot see or target another ward, even with a forged request', async () => {
    // Something the other ward sent, that the first must not see.
    const hung = await apiLogin('hung', 'mat-khau-cua-hung');
    const up = await fetch(`${base}/api/media`, { method: 'POST', headers: { ...hung, 'content-type': 'audio/wav' }, body: readFileSync(fixture('tone-3s.wav')) });
    const media = ((await up.json()) as { sha256: string }).sha256;
    const sent = await fetch(`${base}/api/announce`, {
      method: 'POST',
      headers: { ...hung, 'content-type': 'application/json' },
      body: JSON.stringify({ media, to: ['tay'], title: 'Tây only' }),
    });
    expect(sent.status).toBe(200);
    const theirs = ((await sent.json()) as { id: string }).id;
    const page = await login(ward, 'lan', 'mat-khau-cua-lan');
    const r = await page.evaluate(async (theirs) => {
      const s = (await (await fetch('/api/session')).json()) as { csrf: string; fleet: { stations: { id: string }[] } };
      const post = async (body: unknown) => {
        const res = await fetch('/api/announce', { method: 'POST', headers: { 'content-type': 'application/json', 'x-csrf-token': s.csrf }, body: JSON.stringify(body) });
        return { status: res.status, body: (await res.json()) as { error: string } };
      };
      const media = '0'.repeat(64);
      return {
        scope: s.fleet.stations.map((x) => x.id),
        station: await post({ media, to: ['xa-c'] }),
        group: await post({ media, to: ['tay'] }),
        mixed: await post({ media, to: ['phuong-a', 'xa-c'] }),
        stations: ((await (await fetch('/api/stations')).json()) as { stations: { id: string }[] }).stations.map((x) => x.id),
        list: ((await (await fetch('/api/broadcasts')).json()) as { id: string }[]).map((b) => b.id),
        detail: (await fetch(`/api/broadcasts/${theirs}`)).status,
      };
    }, theirs);
    expect(r.scope).toEqual(['phuong-a', 'phuong-b']);
    expect(r.stations).toEqual(['phuong-a', 'phuong-b']);
    expect(r.list).not.toContain(theirs);
    expect(r.detail).toBe(404);
    for (const x of [r.station, r.group, r.mixed]) {
      expect(x.status).toBe(403);
      expect(x.body.error).toMatch(/not in your stations/);
    }
    // The refusals are in the audit log, with who and from where.
    const audit = await page.evaluate(async () => (await (await fetch('/api/audit')).json()) as { action: string; outcome: string; user: string; ip: string }[]);
    expect(audit.filter((a) => a.action === 'announce' && a.outcome === 'refused' && a.user === 'lan').length).toBeGreaterThanOrEqual(3);
  });

  test('unauthenticated and CSRF-less requests are refused', async () => {
    const anon = await fetch(`${base}/api/stations`);
    expect(anon.status).toBe(401);
    const anonPost = await fetch(`${base}/api/announce`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    expect(anonPost.status).toBe(401);
    const page = await login(ward, 'lan', 'mat-khau-cua-lan');
    const r = await page.evaluate(async () => {
      const noToken = await fetch('/api/announce', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
      const wrongToken = await fetch('/api/announce', { method: 'POST', headers: { 'content-type': 'application/json', 'x-csrf-token': 'x' }, body: '{}' });
      return [noToken.status, wrongToken.status];
    });
    expect(r).toEqual([403, 403]);
    // A cross-site form post carries the cookie? SameSite=Strict says no; and Origin is checked.
    const cookies = await ward.cookies();
    const session = cookies.find((c) => c.name === 'loa_session')!;
    expect(session.httpOnly).toBe(true);
    expect(session.sameSite).toBe('Strict');
    const s = (await page.evaluate(async () => (await (await fetch('/api/session')).json()) as { csrf: string })) as { csrf: string };
    const crossSite = await fetch(`${base}/api/logout`, {
      method: 'POST',
      headers: { cookie: `loa_session=${session.value}`, 'x-csrf-token': s.csrf, origin: 'http://evil.example' },
    });
    expect(crossSite.status).toBe(403);
  });

  test('uploads are size-limited and checked with ffprobe before anything is stored', async () => {
    const page = await login(ward, 'lan', 'mat-khau-cua-lan');
    const r = await page.evaluate(async () => {
      const s = (await (await fetch('/api/session')).json()) as { csrf: string };
      const send = async (body: BodyInit) => {
        const res = await fetch('/api/media', { method: 'POST', headers: { 'x-csrf-token': s.csrf, 'content-type': 'application/octet-stream' }, body });
        return { status: res.status, error: ((await res.json()) as { error: string }).error };
      };
      return {
        text: await send(new TextEncoder().encode('this is not audio at all, just text pretending')),
        big: await send(new Uint8Array(17 * 1024 * 1024)),
      };
    });
    expect(r.text.status).toBe(422);
    expect(r.text.error).toMatch(/not an audio file|no audio stream/);
    expect(r.big.status).toBe(413);
  });

  test('station-controlled strings are shown as text, never run as markup', async () => {
    const file = f.stationFiles.get('phuong-b')!;
    const cfg = parse(readFileSync(file, 'utf8')) as { broker: { urls: string[]; username: string; password: string } };
    const topics = new Topics('loa/v1');
    const hostile = '<img src=x onerror="window.__pwned=1">';
    // Stop the real daemon's telemetry from overwriting the hostile one while we look.
    f.stations.get('phuong-b')!.proc.kill('SIGSTOP');
    try {
      const page = await login(ward, 'lan', 'mat-khau-cua-lan');
      const c = await mqtt.connectAsync(cfg.broker.urls[0]!, { username: cfg.broker.username, password: cfg.broker.password, clientId: `${cfg.broker.username}` });
      const tel = {
        v: 1,
        type: 'telemetry',
        station: 'phuong-b',
        epoch: 1,
        at: new Date().toISOString(),
        nowPlaying: [{ zone: 'main', priority: 'normal', title: hostile, since: new Date().toISOString() }],
        queue: 0,
        zones: [],
        diskFreeBytes: null,
        cacheBytes: 0,
        ffmpegOk: true,
        scheduleVersion: null,
        outboxDepth: 0,
        lastError: hostile,
        intervalSec: 60,
      };
      await c.publishAsync(topics.telemetry('phuong-b'), JSON.stringify(tel), { qos: 1 });
      await c.endAsync();
      const row = page.locator('tr[data-station=phuong-b]');
      await expect.poll(() => row.textContent(), { timeout: 10_000 }).toContain(hostile);
      expect(await page.evaluate(() => (window as unknown as { __pwned?: number }).__pwned)).toBeUndefined();
      expect(await row.locator('img').count()).toBe(0);
    } finally {
      f.stations.get('phuong-b')!.proc.kill('SIGCONT');
    }
  });

  test('the CSV downloaded from the reports page equals `loa report --csv`', async () => {
    const page = await login(ops, 'centre', 'mat-khau-trung-tam');
    await page.click('a[data-nav="/reports"]');
    const from = await page.inputValue('input[name=from]');
    const to = await page.inputValue('input[name=to]');
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('a[data-action=csv]')]);
    const browserCsv = readFileSync((await download.path())!, 'utf8');
    const cli = await f.loa(['report', '--from', from, '--to', to, '--csv']);
    expect(cli.code, cli.stderr).toBe(0);
    expect(browserCsv).toBe(cli.stdout);
    expect(browserCsv.split('\n').length).toBeGreaterThan(2); // the announcement above, per station
  });

  test('a station that goes offline, or silent, turns red within its telemetry interval', async () => {
    const page = await login(ops, 'centre', 'mat-khau-trung-tam');
    await page.click('a[data-nav="/"]');
    const row = (id: string) => page.locator(`tr[data-station=${id}]`);
    await expect.poll(() => row('xa-c').getAttribute('data-health'), { timeout: 10_000 }).toBe('ok');
    // Killed: the broker publishes its will (offline) at once.
    const t0 = Date.now();
    await f.stations.get('xa-c')!.kill9();
    await expect.poll(() => row('xa-c').getAttribute('data-health'), { timeout: TELEMETRY_SEC * 1000 + 3000, interval: 100 }).toBe('offline');
    expect(Date.now() - t0).toBeLessThan(TELEMETRY_SEC * 1000 + 3000);
    // Frozen (a hung box, a cut cable): no will, no telemetry; silence past the interval is red.
    await expect.poll(() => row('phuong-a').getAttribute('data-health'), { timeout: 10_000 }).toBe('ok');
    f.stations.get('phuong-a')!.proc.kill('SIGSTOP');
    try {
      const t1 = Date.now();
      await expect.poll(() => row('phuong-a').getAttribute('data-health'), { timeout: TELEMETRY_SEC * 1000 + 5000, interval: 100 }).toBe('silent');
      expect(Date.now() - t1).toBeLessThan(TELEMETRY_SEC * 1000 + 2000 + 2500);
    } finally {
      f.stations.get('phuong-a')!.proc.kill('SIGCONT');
    }
    await expect.poll(() => row('phuong-a').getAttribute('data-health'), { timeout: 10_000 }).toBe('ok');
    await f.restartStation('xa-c');
    await expect.poll(() => row('xa-c').getAttribute('data-health'), { timeout: 15_000 }).toBe('ok');
  });
});
