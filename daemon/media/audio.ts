import { createReadStream, mkdirSync, readdirSync, unlinkSync } from 'node:fs';
import { readFile, rename, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { PassThrough, type Readable } from 'node:stream';
import { type FfmpegProcess, spawnFfmpeg } from '../../io/ffmpeg.js';
import type { AudioRef, Priority, RelayScheme } from '../../protocol/index.js';
import type { StationEventBus } from '../events.js';
import type { PcmSource } from '../outputs/output.js';
import { describeFormat, isOnAirFormat, parseWavHeader } from '../outputs/wav.js';
import { kindOf, leadFor, mayAirWithoutLead } from '../playback/policy.js';
import type { AudioResolver } from '../playout.js';
import type { JobRow } from '../store.js';
import type { MediaCache } from './cache.js';
import { decodeStreamArgs, liveDecodeArgs } from './prepare.js';

type MediaRef = Extract<AudioRef, { kind: 'media' }>;
type MediaState =
  | { kind: 'queued'; audio: MediaRef; urgent: boolean }
  | { kind: 'fetching' }
  /** Bytes verified and held in memory; preparation waits for a pipeline (not before `notBefore`). */
  | { kind: 'landed'; bytes: Buffer; urgent: boolean; notBefore: number }
  | { kind: 'preparing' }
  | { kind: 'ready' }
  | { kind: 'failed'; reason: string; detail: string };

export interface StationAudioOptions {
  cache: MediaCache;
  dir: string;
  chimes: Partial<Record<Priority, string>>;
  /** The station's own "this is a test" clip, led before every test alert. */
  testPreamble: string;
  ffmpegPath?: string;
  /** The loudness target: a clip's first airing (decoded live, not yet prepared) is normalised to it in one pass. */
  loudness: { targetLufs: number; truePeakDb: number };
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
  /** How long after an alert's clip landed its preparation may start (its first airing decodes it live meanwhile). */
  prepareDelayMs?: number;
}

/** A live decoder started for an alert's clip that nobody has taken: stopped after this. */
const SPARE_DECODER_MS = 120_000;

/**
 * Gets audio ready before air time (fetch when the command arrives, verify, normalise into the
 * cache) and turns a job into output sources at air time. Work is queued with a small
 * concurrency, emergencies first.
 *
 * An alert does not wait for any of that. Its clip is fetched at once, outside the queue, and
 * a decoder (ffmpeg, single-pass loudness normalisation) is started while the fetch is under
 * way; the verified bytes go straight from memory into it, so the first airing starts as soon
 * as they are here. The emergency chime is held in memory and airs with no disk access.
 * Preparing the clip for the cache waits until the first airing is under way.
 */
export class StationAudio implements AudioResolver {
  private state = new Map<string, MediaState>();
  /** Airings waiting for a clip's bytes (an emergency that went on air with its chime first). */
  private waiting = new Map<string, { resolve: () => void; reject: (e: Error) => void }[]>();
  private chimePaths = new Map<Priority, string>();
  /** The emergency chime's PCM (on-air format, no header): it leads every live alert. */
  private emergencyChime: Buffer | undefined;
  private preambleSha: string | undefined;
  private preambleError: string | undefined;
  private running = 0;
  private slotWaiters: (() => void)[] = [];
  private pumpTimer: NodeJS.Timeout | undefined;
  /** Clips whose prepared file vanished at air time and are being fetched again. */
  private missing = new Set<string>();
  /** Verified bytes of clips not prepared yet: first airings decode from here. */
  private bytes = new Map<string, Buffer>();
  /** Decoders started for an alert's clip before its bytes landed, not yet taken by an airing. */
  private spares = new Map<string, { proc: FfmpegProcess; timer: NodeJS.Timeout }>();
  /** Decoders fed (or being fed) already. */
  private fed = new WeakSet<FfmpegProcess>();
  /** Decoders on air per clip: a clip that cannot be kept (disk full) fails them. */
  private live = new Map<string, Set<PassThrough>>();
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

  /**
   * Prepare configured chimes once at start-up (the emergency path leads with them); a bad one
   * is logged, not fatal. The emergency chime's samples are then held in memory.
   */
  async prepareChimes(): Promise<void> {
    for (const [priority, path] of Object.entries(this.o.chimes) as [Priority, string][]) {
      if (!path) continue;
      try {
        const p = await this.o.cache.prepareFile(path);
        this.chimePaths.set(priority, p.sha256);
        if (priority === 'emergency') this.emergencyChime = await readPcm(p.path);
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

  /**
   * Start getting a clip; safe to call repeatedly. `urgent` (emergencies) jumps the queue.
   * `live` (alerts): fetch at once, outside the queue, and start a decoder for the first
   * airing while the bytes are on their way.
   */
  prefetch(audio: AudioRef, urgent = false, live = false): void {
    if (audio.kind !== 'media') return;
    const sha = audio.sha256;
    if (this.o.cache.has(sha)) {
      this.state.set(sha, { kind: 'ready' });
      return;
    }
    const s = this.state.get(sha);
    if (s?.kind === 'queued') {
      if (live) {
        this.state.set(sha, { kind: 'fetching' });
        this.spare(sha);
        void this.fetchLive(s.audio, urgent || s.urgent);
        return;
      }
      if (urgent && !s.urgent) this.state.set(sha, { ...s, urgent: true });
      return;
    }
    if (s?.kind === 'landed') {
      if (urgent && !s.urgent) this.state.set(sha, { ...s, urgent: true });
      return;
    }
    if (s?.kind === 'fetching' || s?.kind === 'preparing') {
      if (live && !this.bytes.has(sha)) this.spare(sha);
      return;
    }
    // Never cached, failed before, or ready but its prepared file vanished: (re)fetch.
    if (live) {
      this.state.set(sha, { kind: 'fetching' });
      this.spare(sha);
      void this.fetchLive(audio, urgent);
      return;
    }
    this.state.set(sha, { kind: 'queued', audio, urgent });
    this.pump();
  }

  private pump(): void {
    const limit = this.o.concurrency ?? 2;
    while (this.running < limit && this.slotWaiters.length > 0) this.slotWaiters.shift()!();
    const now = performance.now();
    let wakeAt = Infinity;
    while (this.running < limit) {
      let next: { sha: string; s: Extract<MediaState, { kind: 'queued' | 'landed' }> } | undefined;
      for (const [sha, s] of this.state) {
        if (s.kind === 'landed' && s.notBefore > now) {
          wakeAt = Math.min(wakeAt, s.notBefore);
          continue;
        }
        if (s.kind !== 'queued' && s.kind !== 'landed') continue;
        if (!next || (s.urgent && !next.s.urgent)) next = { sha, s };
        if (s.urgent) break;
      }
      if (!next) break;
      this.running++;
      const { sha, s } = next;
      const work = s.kind === 'queued' ? this.fetchAndPrepare(s.audio) : this.prepareLanded(sha, s.bytes);
      this.state.set(sha, s.kind === 'queued' ? { kind: 'fetching' } : { kind: 'preparing' });
      void work
        .catch((e: Error) => this.fail(sha, 'internal_error', e.message))
        .finally(() => {
          this.running--;
          this.pump();
        });
    }
    if (this.pumpTimer) clearTimeout(this.pumpTimer);
    this.pumpTimer = undefined;
    if (wakeAt < Infinity) {
      this.pumpTimer = setTimeout(() => this.pump(), Math.max(0, wakeAt - now) + 1);
      this.pumpTimer.unref();
    }
  }

  queued(): number {
    let n = 0;
    for (const s of this.state.values()) if (s.kind === 'queued' || s.kind === 'fetching' || s.kind === 'landed' || s.kind === 'preparing') n++;
    return n;
  }

  private rawPath(sha: string): string {
    return join(this.rawDir, sha);
  }

  /** The clip's bytes over MQTT, then its URLs; undefined (and the clip failed) when it cannot be had. */
  private async fetchBytes(audio: MediaRef): Promise<Buffer | undefined> {
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
    if (!bytes) this.fail(sha, code, errors.join('; '));
    return bytes;
  }

  /**
   * Verified bytes are here: airings waiting for them start (decoding from memory), and the
   * raw clip is kept on disk; a clip that cannot be kept (disk full) fails its airings.
   */
  private land(sha: string, bytes: Buffer): void {
    this.bytes.set(sha, bytes);
    const spare = this.spares.get(sha);
    if (spare) this.feed(sha, spare.proc);
    this.settle(sha);
    this.o.events.emit('media-ready', { sha256: sha });
    const raw = this.rawPath(sha);
    writeFile(`${raw}.tmp`, bytes)
      .then(() => rename(`${raw}.tmp`, raw))
      .catch((e: NodeJS.ErrnoException) => {
        void unlink(`${raw}.tmp`).catch(() => undefined);
        if (this.state.get(sha)?.kind === 'failed' || this.o.cache.has(sha)) return;
        this.fail(sha, e.code === 'ENOSPC' ? 'disk_full' : 'write_failed', `cannot keep the clip in ${this.rawDir}: ${e.message}`);
      });
  }

  private async fetchAndPrepare(audio: MediaRef): Promise<void> {
    const sha = audio.sha256;
    const bytes = await this.fetchBytes(audio);
    if (!bytes) return;
    this.land(sha, bytes);
    await this.prepareLanded(sha, bytes);
  }

  /** An alert's clip: fetched at once; its preparation queued after the first airing got going. */
  private async fetchLive(audio: MediaRef, urgent: boolean): Promise<void> {
    const sha = audio.sha256;
    const bytes = await this.fetchBytes(audio);
    if (!bytes) return;
    this.land(sha, bytes);
    if (this.state.get(sha)?.kind !== 'fetching') return; // failed meanwhile
    this.state.set(sha, { kind: 'landed', bytes, urgent, notBefore: performance.now() + (this.o.prepareDelayMs ?? 2_000) });
    this.pump();
  }

  private async prepareLanded(sha: string, bytes: Buffer): Promise<void> {
    try {
      await this.o.cache.ingest(sha, bytes);
      if (this.state.get(sha)?.kind === 'failed') return; // the clip could not be kept meanwhile
      this.state.set(sha, { kind: 'ready' });
      this.missing.delete(sha);
      this.o.events.emit('media-ready', { sha256: sha });
    } catch (e) {
      const err = e as Error & { code?: string };
      if (this.state.get(sha)?.kind !== 'failed') this.fail(sha, err.code ?? 'transcode_failed', err.message);
    } finally {
      this.bytes.delete(sha);
      this.dropSpare(sha);
      void unlink(this.rawPath(sha)).catch(() => undefined);
    }
  }

  private settle(sha: string, error?: Error): void {
    const list = this.waiting.get(sha) ?? [];
    this.waiting.delete(sha);
    for (const w of list) error ? w.reject(error) : w.resolve();
  }

  /** Resolves once the clip's bytes (in memory, or prepared) are here; rejects when they cannot be had. */
  private available(sha: string): Promise<void> {
    if (this.o.cache.has(sha) || this.bytes.has(sha)) return Promise.resolve();
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
    const error = new Error(`${reason}: ${detail}`);
    this.settle(sha, error);
    this.state.set(sha, { kind: 'failed', reason, detail });
    this.bytes.delete(sha);
    this.dropSpare(sha);
    for (const out of this.live.get(sha) ?? []) failStream(out, error);
    this.live.delete(sha);
    void unlink(this.rawPath(sha)).catch(() => undefined);
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
    // Alerts air their clip's first time straight from the verified bytes; everything else
    // waits for the prepared file.
    if (!liveDecoded(job)) return false;
    if (this.mediaFailure(audio.sha256)) return false;
    if (this.bytes.has(audio.sha256)) return true;
    // An emergency goes on air with its chime at once; the clip follows when it lands.
    if (job.priority !== 'emergency') return false;
    const chime = this.chimePaths.get('emergency');
    return this.emergencyChime !== undefined || (chime !== undefined && this.o.cache.has(chime));
  }

  failure(job: JobRow): string | undefined {
    const kind = kindOf({ commandType: job.commandType, test: job.spec.test });
    if (!mayAirWithoutLead(kind) && this.preambleSha === undefined) return `no_test_preamble: ${this.preambleError ?? 'not prepared yet'}`;
    const audio = job.spec.audio;
    if (audio.kind !== 'media') return undefined;
    const f = this.mediaFailure(audio.sha256);
    return f ? `${f.reason}: ${f.detail}` : undefined;
  }

  private lead(job: JobRow): PcmSource | undefined {
    const kind = kindOf({ commandType: job.commandType, test: job.spec.test });
    const lead = leadFor(kind, job.priority, job.spec.chime);
    if (lead.kind === 'none') return undefined;
    if (lead.kind === 'chime' && lead.level === 'emergency' && this.emergencyChime) return { kind: 'pcm', data: this.emergencyChime };
    const sha = lead.kind === 'test-preamble' ? this.preambleSha : this.chimePaths.get(lead.level);
    const path = sha ? this.o.cache.preparedPath(sha) : undefined;
    if (!path && lead.kind === 'test-preamble')
      throw new Error(`no_test_preamble: the station's test preamble is not available (${this.preambleError ?? 'missing from the cache'})`);
    return path ? { kind: 'wav', path } : undefined;
  }

  async sources(job: JobRow, _zone: string): Promise<{ sources: PcmSource[]; sha256?: string; url?: string; cleanup?: () => void }> {
    const sources: PcmSource[] = [];
    const procs: FfmpegProcess[] = [];
    const lead = this.lead(job);
    if (lead) sources.push(lead);
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
      if (!prepared && !this.bytes.has(audio.sha256)) {
        if (this.state.get(audio.sha256)?.kind === 'ready') {
          this.o.log('warn', 'prepared clip missing at air time: fetching it again', { sha: audio.sha256 });
          this.missing.add(audio.sha256);
        }
        this.prefetch(audio, true, liveDecoded(job));
      }
      for (let i = 0; i < job.spec.repeat; i++) {
        if (i > 0 && job.spec.gapSec > 0) sources.push({ kind: 'silence', ms: job.spec.gapSec * 1000 });
        if (prepared) sources.push({ kind: 'wav', path: prepared });
        // Later repeats start their decoder only when the pacer reaches them.
        else sources.push({ kind: 'pcm-stream', stream: this.decodeWhenAvailable(audio.sha256, procs, i > 0), maxDurationMs: 4 * 3600_000 });
      }
    }
    return {
      sources,
      sha256: audio.kind === 'media' ? audio.sha256 : undefined,
      url,
      cleanup: () => procs.forEach((p) => p.kill()),
    };
  }

  private spawnDecoder(): FfmpegProcess {
    return spawnFfmpeg(liveDecodeArgs('pipe:0', this.o.loudness), { ffmpegPath: this.o.ffmpegPath, stdin: 'pipe', timeoutMs: 4 * 3600_000 });
  }

  /** Start a decoder for an alert's clip before its bytes land: ffmpeg's start-up overlaps the fetch. */
  private spare(sha: string): void {
    if (this.spares.has(sha)) return;
    let proc: FfmpegProcess;
    try {
      proc = this.spawnDecoder();
    } catch {
      return; // no ffmpeg: the airing's own decoder reports it
    }
    const timer = setTimeout(() => this.dropSpare(sha), SPARE_DECODER_MS);
    timer.unref();
    this.spares.set(sha, { proc, timer });
  }

  private dropSpare(sha: string): void {
    const s = this.spares.get(sha);
    if (!s) return;
    this.spares.delete(sha);
    clearTimeout(s.timer);
    s.proc.kill();
  }

  private takeSpare(sha: string): FfmpegProcess | undefined {
    const s = this.spares.get(sha);
    if (!s) return undefined;
    this.spares.delete(sha);
    clearTimeout(s.timer);
    return s.proc.child.exitCode === null && s.proc.child.signalCode === null ? s.proc : undefined;
  }

  /** Hand the clip to a decoder: from memory, or the prepared file if it is ready by now. */
  private feed(sha: string, proc: FfmpegProcess): void {
    if (this.fed.has(proc)) return;
    const stdin = proc.stdin!;
    const bytes = this.bytes.get(sha);
    if (bytes) {
      this.fed.add(proc);
      stdin.end(bytes);
      return;
    }
    const prepared = this.o.cache.preparedPath(sha);
    if (!prepared) return;
    this.fed.add(proc);
    const file = createReadStream(prepared);
    file.on('error', () => stdin.destroy());
    file.pipe(stdin);
  }

  /**
   * PCM of a clip not yet prepared, decoded (loudness-normalised in one pass) as soon as its
   * verified bytes are here. If they never come, the stream errors and the airing is acked
   * failed: a chime alone is not a delivered alert. `lazy`: the decoder starts when the
   * output reaches this source (a repeat), not now.
   */
  private decodeWhenAvailable(sha: string, procs: FfmpegProcess[], lazy: boolean): Readable {
    const out = new PassThrough();
    const onAir = this.live.get(sha) ?? new Set<PassThrough>();
    this.live.set(sha, onAir);
    onAir.add(out);
    out.once('close', () => {
      onAir.delete(out);
      if (onAir.size === 0 && this.live.get(sha) === onAir) this.live.delete(sha);
    });
    const start = () => {
      if (out.destroyed) return;
      let proc: FfmpegProcess;
      try {
        proc = this.takeSpare(sha) ?? this.spawnDecoder();
      } catch (e) {
        return failStream(out, new Error(`decoding failed: ${(e as Error).message}`));
      }
      procs.push(proc);
      // End the stream ourselves: a decoder that fails must fail the airing, not end it quietly.
      proc.stdout.pipe(out, { end: false });
      void proc.exited.then((exit) => {
        if (out.destroyed) return;
        if (exit.error) failStream(out, new Error(`decoding failed: ${exit.error.message}`));
        else out.end();
      });
      this.available(sha).then(
        () => {
          if (out.destroyed) return;
          this.feed(sha, proc);
          if (!this.fed.has(proc)) failStream(out, new Error(`media_missing: clip ${sha.slice(0, 12)} is no longer here`));
        },
        (e: Error) => failStream(out, e),
      );
    };
    if (lazy) out.once('resume', start);
    else start();
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
  // A 'data' listener means the output reads it now. (Not 'error': the decoder's pipe() adds
  // one of its own, and an error fired with only that listener is lost to the output.)
  if (out.listenerCount('data') > 0) {
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

/** Alerts (live and test) air a clip's first time decoded live; other broadcasts wait for the prepared file. */
function liveDecoded(job: JobRow): boolean {
  return job.commandType === 'alert' || job.priority === 'emergency';
}

/** The samples of a prepared (on-air format) WAV, without its header. */
async function readPcm(path: string): Promise<Buffer> {
  const file = await readFile(path);
  const info = parseWavHeader(file, file.length, path);
  if (!isOnAirFormat(info)) throw new Error(`${path} is not in the on-air format: ${describeFormat(info)}`);
  return Buffer.from(file.subarray(info.dataOffset, info.dataOffset + info.dataBytes));
}
