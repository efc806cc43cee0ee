// `loa cap watch`: feeds polled with ETag / If-Modified-Since, and directories where CAP files
// are dropped. Everything found goes through the same handleDocuments as `loa cap import`, so a
// message seen again (a re-poll, a restart) is recognised and makes no second draft.
import { createHash } from 'node:crypto';
import { type FSWatcher, readdirSync, statSync, watch } from 'node:fs';
import { join, resolve } from 'node:path';
import { t } from '../io/i18n.js';
import { classifySource, DEFAULT_MAX_INDEX_BYTES } from './cap/feed.js';
import { fetchLimited, isHttpUrl } from './cap-fetch.js';
import { CAP_FETCH_TIMEOUT_MS, type CapDoc, type CapResult, describeResult, expandSource, handleDocuments, loadInput } from './cap-import.js';
import { UsageError } from './errors.js';
import type { Fleet } from './fleet.js';
import { intOption } from './options.js';

/** Files a directory source reads; anything else (`.part`, `.tmp`, dotfiles) is someone still writing. */
const CAP_FILE = /^[^.].*\.(xml|cap|atom|rss)$/i;
/** A file is read once it has not changed for this long (or between two looks). */
const SETTLE_MS = 500;
const DIR_RESCAN_MS = 2000;

interface Source {
  label: string;
  /** What is new since the last look. `all`: ignore settling (one pass with --once). */
  poll(all: boolean): Promise<CapDoc[]>;
}

class FeedSource implements Source {
  private etag?: string;
  private lastModified?: string;
  private readonly seen = new Map<string, string>();
  private lastDocHash?: string;
  constructor(readonly label: string) {}

  async poll(): Promise<CapDoc[]> {
    const r = await fetchLimited(this.label, {
      maxBytes: DEFAULT_MAX_INDEX_BYTES,
      timeoutMs: CAP_FETCH_TIMEOUT_MS,
      ...(this.etag ? { etag: this.etag } : {}),
      ...(this.lastModified ? { lastModified: this.lastModified } : {}),
    });
    if (r.status === 304) return [];
    this.etag = r.etag;
    this.lastModified = r.lastModified;
    if (classifySource(r.body).kind === 'index') return expandSource(this.label, r.body, { base: new URL(r.url), allowFile: false, via: this.label, seen: this.seen });
    // The feed is one CAP document: read it again only when it changed.
    const hash = createHash('sha256').update(r.body).digest('hex');
    if (hash === this.lastDocHash) return [];
    this.lastDocHash = hash;
    return [{ source: this.label, body: r.body, via: this.label }];
  }
}

class DirSource implements Source {
  private readonly done = new Map<string, string>();
  private readonly pending = new Map<string, string>();
  /** Something is still settling: look again soon. */
  unsettled = false;
  constructor(readonly label: string) {}

  async poll(all: boolean): Promise<CapDoc[]> {
    const docs: CapDoc[] = [];
    this.unsettled = false;
    const now = Date.now();
    const names = readdirSync(this.label).sort();
    const present = new Set(names);
    for (const known of [...this.done.keys()]) if (!present.has(known)) this.done.delete(known);
    for (const name of names) {
      if (!CAP_FILE.test(name)) continue;
      const path = join(this.label, name);
      let sig: string;
      let mtime: number;
      try {
        const st = statSync(path);
        if (!st.isFile()) continue;
        sig = `${st.size}:${st.mtimeMs}`;
        mtime = st.mtimeMs;
      } catch {
        continue; // gone already
      }
      if (this.done.get(name) === sig) continue;
      const settled = all || this.pending.get(name) === sig || now - mtime > 4 * SETTLE_MS;
      if (!settled || (!all && now - mtime < SETTLE_MS)) {
        this.pending.set(name, sig);
        this.unsettled = true;
        continue;
      }
      this.pending.delete(name);
      this.done.set(name, sig);
      docs.push(...(await loadInput(path)));
    }
    return docs;
  }
}

function sourcesFrom(fleet: Fleet, given: string[], feeds: boolean): Source[] {
  const listed = [...new Set(fleet.cap.sources.flatMap((s) => (s.url ? [s.url] : [])))];
  const wanted = [...new Set([...(given.length === 0 || feeds ? listed : []), ...given])];
  if (wanted.length === 0) throw new UsageError(t('cap.watchNoSources'));
  return wanted.map((s) => {
    if (isHttpUrl(s)) {
      if (!listed.includes(s)) throw new UsageError(t('cap.watchUnknownUrl', { url: s }));
      return new FeedSource(s);
    }
    const dir = resolve(s);
    let isDir = false;
    try {
      isDir = statSync(dir).isDirectory();
    } catch {
      isDir = false;
    }
    if (!isDir) throw new UsageError(t('cap.watchNotSource', { source: s }));
    return new DirSource(dir);
  });
}

export async function capWatch(fleet: Fleet, given: string[], o: { interval?: string; once?: boolean; json?: boolean; feeds?: boolean }): Promise<number> {
  const intervalMs = (intOption(o.interval, '--interval', 1, 86_400) ?? fleet.cap.pollSec) * 1000;
  const sources = sourcesFrom(fleet, given, o.feeds === true);
  let refused = false;

  const print = (r: CapResult) => {
    if (r.action === 'refuse') refused = true;
    if (o.json) process.stdout.write(`${JSON.stringify(r)}\n`);
    else process.stdout.write(`${new Date().toISOString()} ${describeResult(r).replace(/\n/g, '\n  ')}\n`);
  };
  // One batch at a time: two sources that bring the same message still make one draft.
  let chain: Promise<void> = Promise.resolve();
  const run = (source: Source, all: boolean): Promise<void> => {
    chain = chain.then(async () => {
      try {
        const docs = await source.poll(all);
        if (docs.length === 0) return;
        for (const r of await handleDocuments(fleet, docs, { dryRun: false })) print(r);
      } catch (e) {
        process.stderr.write(`${t('cap.sourceFailed', { source: source.label, reason: (e as Error).message })}\n`);
      }
    });
    return chain;
  };

  if (o.once) {
    for (const s of sources) await run(s, true);
    return refused ? 1 : 0;
  }

  const timers: NodeJS.Timeout[] = [];
  const watchers: FSWatcher[] = [];
  let closing = false;
  let stopping!: () => void;
  const stopped = new Promise<void>((r) => (stopping = r));
  for (const s of sources) {
    if (s instanceof DirSource) {
      let soon: NodeJS.Timeout | undefined;
      const look = () => {
        soon = undefined;
        if (closing) return;
        void run(s, false).then(() => {
          if (s.unsettled && !soon && !closing) soon = setTimeout(look, SETTLE_MS + 100);
        });
      };
      try {
        // Prompt reaction where the platform supports it; the rescan below covers the rest.
        watchers.push(watch(s.label, () => (soon ??= setTimeout(look, 100))));
      } catch {
        /* polling only */
      }
      timers.push(setInterval(() => (soon ??= setTimeout(look, 0)), Math.min(DIR_RESCAN_MS, intervalMs)));
      look();
    } else {
      timers.push(setInterval(() => !closing && void run(s, false), intervalMs));
      void run(s, false);
    }
  }
  process.stderr.write(`${t('cap.watching', { sources: sources.map((s) => s.label).join(', ') })}\n`);
  process.once('SIGINT', () => stopping());
  process.once('SIGTERM', () => stopping());
  await stopped;
  closing = true;
  for (const tm of timers) clearInterval(tm);
  for (const w of watchers) w.close();
  await chain;
  return 0;
}
