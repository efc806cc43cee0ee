// Debian's Chromium driven by playwright-core: no browser download, a fresh profile each run.
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { type BrowserContext, chromium } from 'playwright-core';

export const CHROMIUM = process.env.LOA_CHROMIUM ?? '/usr/bin/chromium';

export const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

/** A persistent context is the only way to give Chromium its own user-data-dir. */
export async function launchBrowser(opts: { extraArgs?: string[]; viewport?: { width: number; height: number } } = {}): Promise<BrowserContext> {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} not found: apt-get install chromium (.ci/run installs it)`);
  const userDataDir = mkdtempSync(path.join(os.tmpdir(), 'loa-chromium-'));
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM,
    headless: true,
    args: [...CHROMIUM_ARGS, ...(opts.extraArgs ?? [])],
    viewport: opts.viewport ?? { width: 1280, height: 900 },
    acceptDownloads: true,
  });
  // Chromium's helpers may still be writing the profile as the context closes: retry, and
  // never let a leftover temp directory fail a test.
  context.on('close', () => {
    try {
      rmSync(userDataDir, { recursive: true, force: true, maxRetries: 5, retryDelay: 200 });
    } catch {
      /* left in the temp directory */
    }
  });
  return context;
}
