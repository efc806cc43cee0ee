// The real-time pacer shared by every zone output: reads sources, applies volume, and hands
// 20 ms chunks to a sink at the pace a sound card consumes them.
import { type FileHandle, open } from 'node:fs/promises';
import { performance } from 'node:perf_hooks';
import type { PcmSource, PlaybackHandle, PlaybackResult, PlayRequest, ZoneOutput } from './output.js';
import { BYTES_PER_FRAME, describeFormat, isOnAirFormat, ON_AIR_RATE, parseWavHeader } from './wav.js';

export const CHUNK_MS = 20;
/** See PlayRequest.stallMs. */
export const DEFAULT_STALL_MS = 30_000;
export const CHUNK_FRAMES = (ON_AIR_RATE * CHUNK_MS) / 1000; // 960
export const CHUNK_BYTES = CHUNK_FRAMES * BYTES_PER_FRAME; // 1920

// ---- volume -------------------------------------------------------------------------------

/** Each volume step is 0.5 dB: 100 = 0 dB, 50 = -25 dB, 1 = -49.5 dB, 0 = mute. */
export const VOLUME_DB_PER_STEP = 0.5;

export function validateVolume(v: number): void {
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0 || v > 100) {
    throw new RangeError(`volume must be a number from 0 to 100, got ${String(v)}`);
  }
}

export function volumeToDb(v: number): number {
  validateVolume(v);
  return v === 0 ? -Infinity : (v - 100) * VOLUME_DB_PER_STEP;
}

export function volumeToGain(v: number): number {
  const db = volumeToDb(v);
  return db === -Infinity ? 0 : 10 ** (db / 20);
}

export function validateLabel(label: string): void {
  if (typeof label !== 'string' || !/^[a-z0-9._-]{1,100}$/.test(label)) {
    throw new TypeError(`playback label must be 1-100 characters of [a-z0-9-_.], got ${JSON.stringify(label)}`);
  }
}

/**
 * Applies a gain ramp from g0 to g1 across the chunk (g0 === g1: constant gain), with s16
 * clamping. Returns the input untouched at unity gain.
 */
export function applyGain(chunk: Buffer, g0: number, g1: number): Buffer {
  if (g0 === 1 && g1 === 1) return chunk;
  const n = chunk.length >> 1;
  const out = Buffer.allocUnsafe(n << 1);
  const step = n > 0 ? (g1 - g0) / n : 0;
  let g = g0;
  for (let i = 0; i < n; i++) {
    g += step;
    let s = Math.round(chunk.readInt16LE(i << 1) * g);
    if (s > 32767) s = 32767;
    else if (s < -32768) s = -32768;
    out.writeInt16LE(s, i << 1);
  }
  return out;
}

// ---- sinks ----------------------------------------------------------------------------------

/** Where paced chunks go. One sink per playback. */
export interface Sink {
  /**
   * Chunks handed over ahead of real time at the start (and after an underrun). A device
   * process that reads whole packets larger than one chunk (ffmpeg's PCM demuxer reads 2048
   * bytes, a chunk is 1920) would otherwise wait for the second chunk before it plays the
   * first, and then run with almost no margin against an underrun.
   */
  readonly leadChunks?: number;
  /** Creates the file / starts the device process. Rejects with a clear message. */
  open(): Promise<void>;
  /** Hands over one chunk (the sink may keep a reference to it). */
  write(chunk: Buffer): void;
  /** An asynchronous failure since open (process died, disk error), polled every chunk. */
  failure(): string | undefined;
  /**
   * Ends the playback. 'drain': buffered audio plays out; 'drop': discard it now.
   * Resolves with the file written (file sink) or an error noticed while closing.
   */
  close(mode: 'drain' | 'drop'): Promise<{ file?: string; error?: string }>;
}

// ---- sources --------------------------------------------------------------------------------

type Take = Buffer | 'underrun' | null; // null: source exhausted

interface SourceReader {
  /** Up to `n` bytes available now, 'underrun' if none yet but more may come, null at the end. */
  take(n: number): Take;
  /** Resolves when take() may return something new. */
  ready(): Promise<void>;
  close(): Promise<void>;
  readonly wallLimitMs?: number;
  readonly frameLimit?: number;
}

const READ_AHEAD_BYTES = ON_AIR_RATE * BYTES_PER_FRAME; // 1 s
const WAV_HEAD_BYTES = 64 * 1024;

class WavReader implements SourceReader {
  private buf: Buffer = Buffer.alloc(0);
  private pos: number;
  private remaining: number;
  private pending: Promise<void> | undefined;
  private error: Error | undefined;

  private constructor(
    private readonly fh: FileHandle,
    readonly path: string,
    dataOffset: number,
    dataBytes: number,
    head: Buffer,
  ) {
    // Whatever the header read already brought in is the first buffered audio.
    const inHead = Math.max(0, Math.min(head.length - dataOffset, dataBytes));
    this.buf = head.subarray(dataOffset, dataOffset + inHead);
    this.pos = dataOffset + inHead;
    this.remaining = dataBytes - inHead;
  }

  static async open(path: string): Promise<WavReader> {
    let fh: FileHandle;
    try {
      fh = await open(path, 'r');
    } catch (e) {
      throw new Error(`cannot open ${path}: ${(e as Error).message}`);
    }
    try {
      const { size } = await fh.stat();
      const head = Buffer.alloc(Math.min(size, WAV_HEAD_BYTES));
      await fh.read(head, 0, head.length, 0);
      const info = parseWavHeader(head, size, path);
      if (!isOnAirFormat(info)) {
        throw new Error(`${path} is not in the on-air format (s16le 48000 Hz mono): ${describeFormat(info)}`);
      }
      const r = new WavReader(fh, path, info.dataOffset, info.dataBytes, head);
      r.fill();
      return r;
    } catch (e) {
      await fh.close().catch(() => {});
      throw e;
    }
  }

  private fill(): void {
    if (this.pending || this.remaining <= 0 || this.buf.length >= READ_AHEAD_BYTES / 2 || this.error) return;
    const want = Math.min(READ_AHEAD_BYTES, this.remaining);
    const b = Buffer.allocUnsafe(want);
    this.pending = this.fh
      .read(b, 0, want, this.pos)
      .then(({ bytesRead }) => {
        if (bytesRead === 0) {
          this.remaining = 0; // file shrank under us
        } else {
          this.pos += bytesRead;
          this.remaining -= bytesRead;
          this.buf = this.buf.length ? Buffer.concat([this.buf, b.subarray(0, bytesRead)]) : b.subarray(0, bytesRead);
        }
      })
      .catch((e: Error) => {
        this.error = new Error(`reading ${this.path}: ${e.message}`);
      })
      .finally(() => {
        this.pending = undefined;
      });
  }

  take(n: number): Take {
    if (this.error) throw this.error;
    let out: Take;
    if (this.buf.length >= n || (this.buf.length > 0 && this.remaining <= 0)) {
      const len = Math.min(n, this.buf.length) & ~1;
      out = this.buf.subarray(0, len);
      this.buf = this.buf.subarray(len);
      if (len === 0) out = null;
    } else if (this.remaining <= 0) {
      out = null;
    } else {
      out = 'underrun';
    }
    this.fill();
    return out;
  }

  async ready(): Promise<void> {
    this.fill();
    await this.pending;
  }

  async close(): Promise<void> {
    await this.pending;
    await this.fh.close().catch(() => {});
  }
}

/** Raw s16le mono PCM arriving on a stream; paused when more than 2 s is queued. */
class StreamReader implements SourceReader {
  private queue: Buffer[] = [];
  private queued = 0;
  private ended = false;
  private error: Error | undefined;
  private waiters: Array<() => void> = [];
  private paused = false;
  readonly wallLimitMs: number;
  readonly frameLimit: number;
  private readonly onData = (b: Buffer | string) => {
    const buf = typeof b === 'string' ? Buffer.from(b, 'binary') : b;
    this.queue.push(buf);
    this.queued += buf.length;
    if (this.queued > 2 * READ_AHEAD_BYTES && !this.paused) {
      this.paused = true;
      this.stream.pause();
    }
    this.wake();
  };
  private readonly onEnd = () => {
    this.ended = true;
    this.wake();
  };
  private readonly onError = (e: Error) => {
    this.error = new Error(`live PCM stream failed: ${e.message}`);
    this.wake();
  };

  constructor(
    private readonly stream: NodeJS.ReadableStream,
    maxDurationMs: number,
  ) {
    this.wallLimitMs = maxDurationMs;
    this.frameLimit = Math.floor((maxDurationMs * ON_AIR_RATE) / 1000);
    stream.on('data', this.onData);
    stream.on('end', this.onEnd);
    stream.on('close', this.onEnd);
    stream.on('error', this.onError);
    // A stream that failed or ended before the output got to it fires nothing more: read its state.
    const st = stream as NodeJS.ReadableStream & { errored?: Error | null; destroyed?: boolean };
    if (st.errored) this.onError(st.errored);
    else if (st.destroyed) this.ended = true;
    stream.resume();
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  take(n: number): Take {
    if (this.error) throw this.error;
    const avail = this.queued & ~1;
    if (avail === 0 || (avail < n && !this.ended)) return this.ended && avail === 0 ? null : 'underrun';
    const len = Math.min(n, avail);
    const out = Buffer.allocUnsafe(len);
    let off = 0;
    while (off < len) {
      const head = this.queue[0];
      const k = Math.min(head.length, len - off);
      head.copy(out, off, 0, k);
      off += k;
      if (k === head.length) this.queue.shift();
      else this.queue[0] = head.subarray(k);
    }
    this.queued -= len;
    if (this.paused && this.queued < READ_AHEAD_BYTES) {
      this.paused = false;
      this.stream.resume();
    }
    return out;
  }

  ready(): Promise<void> {
    if (this.ended || this.error || this.queued >= CHUNK_BYTES) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  async close(): Promise<void> {
    this.stream.removeListener('data', this.onData);
    this.stream.removeListener('end', this.onEnd);
    this.stream.removeListener('close', this.onEnd);
    this.stream.removeListener('error', this.onError);
    this.stream.on('error', () => {}); // late errors from a destroyed producer are expected
    const s = this.stream as NodeJS.ReadableStream & { destroy?: () => void };
    if (typeof s.destroy === 'function') s.destroy();
    this.wake();
  }
}

/** Zeros, generated as they are taken: no buffer the size of the gap is ever allocated. */
class SilenceReader implements SourceReader {
  private remaining: number;
  private static readonly zero = Buffer.alloc(CHUNK_BYTES);

  constructor(ms: number) {
    this.remaining = Math.round((Math.max(0, ms) * ON_AIR_RATE) / 1000) * BYTES_PER_FRAME;
  }

  take(n: number): Take {
    if (this.remaining <= 0) return null;
    const len = Math.min(n, this.remaining, CHUNK_BYTES) & ~1;
    this.remaining -= len;
    return SilenceReader.zero.subarray(0, len);
  }

  async ready(): Promise<void> {}

  async close(): Promise<void> {}
}

/** PCM already in memory (the emergency chime): no disk, no thread-pool round trip. */
class BufferReader implements SourceReader {
  private pos = 0;

  constructor(private readonly data: Buffer) {}

  take(n: number): Take {
    const len = Math.min(n, this.data.length - this.pos) & ~1;
    if (len <= 0) return null;
    const out = this.data.subarray(this.pos, this.pos + len);
    this.pos += len;
    return out;
  }

  async ready(): Promise<void> {}

  async close(): Promise<void> {}
}

async function openSource(src: PcmSource): Promise<SourceReader> {
  if (src.kind === 'pcm') return new BufferReader(src.data);
  if (src.kind === 'wav') return WavReader.open(src.path);
  if (src.kind === 'silence') return new SilenceReader(src.ms);
  if (src.kind === 'pcm-stream') {
    if (!Number.isFinite(src.maxDurationMs) || src.maxDurationMs <= 0) {
      throw new Error(`pcm-stream maxDurationMs must be positive, got ${src.maxDurationMs}`);
    }
    return new StreamReader(src.stream, src.maxDurationMs);
  }
  throw new Error(`unknown source kind ${(src as { kind: string }).kind}`);
}

// ---- playback loop --------------------------------------------------------------------------

const wallNow = () => performance.timeOrigin + performance.now();

export function startPlayback(req: PlayRequest, sink: Sink): PlaybackHandle {
  let resolveFirst!: (t: number) => void;
  let rejectFirst!: (e: Error) => void;
  const firstFrame = new Promise<number>((res, rej) => {
    resolveFirst = res;
    rejectFirst = rej;
  });
  firstFrame.catch(() => {}); // callers that only watch `done` must not see an unhandled rejection
  let firstDone = false;

  let stopReq: { fadeMs: number } | undefined;
  let gainTarget = volumeToGain(req.volume);
  // stop() calls wake() to end the current sleep at once, so it acts within one chunk.
  let wake: (() => void) | undefined;
  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      const t = setTimeout(finish, ms);
      function finish() {
        clearTimeout(t);
        if (wake === finish) wake = undefined;
        resolve();
      }
      wake = finish;
    });
  const cutRequested = () => stopReq !== undefined && stopReq.fadeMs <= 0;

  const run = async (): Promise<PlaybackResult> => {
    let frames = 0;
    let lastFrameAt: number | undefined;
    const result = (outcome: PlaybackResult['outcome'], reason?: string, file?: string): PlaybackResult => ({
      outcome,
      framesWritten: frames,
      durationMs: Math.round((frames * 1000) / ON_AIR_RATE),
      ...(reason !== undefined ? { reason } : {}),
      ...(file !== undefined ? { file } : {}),
      ...(lastFrameAt !== undefined ? { lastFrameAt } : {}),
    });

    // Open every WAV up front: a missing or wrong-format clip fails before anything airs.
    // Except behind audio already in memory (the emergency chime): that goes on air at once
    // while the WAVs open beside it, and one that cannot be opened fails the playback as soon
    // as that is known (the emergency path does not wait for the disk before its first frame).
    const readers: Array<SourceReader | undefined> = [];
    const opening: Array<Promise<SourceReader> | undefined> = [];
    let openFailure: Error | undefined;
    const memoryFirst = req.sources[0]?.kind === 'pcm';
    try {
      for (const src of req.sources) {
        if (src.kind !== 'wav') {
          readers.push(undefined);
          opening.push(undefined);
        } else if (memoryFirst) {
          const p = openSource(src);
          p.catch((e: Error) => {
            openFailure ??= e;
            wake?.();
          });
          readers.push(undefined);
          opening.push(p);
        } else {
          readers.push(await openSource(src));
          opening.push(undefined);
        }
      }
    } catch (e) {
      await Promise.all(readers.map((r) => r?.close()));
      return result('failed', (e as Error).message);
    }
    // Readers still opening when the playback ends are closed once they are open.
    const closeAll = () =>
      Promise.all([
        ...readers.map((r) => r?.close()),
        ...opening.map((p, i) =>
          p && !readers[i]
            ? p.then(
                (r) => r.close(),
                () => {},
              )
            : undefined,
        ),
      ]);
    try {
      await sink.open();
    } catch (e) {
      await closeAll();
      await sink.close('drop').catch(() => {}); // release whatever open() got to
      return result('failed', (e as Error).message);
    }

    let gainCur = gainTarget;
    const lead = Math.max(0, sink.leadChunks ?? 0);
    let t0 = performance.now();
    let sent = 0; // chunks since t0
    const maxFrames = req.maxDurationMs !== undefined ? Math.floor((req.maxDurationMs * ON_AIR_RATE) / 1000) : Infinity;
    const stallMs = req.stallMs ?? DEFAULT_STALL_MS;
    let outcome: PlaybackResult['outcome'] = 'completed';
    let reason: string | undefined;
    let fade: { total: number; left: number } | undefined;

    try {
      outer: for (let i = 0; i < req.sources.length; i++) {
        if (openFailure) throw openFailure;
        if (readers[i] === undefined) readers[i] = await (opening[i] ?? openSource(req.sources[i]!));
        const reader = readers[i]!;
        const srcStart = performance.now();
        let srcFrames = 0;
        let lastData = performance.now();
        while (true) {
          if (stopReq && !fade) {
            outcome = 'stopped';
            reason = 'stopped';
            if (stopReq.fadeMs <= 0) break outer;
            const total = Math.max(1, Math.round((stopReq.fadeMs * ON_AIR_RATE) / 1000));
            fade = { total, left: total };
          }
          if (fade && fade.left <= 0) break outer;
          if (frames >= maxFrames) {
            reason = 'max-duration';
            break outer;
          }
          if (reader.frameLimit !== undefined && srcFrames >= reader.frameLimit) break;
          const wantFrames = Math.min(CHUNK_FRAMES, maxFrames - frames, (reader.frameLimit ?? Infinity) - srcFrames);
          let chunk = reader.take(wantFrames * BYTES_PER_FRAME);
          if (chunk === null) break;
          if (chunk === 'underrun') {
            // Wait for data; do not pad with silence, so a stalled live stream does not build up
            // latency. A source silent for stallMs fails the playback: zones are not held by
            // audio that is not coming (a clip whose fetch hangs, a dead relay).
            const left = reader.wallLimitMs !== undefined ? srcStart + reader.wallLimitMs - performance.now() : Infinity;
            if (left <= 0) break;
            const stalled = performance.now() - lastData;
            if (stalled >= stallMs) throw new Error(`no_audio: no audio arrived for ${Math.round(stalled / 1000)} s`);
            await Promise.race([reader.ready(), sleep(Math.min(left, 1_000, stallMs - stalled))]);
            wake?.(); // clear the sleep timer if data came first
            // Re-anchor the clock: the next chunk is due now, not in the past (no catch-up burst).
            t0 = performance.now() - sent * CHUNK_MS;
            continue;
          }
          // Volume, ramped over this chunk when it changed.
          const g1 = gainTarget;
          if (fade) {
            const n = chunk.length / BYTES_PER_FRAME;
            const a = fade.left / fade.total;
            const b = Math.max(0, fade.left - n) / fade.total;
            chunk = applyGain(chunk, gainCur * a, g1 * b);
            fade.left -= n;
          } else {
            chunk = applyGain(chunk, gainCur, g1);
          }
          gainCur = g1;

          // Due time is anchored on t0, so timer lateness never accumulates into drift.
          const due = t0 + Math.max(0, sent - lead) * CHUNK_MS;
          for (let wait = due - performance.now(); wait > 0 && !cutRequested(); wait = due - performance.now()) {
            await sleep(wait);
          }
          if (cutRequested()) continue; // cut: this chunk never reaches the sink
          if (openFailure) throw openFailure;
          sink.write(chunk);
          lastFrameAt = wallNow();
          if (!firstDone) {
            firstDone = true;
            resolveFirst(lastFrameAt);
          }
          const n = chunk.length / BYTES_PER_FRAME;
          frames += n;
          srcFrames += n;
          sent++;
          lastData = performance.now();
          const f = sink.failure();
          if (f) throw new Error(f);
        }
      }
    } catch (e) {
      outcome = 'failed';
      reason = (e as Error).message;
    }

    await closeAll();
    const cut = outcome === 'failed' || (outcome === 'stopped' && !fade);
    const closed = await sink.close(cut ? 'drop' : 'drain').catch((e: Error) => ({ error: e.message, file: undefined }));
    if (closed.error && outcome !== 'failed') {
      outcome = 'failed';
      reason = closed.error;
    }
    return result(outcome, reason, closed.file);
  };

  const done = run()
    .catch((e: Error): PlaybackResult => ({ outcome: 'failed', framesWritten: 0, durationMs: 0, reason: e.message }))
    .then((r) => {
      if (!firstDone) {
        firstDone = true;
        rejectFirst(new Error(`nothing was played: ${r.outcome}${r.reason ? ` (${r.reason})` : ''}`));
      }
      return r;
    });

  return {
    firstFrame,
    done,
    stop(fadeMs = 0) {
      if (stopReq) return;
      stopReq = { fadeMs: Number.isFinite(fadeMs) && fadeMs > 0 ? fadeMs : 0 };
      wake?.();
    },
    setVolume(v: number) {
      gainTarget = volumeToGain(v);
    },
  };
}

// ---- base output ----------------------------------------------------------------------------

/** Shared play()/close() bookkeeping; subclasses provide the sink. */
export abstract class PacedOutput implements ZoneOutput {
  abstract readonly kind: string;
  private readonly active = new Set<PlaybackHandle>();
  private closed = false;

  protected abstract makeSink(req: PlayRequest): Sink;
  abstract check(): Promise<{ ok: boolean; detail: string }>;

  /** Whatever can be made ready before a command arrives (see ZoneOutput.prepare). */
  async prepare(): Promise<void> {}

  play(req: PlayRequest): PlaybackHandle {
    if (this.closed) throw new Error(`${this.kind} output is closed`);
    validateLabel(req.label);
    validateVolume(req.volume);
    if (!Array.isArray(req.sources) || req.sources.length === 0) throw new TypeError('play() needs at least one source');
    if (req.maxDurationMs !== undefined && !(req.maxDurationMs > 0)) {
      throw new RangeError(`maxDurationMs must be positive, got ${req.maxDurationMs}`);
    }
    const handle = startPlayback(req, this.makeSink(req));
    this.active.add(handle);
    void handle.done.then(() => this.active.delete(handle));
    return handle;
  }

  async close(): Promise<void> {
    this.closed = true;
    const all = [...this.active];
    for (const h of all) h.stop(0);
    await Promise.all(all.map((h) => h.done));
  }
}
