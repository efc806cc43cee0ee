// `npm run screenshots`: every page of the web console, captured from the real page for
// docs/console.md. It runs the demo with its console (`npm run demo -- --console`, the 13 Hội An
// stations, in a temporary directory), waits for the demo's day to finish, makes some activity
// in the browser (an announcement, a schedule push, a live alert draft), then saves viewport
// screenshots at desktop (1280×900) and phone (390×844) width into docs/console/.
//
//   node dist/support/screenshots.js [--lang en|vi] [--out DIR] [--demo-out DIR]
//
// --demo-out DIR uses a demo already running (`npm run demo -- --console --out DIR`) instead of
// starting one; it is left running.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';
import { parse, stringify } from 'yaml';
import { type ConsoleInfo, type ConsoleLogin, readConsoleLogins } from '../demo/setup.js';
import { CHROMIUM, CHROMIUM_ARGS } from './browser.js';

const ROOT = path.resolve(import.meta.dirname, '../..');
const DEMO = path.join(ROOT, 'dist/demo/main.js');
const CLIP = path.join(ROOT, 'audio-fixtures/speech-vi.wav');
const VIEWPORTS = { desktop: { width: 1280, height: 900 }, phone: { width: 390, height: 844 } } as const;
type Width = keyof typeof VIEWPORTS;

const { values } = parseArgs({
  options: { lang: { type: 'string', default: 'en' }, out: { type: 'string', default: path.join(ROOT, 'docs/console') }, 'demo-out': { type: 'string' } },
});
if (values.lang !== 'en' && values.lang !== 'vi') throw new Error(`--lang expects en or vi, got ${values.lang}`);
const LANG = values.lang;
const OUT = path.resolve(values.out!);

const log = (s: string) => process.stdout.write(`screenshots: ${s}\n`);

/** The demo with its console, until it says the fleet keeps running (its day is over). */
async function startDemo(dir: string): Promise<{ child: ChildProcess; output: () => string }> {
  const child = spawn(process.execPath, [DEMO, '--console', '--out', dir], { env: { ...process.env, NO_COLOR: '1' }, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the demo did not finish its day within 10 min:\n${output.slice(-3000)}`)), 600_000);
    const on = (d: Buffer) => {
      output += d.toString();
      if (output.includes('Press Ctrl+C to stop.')) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout!.on('data', on);
    child.stderr!.on('data', on);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`the demo exited (${code}) before its console was ready:\n${output.slice(-3000)}`));
    });
  });
  return { child, output: () => output };
}

async function stopDemo(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null) return child.exitCode;
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  child.kill('SIGINT');
  const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
  const code = await exited;
  clearTimeout(timer);
  return code;
}

class Shooter {
  private browser?: Browser;
  readonly contexts = new Map<Width, BrowserContext>();
  readonly pages = new Map<Width, Page>();
  readonly saved: string[] = [];

  constructor(readonly base: string) {}

  async open(): Promise<void> {
    // One Debian Chromium (support/browser.ts's binary and flags), one context per width.
    this.browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
    for (const w of Object.keys(VIEWPORTS) as Width[]) {
      const ctx = await this.browser.newContext({ viewport: VIEWPORTS[w] });
      // The page's language lives in localStorage; set it before any script of the page runs.
      await ctx.addInitScript((lang) => localStorage.setItem('loa.lang', lang), LANG);
      this.contexts.set(w, ctx);
      this.pages.set(w, await ctx.newPage());
    }
  }

  page(w: Width): Page {
    return this.pages.get(w)!;
  }

  async each(fn: (page: Page, w: Width) => Promise<void>): Promise<void> {
    for (const w of this.pages.keys()) await fn(this.page(w), w);
  }

  async login(u: ConsoleLogin): Promise<void> {
    await this.each(async (page, w) => {
      await this.contexts.get(w)!.clearCookies();
      await page.goto(`${this.base}/`);
      await page.fill('input[name=name]', u.name);
      await page.fill('input[name=password]', u.password);
      await page.click('button[type=submit]');
      await page.waitForSelector('header.top');
    });
  }

  /** Go to a page in both widths and wait for what shows it is ready. */
  async visit(route: string, ready: string): Promise<void> {
    await this.each(async (page) => {
      await page.goto(`${this.base}${route}`);
      await page.waitForSelector('[data-live=on]');
      await page.waitForSelector(ready, { timeout: 30_000 });
    });
  }

  async shoot(name: string, only?: Width): Promise<void> {
    await this.each(async (page, w) => {
      if (only && w !== only) return;
      // Let layout, the map and late list updates settle (no animation runs on these pages).
      await page.waitForTimeout(400);
      const file = path.join(OUT, `${name}-${w}.png`);
      await page.screenshot({ path: file, type: 'png' });
      this.saved.push(path.relative(ROOT, file));
    });
  }

  async close(): Promise<void> {
    await this.browser?.close();
  }
}

async function capture(info: ConsoleInfo): Promise<string[]> {
  const user = (role: ConsoleLogin['role']) => info.users.find((u) => u.role === role)!;
  const operator = user('operator');
  const approver = user('approver');
  const s = new Shooter(info.url.replace(/\/$/, ''));
  await s.open();
  try {
    // ---- login --------------------------------------------------------------------------
    await s.each(async (page) => {
      await page.goto(`${s.base}/`);
      await page.waitForSelector('input[name=name]');
    });
    await s.shoot('login');
    await s.login(operator);

    // ---- overview: the 13 stations, live ---------------------------------------------------
    await s.visit('/', 'svg.map');
    await s.each(async (page) => {
      await page.waitForFunction(() => document.querySelectorAll('tr.station[data-health=ok]').length === 13, undefined, { timeout: 60_000 });
    });
    await s.shoot('overview');

    // ---- announce: a clip uploaded and previewed, every station ticked; sent from the desktop
    await s.visit('/announce', 'input[type=file][name=audio]');
    let media = '';
    await s.each(async (page) => {
      await page.setInputFiles('input[type=file][name=audio]', CLIP);
      media = (await (await page.waitForSelector('.preview[data-media]', { timeout: 60_000 })).getAttribute('data-media'))!;
      await page.fill('input[name=title]', '10:00 Thông báo lịch tiêm chủng mở rộng');
      await page.check('input[data-target=all]');
    });
    await s.shoot('announce');
    const desk = s.page('desktop');
    await desk.click('button[data-action=send]');
    await desk.waitForURL(/\/broadcasts\/announce-/);
    const announcement = desk.url().split('/').pop()!;
    log(`announcement ${announcement} sent; waiting for 13/13 completed`);
    await desk.waitForFunction(() => document.querySelectorAll('tr[data-state=completed]').length === 13, undefined, { timeout: 180_000 });

    // ---- broadcast detail and list --------------------------------------------------------
    await s.visit(`/broadcasts/${announcement}`, '[data-progress="13/13"]');
    await s.shoot('broadcast');
    await s.visit('/broadcasts', 'tr[data-broadcast]');
    await s.shoot('broadcasts');

    // ---- schedules: two daily items added in the editor, checked, pushed ------------------
    await s.visit('/schedules', 'textarea[name=schedule]');
    const current = parse(await desk.inputValue('textarea[name=schedule]')) as { tz: string; items?: Record<string, unknown>[] };
    const edited = stringify(
      {
        ...current,
        items: [
          ...(current.items ?? []),
          { id: 'ban-tin-sang-hang-ngay', to: 'all', cron: '0 6 * * *', title: '06:00 Bản tin sáng', media },
          // 21:30 is after 21:00: the check flags it for a second look.
          { id: 'ca-nhac-toi-hoi-an-dong', to: 'hoi-an-dong', cron: '30 21 * * 6', title: '21:30 Ca nhạc cuối tuần', media },
        ],
      },
      { lineWidth: 0 },
    );
    await s.each(async (page) => {
      await page.fill('textarea[name=schedule]', edited);
      await page.click('button[data-action=check]');
      await page.waitForSelector('[data-checked], p.error', { timeout: 60_000 });
      const error = await page
        .locator('p.error')
        .textContent({ timeout: 100 })
        .catch(() => null);
      if (error) throw new Error(`the schedule check failed: ${error}\n${edited}`);
      await page.locator('textarea[name=schedule]').evaluate((el) => el.scrollIntoView({ block: 'start' }));
    });
    await s.shoot('schedules');
    await desk.click('button[data-action=push]');
    await desk.waitForSelector('[data-pushed-result]', { timeout: 120_000 });
    log('schedule pushed; waiting for 13/13 applied');
    await desk.waitForSelector('[data-applied="13/13"]', { timeout: 120_000 });

    // ---- alerts: a live storm alert drafted; it waits for a second official --------------
    await s.visit('/alerts', 'form[data-form=new-alert]');
    await desk.check('input[data-kind=live]');
    await desk.setInputFiles('input[type=file][name=audio]', CLIP);
    await desk.waitForSelector('.preview[data-media]', { timeout: 60_000 });
    await desk.fill('input[name=title]', 'KHẨN CẤP: bão số 9 — sơ tán khỏi bãi biển Cửa Đại');
    await desk.check('input[data-target-group=hoi-an-dong]');
    await desk.check('input[data-target-group=tan-hiep]');
    await desk.click('button[data-action=draft-alert]');
    await desk.waitForURL(/\/alerts\/alert-/);
    const draft = desk.url().split('/').pop()!;
    log(`live alert drafted: ${draft}`);
    await s.visit('/alerts', `tr[data-draft="${draft}"]`);
    await s.shoot('alerts');

    // ---- live microphone: the form (going live needs a microphone) ------------------------
    await s.visit('/live', 'button[data-action=go-live]');
    await s.each(async (page) => {
      await page.check('input[data-target-group=hoi-an-dong]');
      await page.fill('input[name=title]', 'Trực tiếp: thông báo khẩn của phường');
    });
    await s.shoot('live');

    // ---- reports and audit ------------------------------------------------------------------
    await s.visit('/reports', 'table.list tbody tr');
    await s.shoot('reports');
    await s.visit('/audit', 'table.list tbody tr');
    await s.shoot('audit');

    // ---- the approver's view of the draft ---------------------------------------------------
    await s.login(approver);
    await s.visit(`/alerts/${draft}`, 'section.approval button[data-action=approve]');
    await s.each(async (page) => {
      await page.waitForFunction(() => document.querySelectorAll('svg.map .ring').length === 4, undefined, { timeout: 30_000 });
    });
    await s.shoot('approval');
    return s.saved;
  } finally {
    await s.close();
  }
}

async function main(): Promise<number> {
  mkdirSync(OUT, { recursive: true });
  if (values['demo-out']) {
    const info = readConsoleLogins(path.resolve(values['demo-out']));
    log(`using the running demo's console at ${info.url}; capturing (${LANG})`);
    for (const f of await capture(info)) log(`wrote ${f}`);
    return 0;
  }
  let dir = '';
  let demo: Awaited<ReturnType<typeof startDemo>> | undefined;
  try {
    // A busy machine can make the demo's own start-up checks time out: try it again, twice.
    for (let attempt = 1; !demo; attempt++) {
      dir = mkdtempSync(path.join(os.tmpdir(), 'loa-screenshots-'));
      log(`starting the demo fleet with its console in ${dir} (the demo's day takes a minute or two)`);
      try {
        demo = await startDemo(dir);
      } catch (e) {
        rmSync(dir, { recursive: true, force: true });
        if (attempt === 3) throw e;
        log(`the demo did not start (${(e as Error).message.split('\n').find((l) => l.startsWith('demo failed')) ?? 'see above'}); again`);
      }
    }
    const info = readConsoleLogins(dir);
    log(`console at ${info.url}; capturing (${LANG})`);
    const saved = await capture(info);
    for (const f of saved) log(`wrote ${f}`);
    return 0;
  } finally {
    if (demo) {
      const code = await stopDemo(demo.child);
      if (code !== 0) log(`note: the demo exited ${code}; its output ended with:\n${demo.output().slice(-1500)}`);
    }
    rmSync(dir, { recursive: true, force: true });
  }
}

process.exit(await main());
