import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MediaCache, MediaError, profileName } from '../daemon/media/cache.js';
import { measureLoudness, wavInfo } from '../support/audio.js';
import { cleanupTempDirs, tempDir } from '../support/tmp.js';

const fixture = (name: string) => fileURLToPath(new URL(`../audio-fixtures/${name}`, import.meta.url));
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const LOUDNESS = { targetLufs: -16, truePeakDb: -1.5 };
const PROFILE = 'l16-tp1.5-48k-mono';

function cache(dir: string, quotaBytes = 512 * 1024 * 1024, extra: Partial<ConstructorParameters<typeof MediaCache>[0]> = {}) {
  return new MediaCache({ dir, quotaBytes, loudness: LOUDNESS, ...extra });
}

async function rejection(p: Promise<unknown>): Promise<MediaError> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(MediaError);
    return e as MediaError;
  }
  throw new Error('expected a MediaError');
}

const tempFiles = (dir: string) => readdirSync(dir).filter((n) => n.endsWith('.tmp'));

describe('MediaCache: preparing audio with real ffmpeg', () => {
  it('names the output profile after the loudness target and format', () => {
    expect(profileName(LOUDNESS)).toBe(PROFILE);
    expect(profileName({ targetLufs: -23, truePeakDb: -1 })).toBe('l23-tp1-48k-mono');
  });

  it('ingests a clip into a loudness-normalised 48 kHz mono s16 WAV', async () => {
    const dir = tempDir();
    const c = cache(dir);
    await c.init();
    const bytes = readFileSync(fixture('speech-vi.wav'));
    const id = sha(bytes);

    const p = await c.ingest(id, bytes);
    expect(p.sha256).toBe(id);
    expect(p.path).toBe(join(dir, `${id}.${PROFILE}.wav`));
    expect(p.bytes).toBe(statSync(p.path).size);
    const info = await wavInfo(p.path);
    expect(info).toMatchObject({ sampleRate: 48_000, channels: 1, bitsPerSample: 16, audioFormat: 1 });
    expect(Math.abs(p.durationMs - info.durationMs)).toBeLessThan(5);
    const loud = await measureLoudness(p.path);
    expect(Math.abs(loud.integratedLufs - -16)).toBeLessThanOrEqual(1);
    expect(p.outputLufs).toBeDefined();

    // The original is not kept, nothing half-written is left, and usage counts the WAV.
    expect(readdirSync(dir)).toEqual([`${id}.${PROFILE}.wav`]);
    expect(c.usageBytes()).toBe(p.bytes);
    expect(c.preparedPath(id)).toBe(p.path);
    expect(c.preparedPath('0'.repeat(64))).toBeUndefined();
  });

  it('shares one transcode between concurrent ingests of the same clip, and reuses it later', async () => {
    const dir = tempDir();
    const c = cache(dir);
    const bytes = readFileSync(fixture('tone-3s.wav'));
    const id = sha(bytes);
    const first = c.ingest(id, bytes);
    const second = c.ingest(id, bytes);
    expect(second).toBe(first);
    const [a, b] = await Promise.all([first, second]);
    expect(a).toEqual(b);
    expect(Math.abs(a.durationMs - 3000)).toBeLessThan(50);

    // A later ingest is a cache hit: the file is not rewritten (same inode; writes rename a new one in).
    const inode = statSync(a.path).ino;
    const again = await c.ingest(id, bytes);
    expect(again.path).toBe(a.path);
    expect(statSync(a.path).ino).toBe(inode);
    expect(readdirSync(dir)).toEqual([`${id}.${PROFILE}.wav`]);
  });

  it('refuses bytes that do not match their sha256', async () => {
    const dir = tempDir();
    const c = cache(dir);
    const bytes = readFileSync(fixture('tone-3s.wav'));
    const wrong = sha(Buffer.from('something else'));
    const e = await rejection(c.ingest(wrong, bytes));
    expect(e.code).toBe('sha_mismatch');
    expect(e.message).toContain(wrong.slice(0, 12));
    expect(c.preparedPath(wrong)).toBeUndefined();

    const bad = await rejection(c.ingest('../../etc/passwd', bytes));
    expect(bad.code).toBe('sha_mismatch');
    expect(existsSync(dir) ? readdirSync(dir) : []).toEqual([]);
  });

  it("reports corrupt audio as transcode_failed with ffmpeg's reason", async () => {
    const dir = tempDir();
    const c = cache(dir);
    const bytes = readFileSync(fixture('corrupt.mp3'));
    const e = await rejection(c.ingest(sha(bytes), bytes));
    expect(e.code).toBe('transcode_failed');
    expect(e.reason).toMatch(/Invalid (argument|data)|Failed to read frame/);
    expect(e.message).toContain(sha(bytes).slice(0, 12));
    expect(e.message).not.toMatch(/\.tmp/);
    expect(tempFiles(dir)).toEqual([]);
    expect(c.usageBytes()).toBe(0);

    const text = readFileSync(fixture('not-audio.txt'));
    expect((await rejection(c.ingest(sha(text), text))).code).toBe('transcode_failed');
    const empty = Buffer.alloc(0);
    expect((await rejection(c.ingest(sha(empty), empty))).code).toBe('transcode_failed');
  });

  it('prepares a local chime file by its content hash', async () => {
    const dir = tempDir();
    const c = cache(dir);
    const p = await c.prepareFile(fixture('chime-normal.wav'));
    expect(p.sha256).toBe(sha(readFileSync(fixture('chime-normal.wav'))));
    expect(c.preparedPath(p.sha256)).toBe(p.path);
    const missing = await rejection(c.prepareFile(join(dir, 'no-such-chime.wav')));
    expect(missing.message).toMatch(/no-such-chime\.wav: ENOENT/);
  });

  it('refuses a clip larger than the whole quota', async () => {
    const dir = tempDir();
    const c = cache(dir, 100_000);
    const bytes = readFileSync(fixture('tone-3s.wav'));
    const e = await rejection(c.ingest(sha(bytes), bytes));
    expect(e.code).toBe('quota');
    expect(readdirSync(dir)).toEqual([]);
    expect(c.usageBytes()).toBe(0);
  });
});

describe('MediaCache: index, restart and eviction', () => {
  const dir = tempDir('loa-cache-lru-');
  afterAll(cleanupTempDirs);
  const clips = {} as Record<'a' | 'b' | 'c', { sha: string; bytes: number; path: string }>;

  beforeAll(async () => {
    const c = cache(dir);
    const names = { a: 'chime-normal.wav', b: 'chime-priority.wav', c: 'chime-emergency.wav' } as const;
    for (const k of ['a', 'b', 'c'] as const) {
      const p = await c.prepareFile(fixture(names[k]));
      clips[k] = { sha: p.sha256, bytes: p.bytes, path: p.path };
    }
  });

  /** a oldest, then b, then c (those still present). */
  function age() {
    const now = Date.now() / 1000;
    const ages = { a: 300, b: 200, c: 100 };
    for (const k of ['a', 'b', 'c'] as const) {
      if (existsSync(clips[k].path)) utimesSync(clips[k].path, now - ages[k], now - ages[k]);
    }
  }

  it('a restarted cache finds its clips and removes stale temp files and old profiles', async () => {
    writeFileSync(join(dir, `.in-${clips.a.sha}-deadbeef.tmp`), 'half an upload');
    writeFileSync(join(dir, `.${clips.a.sha}.${PROFILE}.wav.123.abcd.tmp`), 'half a transcode');
    writeFileSync(join(dir, `${clips.a.sha}.l23-tp1-48k-mono.wav`), 'old profile');
    writeFileSync(join(dir, 'README.operator'), 'not ours');

    const c = cache(dir);
    await c.init();
    expect(c.preparedPath(clips.b.sha)).toBe(clips.b.path);
    expect(c.usageBytes()).toBe(clips.a.bytes + clips.b.bytes + clips.c.bytes);
    expect(tempFiles(dir)).toEqual([]);
    expect(existsSync(join(dir, `${clips.a.sha}.l23-tp1-48k-mono.wav`))).toBe(false);
    expect(existsSync(join(dir, 'README.operator'))).toBe(true);
    const p = await c.ingest(clips.c.sha, readFileSync(fixture('chime-emergency.wav')));
    expect(p.durationMs).toBeGreaterThan(1000);
  });

  it('evicts least recently used clips until under quota, never a pinned one', async () => {
    age();
    // Room for a and c only: b must go, even though a is older, because a is pinned.
    const c = cache(dir, clips.a.bytes + clips.c.bytes);
    await c.init();
    c.evict(new Set([clips.a.sha]));
    expect(existsSync(clips.a.path)).toBe(true);
    expect(existsSync(clips.b.path)).toBe(false);
    expect(existsSync(clips.c.path)).toBe(true);
    expect(c.preparedPath(clips.b.sha)).toBeUndefined();
    expect(c.usageBytes()).toBe(clips.a.bytes + clips.c.bytes);
  });

  it('a use refreshes a clip so it is evicted later', async () => {
    const full = cache(dir);
    await full.init();
    await full.prepareFile(fixture('chime-priority.wav')); // b again
    age();
    const c = cache(dir, clips.b.bytes + clips.c.bytes + 1);
    await c.init();
    expect(c.preparedPath(clips.a.sha)).toBe(clips.a.path); // a: oldest -> newest
    c.evict(new Set([clips.c.sha]));
    expect(existsSync(clips.a.path)).toBe(true);
    expect(existsSync(clips.b.path)).toBe(false);
    expect(existsSync(clips.c.path)).toBe(true);
  });

  it('an ingest over quota evicts by itself, keeping clips the pinned callback names', async () => {
    age(); // a older than c; b is gone
    const tone = readFileSync(fixture('tone-3s.wav'));
    // 3 s of 48 kHz s16 mono is 288 000 bytes + header: room for it and c, not for a as well.
    const quota = clips.c.bytes + 300_000;
    expect(clips.a.bytes + clips.c.bytes + 288_044).toBeGreaterThan(quota);
    const c = cache(dir, quota, { pinned: () => [clips.a.sha] });
    await c.init();
    const t = await c.ingest(sha(tone), tone);
    expect(existsSync(t.path)).toBe(true); // the new clip is never its own victim
    expect(existsSync(clips.a.path)).toBe(true); // pinned, although least recently used
    expect(existsSync(clips.c.path)).toBe(false);
    expect(c.usageBytes()).toBe(clips.a.bytes + t.bytes);
  });
});

describe('MediaCache: eviction without a pinned callback', () => {
  it('an ingest keeps what the last evict() pinned and what was ingested since', async () => {
    const dir = tempDir();
    const probe = cache(tempDir());
    const a0 = await probe.prepareFile(fixture('chime-normal.wav'));
    const b0 = await probe.prepareFile(fixture('chime-priority.wav'));
    const TONE_WAV = 48_000 * 2 * 3 + 44;
    const c = cache(dir, a0.bytes + b0.bytes + TONE_WAV - 1);
    const a = await c.prepareFile(fixture('chime-normal.wav'));
    const b = await c.prepareFile(fixture('chime-priority.wav'));
    c.evict(new Set([a.sha256])); // under quota: nothing goes, but a is now pinned
    const now = Date.now() / 1000;
    utimesSync(a.path, now - 300, now - 300);
    utimesSync(b.path, now - 200, now - 200);
    const tone = readFileSync(fixture('tone-3s.wav'));
    const t = await c.ingest(sha(tone), tone);
    expect(t.bytes).toBe(TONE_WAV);
    expect(existsSync(a.path)).toBe(true); // least recently used, but pinned by the last evict()
    expect(existsSync(b.path)).toBe(false);
    expect(existsSync(t.path)).toBe(true);
  });
});

describe('MediaCache.fetchHttp from a real local HTTP server', () => {
  let server: Server;
  let base: string;
  let closedUrl: string;
  const clip = readFileSync(fixture('music-10s.mp3'));
  const clipSha = sha(clip);
  const streamed = { written: 0, finished: false };

  beforeAll(async () => {
    server = createServer((req, res) => {
      if (req.url === '/missing') {
        res.writeHead(404).end('not here');
      } else if (req.url === '/clip.mp3') {
        res.writeHead(200, { 'content-type': 'audio/mpeg', 'content-length': clip.length }).end(clip);
      } else if (req.url === '/other') {
        res.writeHead(200).end(Buffer.from('a different file'));
      } else if (req.url === '/endless') {
        // No content-length: only the byte cap can stop this one.
        res.writeHead(200, { 'content-type': 'audio/mpeg' });
        const chunk = Buffer.alloc(16 * 1024, 1);
        const pump = () => {
          while (!res.destroyed && streamed.written < 50 * 1024 * 1024) {
            streamed.written += chunk.length;
            if (!res.write(chunk)) return void res.once('drain', pump);
          }
          if (!res.destroyed) {
            streamed.finished = true;
            res.end();
          }
        };
        pump();
      } else if (req.url === '/declares-huge') {
        res.writeHead(200, { 'content-length': String(1024 * 1024 * 1024) });
        res.write(Buffer.alloc(1024));
      } else if (req.url === '/slow') {
        // Headers never come.
      } else {
        res.writeHead(500).end();
      }
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const probe = createServer();
    await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
    closedUrl = `http://127.0.0.1:${(probe.address() as AddressInfo).port}/clip.mp3`;
    await new Promise<void>((r) => probe.close(() => r()));
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise<void>((r) => server.close(() => r()));
  });

  it('falls back through the URL list and the result ingests', async () => {
    const c = cache(tempDir());
    const body = await c.fetchHttp([closedUrl, `${base}/missing`, `${base}/clip.mp3`], clipSha, 1024 * 1024);
    expect(body.equals(clip)).toBe(true);

    const p = await c.ingest(clipSha, body);
    const info = await wavInfo(p.path);
    expect(info).toMatchObject({ sampleRate: 48_000, channels: 1, bitsPerSample: 16 });
    expect(Math.abs(p.durationMs - 10_000)).toBeLessThan(150);
    expect(Math.abs((await measureLoudness(p.path)).integratedLufs - -16)).toBeLessThanOrEqual(1);
  });

  it('aborts a download past the byte cap', async () => {
    const c = cache(tempDir());
    const e = await rejection(c.fetchHttp([`${base}/endless`], clipSha, 256 * 1024));
    expect(e.code).toBe('too_large');
    expect(e.message).toContain(`${base}/endless: too large: more than ${256 * 1024} bytes`);
    await new Promise((r) => setTimeout(r, 200));
    expect(streamed.finished).toBe(false);
    expect(streamed.written).toBeLessThan(50 * 1024 * 1024);

    const declared = await rejection(c.fetchHttp([`${base}/declares-huge`], clipSha, 256 * 1024));
    expect(declared.code).toBe('too_large');
    expect(declared.message).toContain('declares 1073741824 bytes');
  });

  it('rejects content with the wrong sha256', async () => {
    const c = cache(tempDir());
    const e = await rejection(c.fetchHttp([`${base}/other`], clipSha, 1024 * 1024));
    expect(e.code).toBe('sha_mismatch');
    expect(e.message).toContain(`${base}/other: content hashes to`);
  });

  it("lists every URL's failure when none works", async () => {
    const c = cache(tempDir());
    const e = await rejection(c.fetchHttp([`${base}/missing`, closedUrl, `${base}/other`, `${base}/slow`, 'file:///etc/passwd'], clipSha, 1024 * 1024, 500));
    expect(e.code).toBe('fetch_failed');
    const lines = e.reason!.split('\n');
    expect(lines).toEqual([
      `${base}/missing: HTTP 404 Not Found`,
      expect.stringMatching(new RegExp(`^${closedUrl.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}: ECONNREFUSED`)),
      expect.stringContaining(`${base}/other: content hashes to`),
      `${base}/slow: timed out after 500 ms`,
      'file:///etc/passwd: unsupported scheme file:',
    ]);
  });
});
