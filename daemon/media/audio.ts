import { existsSync, mkdirSync, readdirSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PassThrough, type Readable } from 'node:stream';
import { type FfmpegProcess, spawnFfmpeg } from '../../io/ffmpeg.js';
import type { AudioRef, Priority, RelayScheme } from '../../protocol/index.js';
import type { StationEventBus } from '../events.js';
import type { PcmSource } from '../outputs/output.js';
import { kindOf, leadFor, mayAirWithoutLead } from '../playback/policy.js';
import type { AudioResolver } from '../playout.js';
import type { JobRow } from '../store.js';
import type { MediaCache } from './cache.js';
import { decodeStreamArgs } from './prepare.js';

type MediaRef = Extract<AudioRef, { kind: 'media' }>;
type MediaState = { kind: 'queued'; audio: MediaRef; urgent: boolean } | { kind: 'fetching' } | { kind: 'ready' } | { kind: 'failed'; reason: string; detail: string };

export interface StationAudioOptions {
  cache: MediaCache;
  dir: string;
  chimes: Partial<Record<Priority, string>>;
  /** The station's own "this is a test" clip, led before every test alert. */
  testPreamble: string;
  ffmpegPath?: string;
  /** Fetch the bytes of a clip over MQTT (`media/<sha256>`). */
  fetchMqtt: (sha256: string, timeoutMs: number) => Promise<Buffer>;
  /** media-ready when a clip's bytes land or it is prepared; media-failed when it cannot be had. */
  events: StationEventBus;
  log: (level: 'info' | 'warn' | 'error', msg: string, extra?: object) => void;
  mediaTimeoutMs?: number;
  /** Fetch-and-prepare pipelines at once (a ward box has a few cores, not fifty). */
  concurrency?: number;
  /** Schemes live relays may use (`relay.schemes`). */
  relaySchemes?: readonly RelayScheme[];
}

/**
 * Gets audio ready before air time (fetch when the command arrives, verify, normalise into the
 * cache) and turns a job into output sources at air time. Work is queued with a small
 * concurrency, emergencies first. An uncached emergency clip is not held back for
 * normalisation: it is decoded straight to the output while the cache catches up.
 */
export class StationAudio implements AudioResolver {
  private state = new Map<string, MediaState>();
  /** Airings waiting for a clip's bytes (an emergency that went on air with its chime first). */
  private waiting = new Map<string, { resolve: () => void; reject: (e: Error) => void }[]>();
  private chimePaths = new Map<Priority, string>();
  private preambleSha: string | undefined;
  private preambleError: string | undefined;
  private running = 0;
  private slotWaiters: (() => void)[] = [];
  /** Clips whose prepared file vanished at air time and are being fetched again. */
  private missing = new Set<string>();
  private readonly rawDir: string;

  constructor(private readonly o: StationAudioOptions) {
    this.rawDir = join(o.dir, 'incoming');
    mkdirSync(this.rawDir, { recursive: true });
    // Raw clips left by a previous run are either prepared by now or will be fetched again.
    for (const f of readdirSync(this.rawDir)) {
      try {
        unlinkSync(join(this.rawDir, f));
      } catch {
        /* gone */
      }
    }
  }

  /** Prepare configured chimes once at start-up (the emergency path leads with them); a bad one is logged, not fatal. */
  async prepareChimes(): Promise<void> {
    for (const [priority, path] of Object.entries(this.o.chimes) as [Priority, string][]) {
      if (!path) continue;
      try {
        const p = await this.o.cache.prepareFile(path);
        this.chimePaths.set(priority, p.sha256);
      } catch (e) {
        this.o.log('error', 'chime could not be prepared', { priority, path, err: (e as Error).message });
      }
    }
  }

  /**
   * The test preamble, prepared in the background (only test alerts need it; they wait for
   * it). It takes one of the media pipelines like any clip, so start-up stays within the bound.
   */
  async prepareTestPreamble(): Promise<void> {
    await this.slot();
    try {
      this.preambleSha = (await this.o.cache.prepareFile(this.o.testPreamble)).sha256;
      this.preambleError = undefined;
    } catch (e) {
      // Without its preamble a test alert does not air (policy.ts): say so loudly.
      this.preambleError = (e as Error).message;
      this.o.log('error', 'test alert preamble could not be prepared: test alerts will fail', { path: this.o.testPreamble, err: this.preambleError });
    } finally {
      this.running--;
      this.pump();
    }
  }

  /** Wait for a free pipeline and take it (the caller gives it back with running-- and pump()). */
  private slot(): Promise<void> {
    if (this.running < (this.o.concurrency ?? 2)) {
      this.running++;
      return Promise.resolve();
    }
    return new Promise((resolve) =>
      this.slotWaiters.push(() => {
        this.running++;
        resolve();
      }),
    );
  }

  pinned(): Set<string> {
    const s = new Set([...this.chimePaths.values()]);
    if (this.preambleSha) s.add(this.preambleSha);
    return s;
  }

  /** Start getting a clip; safe to call repeatedly. `urgent` (emergencies) jumps the queue. */
  prefetch(audio: AudioRef, urgent = false): void {
    if (audio.kind !== 'media') return;
    const sha = audio.sha256;
    if (this.o.cache.has(sha)) {
      this.state.set(sha, { kind: 'ready' });
      return;
    }
    const s = this.state.get(sha);
    if (s?.kind === 'queued') {
      if (urgent && !s.urgent) this.state.set(sha, { ...s, urgent: true });
      return;
    }
    if (s?.kind === 'fetching') return;
    // Never cached, failed before, or ready but its prepared file vanished: (re)fetch.
    this.state.set(sha, { kind: 'queued', audio, urgent });
    this.pump();
  }

  private pump(): void {
    const limit = this.o.concurrency ?? 2;
    while (this.running < limit && this.slotWaiters.length > 0) this.slotWaiters.shift()!();
    while (this.running < limit) {
      let next: { sha: string; audio: MediaRef } | undefined;
      for (const [sha, s] of this.state) {
        if (s.kind !== 'queued') continue;
        if (!next || s.urgent) next = { sha, audio: s.audio };
        if (s.urgent) break;
      }
      if (!next) return;
      this.running++;
      this.state.set(next.sha, { kind: 'fetching' });
      const sha = next.sha;
      void this.fetchAndPrepare(next.audio)
        .catch((e: Error) => this.fail(sha, 'internal_error', e.message))
        .finally(() => {
          this.running--;
          this.pump();
        });
    }
  }

  queued(): number {
    let n = 0;
    for (const s of this.state.values()) if (s.kind === 'queued' || s.kind === 'fetching') n++;
    return n;
  }

  private rawPath(sha: string): string {
    return join(this.rawDir, sha);
  }

  private async fetchAndPrepare(audio: MediaRef): Promise<void> {
    const sha = audio.sha256;
    const timeout = this.o.mediaTimeoutMs ?? 120_000;
    let bytes: Buffer | undefined;
    const errors: string[] = [];
    let code = 'fetch_failed';
    try {
      bytes = await this.o.fetchMqtt(sha, audio.urls?.length ? Math.min(timeout, 15_000) : timeout);
    } catch (e) {
      errors.push(`mqtt: ${(e as Error).message}`);
    }
    if (!bytes && audio.urls?.length) {
      try {
        bytes = await this.o.cache.fetchHttp(audio.urls, sha, audio.size, timeout);
      } catch (e) {
        errors.push((e as Error).message);
        // too_large / sha_mismatch when every URL failed that way: say so, not just fetch_failed.
        const c = (e as { code?: string }).code;
        if (c === 'too_large' || c === 'sha_mismatch') code = c;
      }
    }
    if (!bytes) return this.fail(sha, code, errors.join('; '));
    // Keep the raw bytes so an emergency can go on air before normalisation finishes.
    const raw = this.rawPath(sha);
    try {
      writeFileSync(`${raw}.tmp`, bytes);
      renameSync(`${raw}.tmp`, raw);
    } catch (e) {
      try {
        unlinkSync(`${raw}.tmp`);
      } catch {
        /* none */
      }
      const code = (e as NodeJS.ErrnoException).code;
      return this.fail(sha, code === 'ENOSPC' ? 'disk_full' : 'write_failed', `cannot keep the clip in ${this.rawDir}: ${(e as Error).message}`);
    }
    this.settle(sha);
    this.o.events.emit('media-ready', { sha256: sha });
    try {
      await this.o.cache.ingest(sha, bytes);
      this.state.set(sha, { kind: 'ready' });
      this.missing.delete(sha);
      try {
        unlinkSync(raw);
      } catch {
        /* already gone */
      }
      this.o.events.emit('media-ready', { sha256: sha });
    } catch (e) {
      const err = e as Error & { code?: string };
      this.fail(sha, err.code ?? 'transcode_failed', err.message);
    }
  }

  private settle(sha: string, error?: Error): void {
    const list = this.waiting.get(sha) ?? [];
    this.waiting.delete(sha);
    for (const w of list) error ? w.reject(error) : w.resolve();
  }

  /** Resolves once the clip's bytes (raw or prepared) are on disk; rejects when they cannot be had. */
  private available(sha: string): Promise<void> {
    if (this.o.cache.has(sha) || existsSync(this.rawPath(sha))) return Promise.resolve();
    const f = this.mediaFailure(sha);
    if (f) return Promise.reject(new Error(`${f.reason}: ${f.detail}`));
    return new Promise((resolve, reject) => {
      const list = this.waiting.get(sha) ?? [];
      list.push({ resolve, reject });
      this.waiting.set(sha, list);
    });
  }

  private fail(sha: string, reasonIn: string, detailIn: string): void {
    let reason = reasonIn;
    let detail = detailIn;
    if (this.missing.delete(sha)) {
      detail = `the prepared clip vanished from disk and could not be had again (${reason}: ${detail})`;
      reason = 'media_missing';
    }
    this.settle(sha, new Error(`${reason}: ${detail}`));
    this.state.set(sha, { kind: 'failed', reason, detail });
    try {
      unlinkSync(this.rawPath(sha));
    } catch {
      /* none */
    }
    this.o.log('warn', 'media failed', { sha, reason, detail });
    this.o.events.emit('media-failed', { sha256: sha, reason, detail });
  }

  mediaFailure(sha: string): { reason: string; detail: string } | undefined {
    const s = this.state.get(sha);
    return s?.kind === 'failed' ? { reason: s.reason, detail: s.detail } : undefined;
  }

  ready(job: JobRow): boolean {
    const kind = kindOf({ commandType: job.commandType, test: job.spec.test });
    if (!mayAirWithoutLead(kind) && (this.preambleSha === undefined || !this.o.cache.has(this.preambleSha))) return false;
    const audio = job.spec.audio;
    if (audio.kind === 'stream') return true;
    if (this.o.cache.has(audio.sha256)) return true;
    if (job.priority !== 'emergency') return false;
    if (this.mediaFailure(audio.sha256)) return false;
    // An emergency goes on air with its cached chime at once; the clip follows when it lands.
    const chime = this.chimePaths.get('emergency');
    return existsSync(this.rawPath(audio.sha256)) || (chime !== undefined && this.o.cache.has(chime));
  }

  failure(job: JobRow): string | undefined {
    const kind = kindOf({ commandType: job.commandType, test: job.spec.test });
    if (!mayAirWithoutLead(kind) && this.preambleSha === undefined) return `no_test_preamble: ${this.preambleError ?? 'not prepared yet'}`;
    const audio = job.spec.audio;
    if (audio.kind !== 'media') return undefined;
    const f = this.mediaFailure(audio.sha256);
    return f ? `${f.reason}: ${f.detail}` : undefined;
  }

  private leadPath(job: JobRow): string | undefined {
    const kind = kindOf({ commandType: job.commandType, test: job.spec.test });
    const lead = leadFor(kind, job.priority, job.spec.chime);
    if (lead.kind === 'none') return undefined;
    const sha = lead.kind === 'test-preamble' ? this.preambleSha : this.chimePaths.get(lead.level);
    const path = sha ? this.o.cache.preparedPath(sha) : undefined;
    if (!path && lead.kind === 'test-preamble')
      throw new Error(`no_test_preamble: the station's test preamble is not available (${this.preambleError ?? 'missing from the cache'})`);
    return path;
  }

  async sources(job: JobRow, _zone: string): Promise<{ sources: PcmSource[]; sha256?: string; url?: string; cleanup?: () => void }> {
    const sources: PcmSource[] = [];
    const procs: FfmpegProcess[] = [];
    const lead = this.leadPath(job);
    if (lead) sources.push({ kind: 'wav', path: lead });
    const audio = job.spec.audio;
    let url: string | undefined;
    if (audio.kind === 'stream') {
      const live = await this.openStream(audio.urls, audio.durationSec);
      procs.push(live.proc);
      url = live.url;
      sources.push({ kind: 'pcm-stream', stream: live.stream, maxDurationMs: audio.durationSec * 1000 });
    } else {
      // preparedPath() checks the file: if it vanished behind the index, fetch it again now
      // and decode it as soon as it is here (the stall bound fails the airing if it never is).
      const prepared = this.o.cache.preparedPath(audio.sha256);
      if (!prepared && !existsSync(this.rawPath(audio.sha256))) {
        if (this.state.get(audio.sha256)?.kind === 'ready') {
          this.o.log('warn', 'prepared clip missing at air time: fetching it again', { sha: audio.sha256 });
          this.missing.add(audio.sha256);
        }
        this.prefetch(audio, true);
      }
      for (let i = 0; i < job.spec.repeat; i++) {
        if (i > 0 && job.spec.gapSec > 0) sources.push({ kind: 'silence', ms: job.spec.gapSec * 1000 });
        if (prepared) sources.push({ kind: 'wav', path: prepared });
        else sources.push({ kind: 'pcm-stream', stream: this.decodeWhenAvailable(audio.sha256, procs), maxDurationMs: 4 * 3600_000 });
      }
    }
    return {
      sources,
      sha256: audio.kind === 'media' ? audio.sha256 : undefined,
      url,
      cleanup: () => procs.forEach((p) => p.kill()),
    };
  }

  /**
   * Raw PCM of a clip not yet normalised, decoded by ffmpeg as soon as its bytes are here. If
   * they never come, the stream errors and the airing is acked failed: a chime alone is not
   * a delivered alert.
   */
  private decodeWhenAvailable(sha: string, procs: FfmpegProcess[]): Readable {
    const out = new PassThrough();
    this.available(sha).then(
      () => {
        if (out.destroyed) return;
        const prepared = this.o.cache.preparedPath(sha);
        const input = prepared ?? this.rawPath(sha);
        if (!existsSync(input)) return failStream(out, new Error(`media_missing: clip ${sha.slice(0, 12)} is no longer on disk`));
        const proc = spawnFfmpeg(
          ['-hide_banner', '-nostdin', '-loglevel', 'error', '-i', input, '-map', '0:a:0', '-f', 's16le', '-acodec', 'pcm_s16le', '-ar', '48000', '-ac', '1', 'pipe:1'],
          { ffmpegPath: this.o.ffmpegPath, timeoutMs: 4 * 3600_000 },
        );
        procs.push(proc);
        // End the stream ourselves: a decoder that fails must fail the airing, not end it quietly.
        proc.stdout.pipe(out, { end: false });
        void proc.exited.then((exit) => {
          if (out.destroyed) return;
          if (exit.error) failStream(out, new Error(`decoding failed: ${exit.error.message}`));
          else out.end();
        });
      },
      (e: Error) => failStream(out, e),
    );
    return out;
  }

  /** Live relay: try each URL until one yields audio; report which one aired. */
  private async openStream(urls: string[], durationSec: number): Promise<{ stream: Readable; proc: FfmpegProcess; url: string }> {
    const errors: string[] = [];
    for (const url of urls) {
      let proc: FfmpegProcess;
      try {
        proc = spawnFfmpeg(decodeStreamArgs(url, durationSec, this.o.relaySchemes), { ffmpegPath: this.o.ffmpegPath, timeoutMs: (durationSec + 30) * 1000 });
      } catch (e) {
        errors.push(`${url}: ${(e as Error).message}`);
        continue;
      }
      const first = await new Promise<Buffer | undefined>((resolve) => {
        const timer = setTimeout(() => done(undefined), 10_000);
        const onData = (b: Buffer) => done(b);
        const onEnd = () => done(undefined);
        const done = (b: Buffer | undefined) => {
          clearTimeout(timer);
          proc.stdout.off('data', onData);
          proc.stdout.off('end', onEnd);
          proc.stdout.pause();
          resolve(b);
        };
        proc.stdout.on('data', onData);
        proc.stdout.on('end', onEnd);
      });
      if (!first) {
        proc.kill();
        const exit = await proc.exited;
        errors.push(`${url}: ${exit.error?.message ?? 'no audio within 10 s'}`);
        continue;
      }
      const stream = new PassThrough();
      stream.write(first);
      proc.stdout.pipe(stream);
      proc.stdout.resume();
      return { stream, proc, url };
    }
    throw new Error(`relay_failed: no live relay URL worked: ${errors.join('; ')}`);
  }
}

/**
 * Fail a stream the output may not be reading yet (it is still playing the chime): destroying
 * it now would fire 'error' and 'close' before anyone listens, and the airing would hang.
 */
function failStream(out: PassThrough, error: Error): void {
  const fire = (): void => void setImmediate(() => out.destroy(error));
  if (out.listenerCount('error') > 0) {
    fire();
    return;
  }
  const onListener = (event: string | symbol) => {
    if (event !== 'error') return;
    out.off('newListener', onListener);
    fire();
  };
  out.on('newListener', onListener);
}
