// Content-addressed cache of on-air-ready audio. Clips arrive (MQTT retained media, HTTP
// URLs, local chime files) as whatever the controller sent; they are verified against their
// sha256, normalised once with ffmpeg and kept as WAV so playback never waits on ffmpeg.
import { createHash, randomBytes } from 'node:crypto';
import { statSync, unlinkSync, utimesSync } from 'node:fs';
import { mkdir, readdir, readFile, stat, unlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { isSha256 } from '../../protocol/index.js';
import { readWavInfo } from '../outputs/wav.js';
import { MediaError as PrepareError, prepareAudio } from './prepare.js';

/** Normalising for later must never take CPU from a decoder feeding a speaker now. */
const BACKGROUND_NICENESS = 19;

/** The longest clip a station will prepare: the protocol's bound on any airing. */
export const MAX_CLIP_MS = 4 * 3600_000;

export type MediaErrorCode = 'sha_mismatch' | 'too_large' | 'fetch_failed' | 'transcode_failed' | 'quota' | 'disk_full';

export class MediaError extends Error {
  override name = 'MediaError';
  constructor(
    readonly code: MediaErrorCode,
    message: string,
    /** ffmpeg's own explanation (transcode_failed) or one line per URL (fetch). */
    readonly reason?: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export interface Prepared {
  sha256: string;
  /** Normalised WAV, s16le 48 kHz mono. */
  path: string;
  durationMs: number;
  /** Size of the prepared WAV. */
  bytes: number;
  /** Only known when prepared in this process. */
  linear?: boolean;
  outputLufs?: number;
}

export interface MediaCacheOptions {
  dir: string;
  quotaBytes: number;
  /** Longest clip accepted (default MAX_CLIP_MS): longer ones are refused before transcoding. */
  maxClipMs?: number;
  loudness: { targetLufs: number; truePeakDb: number };
  ffmpegPath?: string;
  log?: (msg: string, extra?: object) => void;
  /**
   * Shas that automatic eviction after an ingest must keep (clips of pending jobs). Without
   * it, that eviction keeps the set given to the last `evict(pinned)` call plus every clip
   * ingested since then. Explicit `evict(pinned)` calls pass their own set.
   */
  pinned?: () => Iterable<string>;
}

interface Entry {
  path: string;
  bytes: number;
  durationMs: number;
  mtimeMs: number;
  linear?: boolean;
  outputLufs?: number;
}

const TMP_SUFFIX = '.tmp';
const DEFAULT_FETCH_TIMEOUT_MS = 60_000;

/** `l16-tp1.5-48k-mono` for -16 LUFS / -1.5 dBTP: a loudness change must not reuse old files. */
export function profileName(loudness: { targetLufs: number; truePeakDb: number }): string {
  return `l${Math.abs(loudness.targetLufs)}-tp${Math.abs(loudness.truePeakDb)}-48k-mono`;
}

function sha256Hex(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('hex');
}

function short(sha: string): string {
  return sha.slice(0, 12);
}

export class MediaCache {
  readonly dir: string;
  readonly profile: string;
  private readonly quotaBytes: number;
  private readonly maxClipMs: number;
  private readonly loudness: { targetLufs: number; truePeakDb: number };
  private readonly ffmpegPath?: string;
  private readonly log: (msg: string, extra?: object) => void;
  private readonly pinnedFn?: () => Iterable<string>;
  private readonly entries = new Map<string, Entry>();
  private readonly inflight = new Map<string, Promise<Prepared>>();
  private ready?: Promise<void>;
  /** What the owner last said must stay, and what arrived since: probably for pending jobs. */
  private lastPinned: ReadonlySet<string> = new Set();
  private readonly ingestedSinceEvict = new Set<string>();
  private readonly fileRe: RegExp;

  constructor(opts: MediaCacheOptions) {
    if (!(opts.quotaBytes > 0)) throw new RangeError(`media cache quota must be positive, got ${opts.quotaBytes}`);
    this.dir = path.resolve(opts.dir);
    this.quotaBytes = opts.quotaBytes;
    this.maxClipMs = Math.min(opts.maxClipMs ?? MAX_CLIP_MS, MAX_CLIP_MS);
    this.loudness = { ...opts.loudness };
    this.profile = profileName(opts.loudness);
    this.ffmpegPath = opts.ffmpegPath;
    this.log = opts.log ?? (() => {});
    this.pinnedFn = opts.pinned;
    this.fileRe = /^([a-f0-9]{64})\.(.+)\.wav$/;
  }

  /** Creates the directory, indexes prepared files and removes leftovers of interrupted work. */
  init(): Promise<void> {
    this.ready ??= this.scan();
    return this.ready;
  }

  private async scan(): Promise<void> {
    await mkdir(this.dir, { recursive: true });
    for (const name of await readdir(this.dir)) {
      const full = path.join(this.dir, name);
      // Our temp files (originals being transcoded, prepareAudio's partial outputs) start with '.'.
      if (name.startsWith('.') && name.endsWith(TMP_SUFFIX)) {
        await unlink(full).catch(() => {});
        this.log('media cache: removed stale temp file', { file: name });
        continue;
      }
      const m = this.fileRe.exec(name);
      if (!m) continue; // not ours: leave it alone
      if (m[2] !== this.profile) {
        // Prepared for another loudness target: never played again, only takes space.
        await unlink(full).catch(() => {});
        this.log('media cache: removed clip of an old profile', { file: name, profile: this.profile });
        continue;
      }
      try {
        const st = await stat(full);
        const info = await readWavInfo(full);
        this.entries.set(m[1]!, { path: full, bytes: st.size, durationMs: Math.round(info.durationMs), mtimeMs: st.mtimeMs });
      } catch (e) {
        // A torn or foreign file under our name: drop it, it will be fetched again if needed.
        await unlink(full).catch(() => {});
        this.log('media cache: removed unreadable clip', { file: name, error: (e as Error).message });
      }
    }
    this.log('media cache ready', { dir: this.dir, clips: this.entries.size, bytes: this.usageBytes(), quotaBytes: this.quotaBytes });
  }

  private finalPath(sha: string): string {
    return path.join(this.dir, `${sha}.${this.profile}.wav`);
  }

  /** Whether a prepared WAV is cached; no disk access, for the playback decision's hot path. */
  has(sha256: string): boolean {
    return this.entries.has(sha256);
  }

  /** Path of the prepared WAV if cached. Marks it recently used (LRU is by mtime). */
  preparedPath(sha256: string): string | undefined {
    return this.lookup(sha256)?.path;
  }

  /** The cached clip, if any, as a Prepared. Marks it recently used. */
  prepared(sha256: string): Prepared | undefined {
    const e = this.lookup(sha256);
    if (!e) return undefined;
    return this.toPrepared(sha256, e);
  }

  private lookup(sha256: string): Entry | undefined {
    const e = this.entries.get(sha256);
    if (!e) return undefined;
    const now = new Date();
    try {
      utimesSync(e.path, now, now);
      e.mtimeMs = now.getTime();
      return e;
    } catch {
      // Deleted behind our back (operator cleanup): forget it, it will be prepared again.
      this.entries.delete(sha256);
      return undefined;
    }
  }

  private toPrepared(sha256: string, e: Entry): Prepared {
    const p: Prepared = { sha256, path: e.path, durationMs: e.durationMs, bytes: e.bytes };
    if (e.linear !== undefined) p.linear = e.linear;
    if (e.outputLufs !== undefined) p.outputLufs = e.outputLufs;
    return p;
  }

  /**
   * Verifies `bytes` against `sha256`, normalises them to the on-air format and caches the
   * result. Concurrent calls for the same sha share one transcode.
   */
  ingest(sha256: string, bytes: Buffer): Promise<Prepared> {
    if (!isSha256(sha256)) {
      return Promise.reject(new MediaError('sha_mismatch', `not a lowercase hex sha256: ${JSON.stringify(String(sha256).slice(0, 80))}`));
    }
    const actual = sha256Hex(bytes);
    if (actual !== sha256) {
      return Promise.reject(new MediaError('sha_mismatch', `media ${short(sha256)}: content hashes to ${short(actual)} (${bytes.length} bytes), refusing it`));
    }
    const running = this.inflight.get(sha256);
    if (running !== undefined) return running;
    const p = this.doIngest(sha256, bytes).finally(() => this.inflight.delete(sha256));
    this.inflight.set(sha256, p);
    return p;
  }

  private async doIngest(sha256: string, bytes: Buffer): Promise<Prepared> {
    await this.init();
    const hit = this.prepared(sha256);
    if (hit) return hit;

    const original = path.join(this.dir, `.in-${sha256}-${randomBytes(4).toString('hex')}${TMP_SUFFIX}`);
    const out = this.finalPath(sha256);
    const started = Date.now();
    let result: Awaited<ReturnType<typeof prepareAudio>>;
    try {
      await writeFile(original, bytes, { mode: 0o640 });
      // One measuring pass learns the duration too (no separate probe): a clip that cannot fit
      // is refused from its header, before it is decoded (hostile "hours long" clips), or, with
      // no duration in its header, as soon as decoding passes the limit.
      result = await prepareAudio(original, out, {
        timeoutMs: 120_000,
        targetLufs: this.loudness.targetLufs,
        truePeakDb: this.loudness.truePeakDb,
        ffmpegPath: this.ffmpegPath,
        niceness: BACKGROUND_NICENESS,
        maxDurationMs: this.maxClipMs,
        admit: (durationMs) => {
          const preparedBytes = (durationMs / 1000) * 48_000 * 2;
          if (durationMs <= this.maxClipMs && preparedBytes <= this.quotaBytes) return;
          const seconds = Math.round(durationMs / 1000);
          throw new MediaError(
            'quota',
            durationMs > this.maxClipMs
              ? `media ${short(sha256)}: ${seconds} s of audio is longer than this station's ${Math.round(this.maxClipMs / 60_000)} min limit (cache.maxClipMinutes)`
              : `media ${short(sha256)}: ${seconds} s of audio needs ${Math.round(preparedBytes / 1e6)} MB prepared, more than the cache quota of ${Math.round(this.quotaBytes / 1e6)} MB`,
          );
        },
      });
    } catch (e) {
      if (e instanceof MediaError) throw e;
      throw this.transcodeError(sha256, original, e);
    } finally {
      await unlink(original).catch(() => {});
    }

    const st = await stat(out);
    if (st.size > this.quotaBytes) {
      await unlink(out).catch(() => {});
      throw new MediaError(
        'quota',
        `media ${short(sha256)}: prepared clip is ${st.size} bytes (${Math.round(result.durationMs / 1000)} s), larger than the whole cache quota of ${this.quotaBytes} bytes`,
      );
    }
    const entry: Entry = {
      path: out,
      bytes: st.size,
      durationMs: result.durationMs,
      mtimeMs: st.mtimeMs,
      linear: result.linear,
      outputLufs: result.outputLufs,
    };
    this.entries.set(sha256, entry);
    this.log('media prepared', {
      sha256,
      durationMs: result.durationMs,
      inputLufs: result.inputLufs,
      outputLufs: result.outputLufs,
      linear: result.linear,
      tookMs: Date.now() - started,
    });
    this.ingestedSinceEvict.add(sha256);
    let owner: Iterable<string> = this.lastPinned;
    try {
      if (this.pinnedFn) owner = [...this.pinnedFn()];
    } catch (e) {
      this.log('media cache: pinned callback failed, keeping the last pinned set', { error: (e as Error).message });
    }
    // With a live pinned list, it alone (plus this clip) says what must stay; without one,
    // everything ingested since the last explicit evict() is presumed wanted.
    const keep = this.pinnedFn ? [...owner, sha256] : [...owner, ...this.ingestedSinceEvict];
    this.evictWith(new Set([...keep, ...this.inflight.keys()]));
    return this.toPrepared(sha256, entry);
  }

  private transcodeError(sha256: string, tmpInput: string, e: unknown): MediaError {
    // prepareAudio names its input, which here is our temp file: name the clip instead.
    const label = `media ${short(sha256)}`;
    const text = `${(e as { code?: string })?.code ?? ''} ${e instanceof Error ? e.message : String(e)} ${(e as { ffmpegReason?: string })?.ffmpegReason ?? ''}`;
    if (/ENOSPC|No space left on device/i.test(text)) {
      return new MediaError('disk_full', `${label}: the disk is full (${this.dir})`, undefined, { cause: e });
    }
    if (e instanceof PrepareError) {
      const reason = e.ffmpegReason || e.message.split(tmpInput).join(label);
      return new MediaError('transcode_failed', `${label}: ${e.message.split(tmpInput).join('input')}`, reason, { cause: e });
    }
    const msg = e instanceof Error ? e.message : String(e);
    return new MediaError('transcode_failed', `${label}: ${msg.split(tmpInput).join('input')}`, msg, { cause: e });
  }

  /**
   * Downloads a clip, trying each URL in order; the first whose body is within maxBytes and
   * hashes to sha256 wins. The error lists every URL's failure.
   */
  async fetchHttp(urls: string[], sha256: string, maxBytes: number, timeoutMs = DEFAULT_FETCH_TIMEOUT_MS): Promise<Buffer> {
    if (!isSha256(sha256)) throw new MediaError('sha_mismatch', `not a lowercase hex sha256: ${JSON.stringify(String(sha256).slice(0, 80))}`);
    if (urls.length === 0) throw new MediaError('fetch_failed', `media ${short(sha256)}: no URL to fetch it from`);
    const failures: { url: string; kind: 'too_large' | 'sha_mismatch' | 'other'; why: string }[] = [];
    for (const url of urls) {
      try {
        const body = await fetchCapped(url, maxBytes, timeoutMs);
        const actual = sha256Hex(body);
        if (actual !== sha256) {
          failures.push({ url, kind: 'sha_mismatch', why: `content hashes to ${short(actual)}, expected ${short(sha256)}` });
          continue;
        }
        if (failures.length > 0) this.log('media fetched from a fallback URL', { sha256, url, failed: failures.map((f) => `${f.url}: ${f.why}`) });
        return body;
      } catch (e) {
        const tooLarge = e instanceof MediaError && e.code === 'too_large';
        failures.push({ url, kind: tooLarge ? 'too_large' : 'other', why: (e as Error).message });
      }
    }
    const kinds = new Set(failures.map((f) => f.kind));
    const code: MediaErrorCode = kinds.size === 1 && !kinds.has('other') ? (failures[0]!.kind as MediaErrorCode) : 'fetch_failed';
    const lines = failures.map((f) => `${f.url}: ${f.why}`);
    throw new MediaError(code, `media ${short(sha256)}: every URL failed: ${lines.join('; ')}`, lines.join('\n'));
  }

  /** Prepares a local file (a chime): hashed, then ingested like any clip. */
  async prepareFile(file: string): Promise<Prepared> {
    let bytes: Buffer;
    try {
      bytes = await readFile(file);
    } catch (e) {
      throw new MediaError('transcode_failed', `cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, undefined, { cause: e });
    }
    try {
      return await this.ingest(sha256Hex(bytes), bytes);
    } catch (e) {
      if (e instanceof MediaError) {
        throw new MediaError(e.code, `${file}: ${e.message}`, e.reason, { cause: e });
      }
      throw e;
    }
  }

  /** Deletes least recently used clips until under quota. Pinned clips are never deleted. */
  evict(pinned: ReadonlySet<string>): void {
    this.lastPinned = new Set(pinned);
    this.ingestedSinceEvict.clear();
    this.evictWith(pinned);
  }

  private evictWith(pinned: ReadonlySet<string>): void {
    let usage = this.usageBytes();
    if (usage <= this.quotaBytes) return;
    const candidates = [...this.entries.entries()].filter(([sha]) => !pinned.has(sha) && !this.inflight.has(sha)).sort((a, b) => a[1].mtimeMs - b[1].mtimeMs);
    for (const [sha, e] of candidates) {
      if (usage <= this.quotaBytes) break;
      try {
        unlinkSync(e.path);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') {
          this.log('media cache: cannot evict', { sha256: sha, error: (err as Error).message });
          continue;
        }
      }
      this.entries.delete(sha);
      usage -= e.bytes;
      this.log('media evicted', { sha256: sha, bytes: e.bytes });
    }
    if (usage > this.quotaBytes) {
      // Better over quota than unable to play a pending job: pinned clips stay.
      this.log('media cache over quota: remaining clips are pinned', { usageBytes: usage, quotaBytes: this.quotaBytes });
    }
  }

  usageBytes(): number {
    let total = 0;
    for (const e of this.entries.values()) total += e.bytes;
    return total;
  }

  /**
   * Forget clips whose file vanished behind the index (an operator's cleanup, a bad sector):
   * they count as not cached, so they are fetched and prepared again before air time.
   */
  verifyFiles(): string[] {
    const gone: string[] = [];
    for (const [sha, e] of this.entries) {
      try {
        statSync(e.path);
      } catch {
        this.entries.delete(sha);
        gone.push(sha);
      }
    }
    if (gone.length) this.log('media cache: prepared clips missing on disk, forgotten', { clips: gone.map(short) });
    return gone;
  }

  /** Shas currently cached (for state reports and resync). */
  cachedShas(): string[] {
    return [...this.entries.keys()];
  }
}

/** GET with a byte cap: aborts as soon as the body (or its declared length) exceeds maxBytes. */
async function fetchCapped(url: string, maxBytes: number, timeoutMs: number): Promise<Buffer> {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new Error('not a valid URL');
  }
  // Only the network: file:, data: and friends could read local files or inject content.
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw new Error(`unsupported scheme ${parsed.protocol}`);

  const ac = new AbortController();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    ac.abort();
  }, timeoutMs);
  try {
    let res: Response;
    try {
      res = await fetch(parsed, { signal: ac.signal, redirect: 'follow' });
    } catch (e) {
      throw new Error(timedOut ? `timed out after ${timeoutMs} ms` : networkReason(e));
    }
    if (!res.ok) {
      await res.body?.cancel().catch(() => {});
      throw new Error(`HTTP ${res.status}${res.statusText ? ` ${res.statusText}` : ''}`);
    }
    const declared = Number(res.headers.get('content-length'));
    if (Number.isFinite(declared) && declared > maxBytes) {
      ac.abort();
      throw new MediaError('too_large', `too large: declares ${declared} bytes, limit ${maxBytes}`);
    }
    if (!res.body) return Buffer.alloc(0);
    const chunks: Buffer[] = [];
    let received = 0;
    const reader = res.body.getReader();
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        received += value.byteLength;
        if (received > maxBytes) {
          ac.abort();
          throw new MediaError('too_large', `too large: more than ${maxBytes} bytes, download aborted`);
        }
        chunks.push(Buffer.from(value.buffer, value.byteOffset, value.byteLength));
      }
    } catch (e) {
      if (e instanceof MediaError) throw e;
      throw new Error(timedOut ? `timed out after ${timeoutMs} ms (${received} bytes received)` : networkReason(e));
    } finally {
      reader.releaseLock();
    }
    return Buffer.concat(chunks, received);
  } finally {
    clearTimeout(timer);
  }
}

/** undici wraps the real cause ("ECONNREFUSED") in a generic "fetch failed". */
function networkReason(e: unknown): string {
  const err = e as Error & { cause?: { code?: string; message?: string } };
  const cause = err.cause;
  if (cause?.code) return `${cause.code}${cause.message && !cause.message.includes(cause.code) ? ` (${cause.message})` : ''}`;
  if (cause?.message) return cause.message;
  return err.message ?? String(e);
}
