// Console II in Chromium against the 13 Hội An stations (real daemons, file outputs): a
// schedule edited in the browser, a two-person live alert and its cancel, the own-draft rule,
// and a live microphone session fed a known tone by Chromium's fake capture device.
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { parse } from 'yaml';
import { launchBrowser } from '../support/browser.js';
import { type ConsoleFleet, startConsoleFleet } from '../support/console-fleet.js';
import { ROOT } from '../support/station.js';
import { tempDir } from '../support/tmp.js';

interface HoiAnStation {
  id: string;
  name: string;
  groups: string[];
  location: { lat: number; lon: number };
}
const hoiAn = parse(readFileSync(path.join(ROOT, 'schedules/hoi-an/fleet.yaml'), 'utf8')) as { groups: { id: string; name: string }[]; stations: HoiAnStation[] };
const IDS = hoiAn.stations.map((s) => s.id);

describe('console II in Chromium, 13 stations', () => {
  let f: ConsoleFleet;
  let base: string;
  let centre: BrowserContext;
  let duty: BrowserContext;
  let chair: BrowserContext;
  let tone: string;

  beforeAll(async () => {
    f = await startConsoleFleet({
      stations: hoiAn.stations.map((s) => ({ id: s.id, name: s.name, group: s.groups[0]!, location: s.location })),
      groups: hoiAn.groups,
      keys: [
        { id: 'centre', allow: ['schedule', 'announce', 'alert', 'cancel'] },
        { id: 'duty', allow: ['alert', 'cancel'] },
        { id: 'chair', allow: ['alert', 'cancel', 'announce'] },
      ],
      users: [
        { name: 'centre', role: 'operator', password: 'trung-tam-mat-khau', key: 'centre' },
        { name: 'duty', role: 'approver', password: 'truc-ban-mat-khau', key: 'duty' },
        { name: 'chair', role: 'approver', password: 'chu-tich-mat-khau', key: 'chair' },
      ],
      telemetrySec: 2,
    });
    base = f.console.url.replace(/\/$/, '');
    // 3 s of silence, a 1 kHz beep for 1 s, 8 s of silence: the fake microphone plays it in a loop.
    tone = path.join(tempDir('loa-tone-'), 'beep.wav');
    execFileSync('ffmpeg', [
      ...['-hide_banner', '-loglevel', 'error', '-y'],
      ...[
        '-f',
        'lavfi',
        '-i',
        'anullsrc=r=48000:cl=mono:d=3',
        '-f',
        'lavfi',
        '-i',
        'sine=frequency=1000:sample_rate=48000:duration=1',
        '-f',
        'lavfi',
        '-i',
        'anullsrc=r=48000:cl=mono:d=8',
      ],
      ...['-filter_complex', '[0][1][2]concat=n=3:v=0:a=1', '-ac', '1', '-ar', '48000', tone],
    ]);
    [centre, duty, chair] = await Promise.all([
      launchBrowser({ extraArgs: ['--use-fake-device-for-media-stream', '--use-fake-ui-for-media-stream', `--use-file-for-fake-audio-capture=${tone}`] }),
      launchBrowser(),
      launchBrowser({ viewport: { width: 390, height: 844 } }), // the chair approves from a phone
    ]);
  }, 240_000);

  afterAll(async () => {
    await Promise.all([centre?.close(), duty?.close(), chair?.close()]);
    await f?.stop();
  });

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

  test('a schedule edited in the browser, a validation error fixed first, is pushed and applied 13/13', async () => {
    const page = await login(centre, 'centre', 'trung-tam-mat-khau');
    await page.click('a[data-nav="/schedules"]');
    await page.waitForSelector('textarea[name=schedule]');
    const bad = [
      'items:',
      '  - id: ban-tin-sang',
      '    to: all',
      '    cron: "61 6 * * *"',
      '    title: Bản tin sáng',
      '    tts: {text: "Chào buổi sáng"}',
      '  - id: nhac-toi',
      '    to: all',
      '    cron: "30 22 * * *"',
      '    title: Nhạc tối',
      '    tts: {text: "Chúc ngủ ngon"}',
      '',
    ].join('\n');
    await page.fill('textarea[name=schedule]', bad);
    await page.click('button[data-action=check]');
    const err = page.locator('p.error[data-error-line]');
    await err.waitFor();
    // The CLI's own schema, with the line and key path of the mistake.
    expect(await err.getAttribute('data-error-line')).toBe('4');
    expect(await err.getAttribute('data-error-path')).toBe('items[0].cron');
    expect(await page.locator('button[data-action=push]').isDisabled()).toBe(true);
    await page.fill('textarea[name=schedule]', bad.replace('"61 6 * * *"', '"0 6 * * *"'));
    await page.click('button[data-action=check]');
    await page.waitForSelector('[data-checked]');
    // 22:30 is after 21:00: flagged for a second look, once per station per day.
    const flagged = Number(await page.locator('[data-checked] [data-flagged]').getAttribute('data-flagged'));
    expect(flagged).toBeGreaterThanOrEqual(13 * 6);
    expect(await page.locator('[data-checked] tr[data-airing=nhac-toi]').first().getAttribute('data-flags')).toBe('late');
    await page.click('button[data-action=push]');
    await page.waitForSelector('[data-pushed-result]', { timeout: 60_000 });
    await page.waitForSelector('[data-applied="13/13"]', { timeout: 60_000 });
    // The stations hold it: their telemetry reports the pushed version.
    for (const id of IDS) {
      const row = page.locator(`tr[data-station=${id}]`);
      expect(await row.getAttribute('data-applied')).toBe(await row.getAttribute('data-pushed'));
    }
    // Who changed what, in the audit shown beside the schedule.
    await page.reload();
    await page.waitForSelector('textarea[name=schedule]');
    expect(await page.textContent('section')).toContain('ban-tin-sang');
  });

  test('a live alert drafted in one browser and approved in another airs everywhere, then is cancelled with a correction', async () => {
    const drafter = await login(centre, 'centre', 'trung-tam-mat-khau');
    await drafter.click('a[data-nav="/alerts"]');
    await drafter.check('input[data-kind=live]');
    await drafter.click('button[data-mode=text]');
    await drafter.fill('textarea[name=text]', 'Cảnh báo lũ: nước sông Hoài đang lên, đề nghị bà con di chuyển đến nơi an toàn.');
    await drafter.click('button[data-action=make-speech]');
    await drafter.waitForSelector('.preview[data-media]', { timeout: 30_000 });
    await drafter.fill('input[name=title]', 'Cảnh báo lũ');
    // Long enough on air (10 times) that the cancel below really cuts it.
    await drafter.fill('input[name=repeat]', '10');
    await drafter.check('input[data-target=all]');
    await drafter.click('button[data-action=draft-alert]');
    await drafter.waitForURL(/\/alerts\/alert-/);
    const draftId = drafter.url().split('/').pop()!;
    // Nothing has aired: a live alert waits for a second official.
    expect(await drafter.locator('button[data-action=approve]').count()).toBe(0);

    const approver = await login(chair, 'chair', 'chu-tich-mat-khau');
    await approver.goto(`${base}/alerts`);
    await approver.click(`tr[data-draft="${draftId}"] a`);
    await approver.waitForSelector('section.approval');
    // Everything stations will do: the audio itself, every target, the expiry, the drafter.
    expect(await approver.locator('audio[data-audio=alert]').count()).toBe(1);
    expect((await approver.getAttribute('[data-targets]', 'data-targets'))!.split(',').sort()).toEqual([...IDS].sort());
    expect(await approver.textContent('[data-drafter]')).toBe('centre');
    expect(await approver.locator('svg.map .ring').count()).toBe(13);
    // A wrong password signs nothing.
    await approver.fill('input[name=approve-password]', 'not-my-password');
    await approver.click('button[data-action=approve]');
    await approver.waitForSelector('p.error');
    await approver.fill('input[name=approve-password]', 'chu-tich-mat-khau');
    await approver.click('button[data-action=approve]');
    await approver.waitForURL(new RegExp(`/broadcasts/${draftId}$`), { timeout: 30_000 });
    await approver.waitForSelector('[data-progress="13/13"]', { timeout: 60_000 });

    // Cancel with the correction, in one step, by a third official; the duty officer approves it.
    const canceller = await login(duty, 'duty', 'truc-ban-mat-khau');
    await canceller.goto(`${base}/alerts`);
    await canceller.click(`button[data-action=cancel-alert][data-alert="${draftId}"]`);
    await canceller.fill('input[name=reason]', 'Báo nhầm: nước không lên');
    await canceller.fill('input[name=cancel-password]', 'truc-ban-mat-khau');
    await canceller.click('button[data-action=confirm-cancel]');
    await canceller.waitForURL(/\/alerts\/alert-/);
    const cancelDraft = canceller.url().split('/').pop()!;
    const second = await login(chair, 'chair', 'chu-tich-mat-khau');
    await second.goto(`${base}/alerts/${cancelDraft}`);
    await second.fill('input[name=approve-password]', 'chu-tich-mat-khau');
    await second.click('button[data-action=approve]');
    await second.waitForURL(/\/broadcasts\//, { timeout: 30_000 });
    // Every station stopped the alert mid-air (cancelled) and aired the correction.
    await expect
      .poll(
        async () => {
          const d = await second.evaluate(
            async (id) => (await (await fetch(`/api/broadcasts/${id}`)).json()) as { progress: { state: string; steps: { state: string }[] }[] },
            draftId,
          );
          return d.progress.filter((p) => p.state === 'cancelled' && p.steps.some((s) => s.state === 'started')).length;
        },
        { timeout: 60_000 },
      )
      .toBe(13);
    await expect
      .poll(
        async () => {
          const d = await second.evaluate(async (id) => (await (await fetch(`/api/broadcasts/${id}`)).json()) as { confirmed: number }, cancelDraft);
          return d.confirmed;
        },
        { timeout: 60_000 },
      )
      .toBe(13);
  }, 240_000);

  test('nobody approves their own draft, even with a forged request', async () => {
    const page = await login(duty, 'duty', 'truc-ban-mat-khau');
    const r = await page.evaluate(async () => {
      const s = (await (await fetch('/api/session')).json()) as { csrf: string };
      const h = { 'content-type': 'application/json', 'x-csrf-token': s.csrf };
      const speech = (await (await fetch('/api/speech', { method: 'POST', headers: h, body: JSON.stringify({ text: 'Thử phê duyệt' }) })).json()) as { sha256: string };
      const made = (await (
        await fetch('/api/alerts', { method: 'POST', headers: h, body: JSON.stringify({ media: speech.sha256, title: 'Tự duyệt', to: ['phuong-minh-an'], test: false }) })
      ).json()) as {
        draft: string;
      };
      const own = await fetch(`/api/alerts/drafts/${made.draft}/approve`, { method: 'POST', headers: h, body: JSON.stringify({ password: 'truc-ban-mat-khau' }) });
      return { draft: made.draft, status: own.status, error: ((await own.json()) as { error: string }).error };
    });
    expect(r.status).toBe(403);
    expect(r.error).toMatch(/you drafted this/);
    // The page does not even offer it.
    await page.goto(`${base}/alerts/${r.draft}`);
    await page.waitForSelector('section.approval');
    expect(await page.locator('button[data-action=approve]').count()).toBe(0);
    // An operator cannot approve anyone's draft.
    const op = await login(centre, 'centre', 'trung-tam-mat-khau');
    const forged = await op.evaluate(async (id) => {
      const s = (await (await fetch('/api/session')).json()) as { csrf: string };
      return (
        await fetch(`/api/alerts/drafts/${id}/approve`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'x-csrf-token': s.csrf },
          body: JSON.stringify({ password: 'trung-tam-mat-khau' }),
        })
      ).status;
    }, r.draft);
    expect(forged).toBe(403);
    // Still a draft: nothing went out.
    const drafts = await op.evaluate(async () => (await (await fetch('/api/alerts/drafts')).json()) as { id: string; signers: string[] }[]);
    expect(drafts.find((d) => d.id === r.draft)?.signers).toEqual(['duty']);
  });

  test('live from the microphone reaches a station output, and its latency is measured', async () => {
    const station = 'phuong-cam-pho';
    const before = new Set(readdirSync(f.outDir(station)));
    const page = await login(centre, 'centre', 'trung-tam-mat-khau');
    await page.click('a[data-nav="/live"]');
    await page.check(`input[data-target=${station}]`);
    await page.fill('input[name=title]', 'Trực tiếp thử');
    await page.click('button[data-action=go-live]');
    await page.waitForSelector('section[data-on-air=yes]');
    const captureStarted = Number(await page.getAttribute('section.live-mic', 'data-capture-started'));
    await page.waitForTimeout(7000);
    await page.click('button[data-action=stop-live]');
    await page.waitForSelector('[data-ended]');
    const id = (await page.getAttribute('[data-ended]', 'data-ended'))!;
    await expect
      .poll(async () => page.evaluate(async (bid) => ((await (await fetch(`/api/broadcasts/${bid}`)).json()) as { progress: { state: string }[] }).progress[0]!.state, id), {
        timeout: 30_000,
      })
      .toBe('completed');
    const file = readdirSync(f.outDir(station)).find((x) => !before.has(x) && x.endsWith('.wav'))!;
    expect(file).toBeTruthy();
    const wav = readFileSync(path.join(f.outDir(station), file));
    // The file output is named by the instant playback opened and written at real-time pace.
    const opened = Date.parse(file.slice(0, 24).replace(/T(\d\d)-(\d\d)-(\d\d)/, 'T$1:$2:$3'));
    const pcm = new Int16Array(wav.buffer, wav.byteOffset + 44, Math.floor((wav.length - 44) / 2));
    const onset = pcm.findIndex((v) => Math.abs(v) > 1500);
    expect(onset).toBeGreaterThan(0);
    const heardAt = opened + (onset / 48_000) * 1000;
    const spokenAt = captureStarted + 3000; // the beep is 3 s into the fake microphone's file
    const latencyMs = heardAt - spokenAt;
    process.stdout.write(`live microphone: mouth-to-speaker latency ${Math.round(latencyMs)} ms (file ${file}, ${statSync(path.join(f.outDir(station), file)).size} bytes)\n`);
    expect(latencyMs).toBeGreaterThan(0);
    expect(latencyMs).toBeLessThan(5000);
  });
});
