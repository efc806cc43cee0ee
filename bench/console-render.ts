// Console overview render time at 1,000 stations, in Debian's Chromium (playwright-core, headless):
// the same environment as the fan-out bench (bench/console-fanout.ts: 1,000 simulated stations on
// the broker `loa broker config` configured, `loa serve --collect`). An operator logs in through
// the login form; then, measured inside the page (performance.now(), whose origin is the start of
// the navigation):
//   - navigation -> the 1,000th `tr.station` in the DOM (a MutationObserver counting rows), and
//     the next animation frame after it; with the fleet quiet, and with every station sending
//     telemetry at 1 msg/s;
//   - one burst of 1,000 station updates (every simulated station publishes once, at once, with a
//     marker in outboxDepth): from the page's first burst event (a listener on the page's own
//     EventSource) until all 1,000 rows show the marker in their outbox cell, and from the burst's
//     publish (the simulator's wall clock) to that same moment (page timeOrigin + now).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { type BrowserContext, chromium, type Page } from 'playwright-core';
import { CHROMIUM, CHROMIUM_ARGS } from '../support/browser.js';
import { type ConsoleBenchEnv, startConsoleBenchEnv, startSimulator } from './console-fanout.js';
import { progress, sleep } from './lib.js';

export interface RenderResult {
  stations: number;
  chromium: string;
  /** navigation -> 1,000th row present, fleet quiet (ms). */
  navQuiet: number[];
  /** … -> the next animation frame. */
  navQuietFrame: number[];
  /** The same while 1,000 stations send 1 msg/s each. */
  navLive: number[];
  navLiveFrame: number[];
  /** First burst event seen by the page -> all rows updated in the DOM. */
  burstFirstToDom: number[];
  /** Last burst event seen by the page -> all rows updated. */
  burstLastToDom: number[];
  /** Burst publish started (simulator) -> all rows updated. */
  burstPublishToDom: number[];
  /** DOM mutation batches (≈ renders) it took, per burst. */
  burstRenders: number[];
}

interface PageBench {
  rows: number | null;
  frame: number | null;
  burst: { marker: number; first: number | null; last: number | null; events: number; dom: number | null; frame: number | null; renders: number } | null;
}

// Installed before the page's own scripts on every navigation. The outbox cell is the 7th column
// of a station row (console/web/src/pages/overview.tsx).
const instrument = (n: number) => `(() => {
  const b = { rows: null, frame: null, burst: null };
  window.__loaBench = b;
  const check = () => {
    if (b.rows === null && document.querySelectorAll('tr.station').length >= ${n}) {
      b.rows = performance.now();
      requestAnimationFrame(() => { b.frame = performance.now(); });
    }
    const u = b.burst;
    if (u && u.first !== null && u.dom === null) {
      u.renders++;
      const want = String(u.marker);
      let k = 0;
      for (const tr of document.querySelectorAll('tr.station')) if (tr.cells[6] && tr.cells[6].textContent === want) k++;
      if (k >= ${n}) {
        u.dom = performance.now();
        requestAnimationFrame(() => { u.frame = performance.now(); });
      }
    }
  };
  new MutationObserver(check).observe(document, { childList: true, subtree: true, characterData: true });
  const ES = window.EventSource;
  window.EventSource = class extends ES {
    constructor(url, init) {
      super(url, init);
      // Registered before the page sets onmessage, so it runs first for every message.
      this.addEventListener('message', (m) => {
        const u = b.burst;
        if (!u || !m.data.includes('"outboxDepth":' + u.marker + ',')) return;
        const t = performance.now();
        if (u.first === null) u.first = t;
        u.last = t;
        u.events++;
      });
    }
  };
})();`;

/**
 * Chromium as support/browser.ts launches it, but its profile is removed after close() has
 * returned (with retries): removing it from the context's 'close' event can race Chromium's own
 * last writes (ENOTEMPTY), and an exception there ends the bench.
 */
export async function launchChromium(extraArgs: string[] = []): Promise<{ context: BrowserContext; close(): Promise<void> }> {
  const userDataDir = mkdtempSync(path.join(os.tmpdir(), 'loa-bench-chromium-'));
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM,
    headless: true,
    args: [...CHROMIUM_ARGS, ...extraArgs],
    viewport: { width: 1280, height: 900 },
  });
  return {
    context,
    async close() {
      await context.close().catch(() => undefined);
      rmSync(userDataDir, { recursive: true, force: true, maxRetries: 5, retryDelay: 200 });
    },
  };
}

export const chromiumVersion = (): string => execFileSync(CHROMIUM, ['--version'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();

async function navigate(page: Page, base: string): Promise<{ rows: number; frame: number }> {
  await page.goto('about:blank');
  await page.goto(`${base}/`, { waitUntil: 'commit' });
  await page.waitForFunction(() => (window as unknown as { __loaBench?: PageBench }).__loaBench?.frame != null, null, { timeout: 120_000, polling: 100 });
  const b = await page.evaluate(() => (window as unknown as { __loaBench: PageBench }).__loaBench);
  return { rows: b.rows!, frame: b.frame! };
}

export async function consoleRender(o: { stations: number; navReps: number; burstReps: number }): Promise<RenderResult> {
  const env: ConsoleBenchEnv = await startConsoleBenchEnv(o.stations);
  const sim = startSimulator(env);
  const chromeRun = await launchChromium().catch(async (e) => {
    await sim.stop();
    await env.stop();
    throw e;
  });
  const r: RenderResult = {
    stations: o.stations,
    chromium: chromiumVersion(),
    navQuiet: [],
    navQuietFrame: [],
    navLive: [],
    navLiveFrame: [],
    burstFirstToDom: [],
    burstLastToDom: [],
    burstPublishToDom: [],
    burstRenders: [],
  };
  try {
    await sim.ready;
    // Every station has telemetry once (marker 1), as a fleet that has been running would.
    sim.send('burst 1');
    await sim.reply('burst');
    await sleep(1500);
    const page = chromeRun.context.pages()[0] ?? (await chromeRun.context.newPage());
    await page.addInitScript({ content: instrument(o.stations) });
    await page.goto(`${env.base}/`);
    await page.fill('input[name=name]', env.user.name);
    await page.fill('input[name=password]', env.user.password);
    await page.click('button[type=submit]');
    await page.waitForSelector('header.top');
    await page.waitForFunction((n) => document.querySelectorAll('tr.station').length >= n, o.stations, { timeout: 120_000, polling: 200 });
    progress(`console render: logged in, ${o.stations} rows after login`);

    for (let i = 0; i < o.navReps; i++) {
      const n = await navigate(page, env.base);
      r.navQuiet.push(n.rows);
      r.navQuietFrame.push(n.frame);
    }
    sim.send('start');
    await sleep(3000);
    for (let i = 0; i < o.navReps; i++) {
      const n = await navigate(page, env.base);
      r.navLive.push(n.rows);
      r.navLiveFrame.push(n.frame);
    }
    sim.send('stop');
    await sim.reply('stopped');
    // A fresh page, and the steady stream's last events drained.
    await navigate(page, env.base);
    await sleep(2000);
    const origin = await page.evaluate(() => performance.timeOrigin);
    for (let k = 0; k < o.burstReps; k++) {
      const marker = 1_000_000 + k;
      await page.evaluate((m) => {
        (window as unknown as { __loaBench: PageBench }).__loaBench.burst = { marker: m, first: null, last: null, events: 0, dom: null, frame: null, renders: 0 };
      }, marker);
      sim.send(`burst ${marker}`);
      const pub = await sim.reply<{ event: string; t0: number }>('burst');
      await page.waitForFunction(() => (window as unknown as { __loaBench: PageBench }).__loaBench.burst?.frame != null, null, { timeout: 60_000, polling: 100 });
      const b = (await page.evaluate(() => (window as unknown as { __loaBench: PageBench }).__loaBench.burst))!;
      r.burstFirstToDom.push(b.dom! - b.first!);
      r.burstLastToDom.push(b.dom! - b.last!);
      r.burstPublishToDom.push(origin + b.dom! - pub.t0);
      r.burstRenders.push(b.renders);
      await sleep(1000);
    }
    return r;
  } catch (e) {
    progress(`console render: ${(e as Error).stack}`);
    throw e;
  } finally {
    await chromeRun.close();
    await sim.stop();
    await env.stop();
  }
}
