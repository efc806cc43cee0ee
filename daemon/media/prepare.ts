// Turns any input ffmpeg can decode into the on-air format (WAV s16le 48 kHz mono),
// loudness-normalised with EBU R128 so every announcement sounds equally loud.

import { randomBytes } from 'node:crypto';
import { rename, stat, unlink } from 'node:fs/promises';
import path from 'node:path';
import { FfmpegError, runFfmpeg } from '../../io/ffmpeg.js';
import type { RelayScheme } from '../../protocol/index.js';
import { ON_AIR_RATE, readWavInfo } from '../outputs/wav.js';

export type MediaErrorCode =
  | 'not-found' // no such file
  | 'empty' // zero bytes
  | 'invalid' // ffmpeg cannot parse it: corrupt or an unsupported format
  | 'no-audio' // parsed, but has no audio stream
  | 'silent' // decodes to (near) silence: nothing to normalise
  | 'timeout'
  | 'truncated' // decodes, but ffmpeg says data is missing: a cut-off clip must not air as if whole
  | 'failed'; // any other ffmpeg failure

/** A media input could not be prepared. `ffmpegReason` is ffmpeg's own explanation, when it ran. */
export class MediaError extends Error {
  override name = 'MediaError';
  constructor(
    readonly code: MediaErrorCode,
    message: string,
    readonly input: string,
    readonly ffmpegReason?: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export interface PrepareOptions {
  targetLufs?: number;
  truePeakDb?: number;
  lra?: number;
  /** Per ffmpeg pass (default 120 s). */
  timeoutMs?: number;
  ffmpegPath?: string;
  signal?: AbortSignal;
  /** Run ffmpeg at this Unix niceness (the station's cache fills in the background). */
  niceness?: number;
  /** Longest audio worth decoding: the measuring pass stops past it (a file without a duration in its header). */
  maxDurationMs?: number;
  /**
   * Told the clip's duration as soon as it is known: from the header, before anything is
   * decoded, or else after the measuring pass. Throw to refuse the clip; the error is passed on
   * unchanged (the cache refuses clips longer than its limit or larger than its quota).
   */
  admit?: (durationMs: number) => void;
}

export interface PrepareResult {
  durationMs: number;
  inputLufs: number;
  inputTruePeakDb: number;
  /** Integrated loudness of the written file, measured (ebur128) while it was written. */
  outputLufs: number;
  outputTruePeakDb: number;
  /** A gain (and, for peaky speech, a peak limiter): no loudness dynamics. false: loudnorm's dynamic mode. */
  linear: boolean;
  /**
   * dB of gain applied before a peak limiter, when the input's peaks were too high for a
   * pure gain to reach the target (typical of raw speech); 0 when no limiter was needed.
   */
  limiterPreGainDb: number;
  sampleRate: 48000;
  channels: 1;
  /** ffmpeg runs used, the measuring one included (2 unless a limited clip missed the target and was written again). */
  passes: number;
}

export interface LoudnormStats {
  input_i: number;
  input_tp: number;
  input_lra: number;
  input_thresh: number;
  output_i: number;
  output_tp: number;
  output_lra: number;
  output_thresh: number;
  normalization_type: string;
  target_offset: number;
}

/** Parses the last loudnorm JSON block from ffmpeg's stderr. */
export function parseLoudnormJson(stderr: string): LoudnormStats {
  const blocks = [...stderr.matchAll(/\[Parsed_loudnorm_\d+[^\]]*\]\s*\n(\{[\s\S]*?\})/g)];
  const last = blocks.at(-1);
  if (!last) throw new Error('loudnorm printed no JSON statistics');
  const raw = JSON.parse(last[1]) as Record<string, string>;
  const num = (k: string): number => {
    const v = raw[k];
    if (v === undefined) throw new Error(`loudnorm JSON lacks ${k}`);
    // Silence is reported as "-inf".
    return v === '-inf' ? -Infinity : v === 'inf' ? Infinity : Number(v);
  };
  return {
    input_i: num('input_i'),
    input_tp: num('input_tp'),
    input_lra: num('input_lra'),
    input_thresh: num('input_thresh'),
    output_i: num('output_i'),
    output_tp: num('output_tp'),
    output_lra: num('output_lra'),
    output_thresh: num('output_thresh'),
    normalization_type: String(raw.normalization_type ?? ''),
    target_offset: num('target_offset'),
  };
}

const COMMON = ['-hide_banner', '-nostdin', '-nostats'];
/** What ffmpeg says (at its default log level) while decoding a clip that was cut short. */
const TRUNCATED = /filesize and duration do not match|Packet corrupt/i;
// No encoder tags, so the same input yields the same bytes (the cache is content-addressed).
const BITEXACT = ['-map_metadata', '-1', '-fflags', '+bitexact', '-flags:a', '+bitexact'];
// Resample and downmix first so every measurement is of what will actually go on air.
const BASE_CHAIN = `aresample=${ON_AIR_RATE},aformat=channel_layouts=mono`;

function classify(err: unknown, input: string, stage: string): MediaError {
  if (err instanceof MediaError) return err;
  if (err instanceof FfmpegError) {
    const r = err.reason;
    const code: MediaErrorCode = err.timedOut
      ? 'timeout'
      : /matches no streams|does not contain any stream|no audio stream/i.test(r)
        ? 'no-audio'
        : /Invalid data found|Invalid argument|could not find codec|Unknown format|moov atom not found|Failed to read frame|Error while decoding|End of file|Invalid frame|header/i.test(
              r,
            )
          ? 'invalid'
          : 'failed';
    const what = {
      timeout: 'timed out',
      'no-audio': 'has no audio stream',
      invalid: 'is corrupt or not a supported audio format',
      failed: 'could not be processed',
    }[code as 'timeout' | 'no-audio' | 'invalid' | 'failed'];
    return new MediaError(code, `${stage}: ${input} ${what} (ffmpeg: ${r || 'no reason given'})`, input, r, { cause: err });
  }
  const msg = err instanceof Error ? err.message : String(err);
  return new MediaError('failed', `${stage}: ${input}: ${msg}`, input, undefined, { cause: err });
}

async function checkInputFile(input: string): Promise<number> {
  try {
    const st = await stat(input);
    if (!st.isFile()) throw new MediaError('not-found', `${input} is not a regular file`, input);
    return st.size;
  } catch (e) {
    if (e instanceof MediaError) throw e;
    throw new MediaError('not-found', `input file not found: ${input}`, input, undefined, { cause: e });
  }
}

export interface ProbeResult {
  durationMs: number;
  container: string;
  codec: string;
  sampleRate: number;
  channels: number;
}

const CHANNEL_WORDS: Record<string, number> = { mono: 1, stereo: 2, '2.1': 3, quad: 4, '4.0': 4, '5.0': 5, '5.1': 6, '7.1': 8 };

/**
 * Describes an audio file using only ffmpeg (no ffprobe: the npm-shipped ffmpeg has none).
 * Duration comes from the "Duration:" header line; when that is N/A (raw streams) the file
 * is decoded once and the final timestamp is used.
 */
export async function probeAudio(
  input: string,
  opts: { timeoutMs?: number; ffmpegPath?: string; niceness?: number /** Stop decoding a headerless file past this: it is too long either way. */; maxDurationMs?: number } = {},
): Promise<ProbeResult> {
  const size = await checkInputFile(input);
  const timeoutMs = opts.timeoutMs ?? 30_000;
  let stderr: string;
  try {
    // -t 0 with a null output: opens and maps the audio stream, decodes nothing, exits 0 if valid.
    ({ stderr } = await runFfmpeg([...COMMON, '-i', input, '-map', '0:a:0', '-t', '0', '-f', 'null', '-'], {
      timeoutMs,
      ffmpegPath: opts.ffmpegPath,
      niceness: opts.niceness,
    }));
  } catch (e) {
    const err = classify(e, input, 'probe');
    if (size === 0) throw new MediaError('empty', `probe: ${input} is empty (0 bytes; ffmpeg: ${err.ffmpegReason ?? ''})`, input, err.ffmpegReason);
    throw err;
  }
  const container = /Input #0, (.+?), from '/.exec(stderr)?.[1] ?? 'unknown';
  const stream = /Stream #0:\d+[^:]*: Audio: ([^\s,]+)[^\n]*?, (\d+) Hz, ([^,\n]+)/.exec(stderr);
  if (!stream) throw new MediaError('no-audio', `probe: ${input} has no audio stream`, input);
  const chWord = stream[3].trim();
  const channels = CHANNEL_WORDS[chWord] ?? (Number.parseInt(chWord, 10) || 0);
  let durationMs: number | undefined;
  const d = /Duration: (\d+):(\d\d):(\d\d(?:\.\d+)?)/.exec(stderr);
  if (d) durationMs = Math.round((Number(d[1]) * 3600 + Number(d[2]) * 60 + Number(d[3])) * 1000);
  if (durationMs === undefined) durationMs = await decodedDurationMs(input, timeoutMs, opts.ffmpegPath, opts.maxDurationMs, opts.niceness);
  return { durationMs, container, codec: stream[1], sampleRate: Number(stream[2]), channels };
}

async function decodedDurationMs(input: string, timeoutMs: number, ffmpegPath?: string, maxDurationMs?: number, niceness?: number): Promise<number> {
  try {
    // -stats (not -nostats) so the final "time=" progress line is printed. A limit stops a
    // hostile headerless file from costing hours of decoding: past it, it is refused anyway.
    const limit = maxDurationMs !== undefined ? ['-t', String(Math.ceil(maxDurationMs / 1000) + 1)] : [];
    const { stderr } = await runFfmpeg(['-hide_banner', '-nostdin', '-stats', '-i', input, '-map', '0:a:0', ...limit, '-f', 'null', '-'], {
      timeoutMs,
      ffmpegPath,
      niceness,
    });
    const times = [...stderr.matchAll(/time=(\d+):(\d\d):(\d\d(?:\.\d+)?)/g)];
    const t = times.at(-1);
    if (!t) throw new MediaError('invalid', `probe: ${input}: ffmpeg reported no duration`, input);
    return Math.round((Number(t[1]) * 3600 + Number(t[2]) * 60 + Number(t[3])) * 1000);
  } catch (e) {
    throw classify(e, input, 'probe');
  }
}

function loudnormArgs(target: { I: number; TP: number; LRA: number }): string {
  return `loudnorm=I=${target.I}:TP=${target.TP}:LRA=${target.LRA}`;
}

/** Integrated loudness, its gate, loudness range and true peak, from ffmpeg's ebur128 summary. */
export interface Ebur128Stats {
  i: number;
  thresh: number;
  lra: number;
  tp: number;
}

/** Parses the last ebur128 summary in ffmpeg's stderr (`truePeak`: it ran with peak=true; else tp is NaN). */
export function parseEbur128(stderr: string, truePeak = true): Ebur128Stats {
  const at = stderr.lastIndexOf('Summary:');
  if (at < 0) throw new Error('ebur128 printed no summary');
  const summary = stderr.slice(at);
  const num = (re: RegExp, what: string): number => {
    const m = re.exec(summary);
    if (!m) throw new Error(`ebur128 summary lacks ${what}`);
    return m[1] === '-inf' ? -Infinity : m[1] === 'inf' ? Infinity : Number(m[1]);
  };
  return {
    i: num(/I:\s+(-?[\d.]+|-inf) LUFS/, 'I'),
    thresh: num(/Threshold:\s+(-?[\d.]+|-inf) LUFS/, 'threshold'),
    lra: num(/LRA:\s+(-?[\d.]+) LU/, 'LRA'),
    tp: truePeak ? num(/Peak:\s+(-?[\d.]+|-inf) dBFS/, 'true peak') : NaN,
  };
}

/** Extra gain a limited clip starts with: the limiter takes about that much loudness back (speech: 0.8-1.3 LU at 0). */
const LIMITER_HEADROOM_DB = 1.5;
/** A limited clip this close to the target is kept; further off, it is written again with a corrected gain. */
const LIMITED_TOLERANCE_LU = 0.5;
const MAX_LIMITED_WRITES = 3;

function hms(h: string, m: string, sec: string): number {
  return Math.round((Number(h) * 3600 + Number(m) * 60 + Number(sec)) * 1000);
}

/**
 * EBU R128 loudness normalisation to WAV s16le 48 kHz mono, in two ffmpeg runs.
 *
 * 1. Measure (loudnorm's analysis): integrated loudness, range, true peak, and the duration
 *    (from the header while it is read, so a clip that is too long is refused before anything
 *    is decoded; else from what was decoded, stopping past `maxDurationMs`).
 * 2. Write, measuring what is written (ebur128) on a branch of the same run:
 *    - a plain gain when it keeps the true peak under the limit and the range is within target
 *      (the exact result of loudnorm's linear mode, without its 192 kHz analysis);
 *    - speech, whose peaks sit far above its loudness: gain plus a fast peak limiter, with a
 *      little extra gain for the loudness the limiter takes back. A result further than
 *      0.5 LU from the target is written again with a corrected gain (rare; at most 3 writes);
 *    - a loudness range too wide for any gain: loudnorm's dynamic mode, reported linear:false.
 *
 * The output is written to a temp file beside `outputPath` and renamed into place, so
 * readers never see a partial file.
 */
export async function prepareAudio(inputPath: string, outputPath: string, opts: PrepareOptions = {}): Promise<PrepareResult> {
  const target = { I: opts.targetLufs ?? -16, TP: opts.truePeakDb ?? -1.5, LRA: opts.lra ?? 11 };
  const base = opts.timeoutMs ?? 120_000;
  const run = (timeoutMs: number) => ({ timeoutMs, ffmpegPath: opts.ffmpegPath, signal: opts.signal, niceness: opts.niceness });
  const size = await checkInputFile(inputPath);
  let passes = 0;
  let refused: unknown;

  // ---- 1. measure (and learn the duration) ------------------------------------------------
  let first: Ebur128Stats;
  let durationMs: number | undefined;
  try {
    passes++;
    const abort = new AbortController();
    const signal = opts.signal ? AbortSignal.any([opts.signal, abort.signal]) : abort.signal;
    let head = '';
    const limit = opts.maxDurationMs !== undefined ? ['-t', String(Math.ceil(opts.maxDurationMs / 1000) + 1)] : [];
    const { stderr } = await runFfmpeg(
      [...COMMON, '-i', inputPath, '-map', '0:a:0', ...limit, '-af', `${BASE_CHAIN},${loudnormArgs(target)}:print_format=json`, '-f', 'null', '-'],
      {
        ...run(base + (opts.maxDurationMs ?? 0) / 4),
        signal,
        onStderr: (text) => {
          if (durationMs !== undefined || refused !== undefined || head.length > 65_536) return;
          head += text;
          const d = /Duration: (\d+):(\d\d):(\d\d(?:\.\d+)?)/.exec(head);
          if (!d) return;
          durationMs = hms(d[1]!, d[2]!, d[3]!);
          try {
            opts.admit?.(durationMs);
          } catch (e) {
            refused = e;
            abort.abort();
          }
        },
      },
    );
    if (refused !== undefined) throw refused;
    const cut = TRUNCATED.exec(stderr);
    if (cut) {
      const line =
        stderr
          .split('\n')
          .find((l) => TRUNCATED.test(l))
          ?.trim() ?? cut[0];
      throw new MediaError('truncated', `measure loudness: ${inputPath} is truncated: ${line}`, inputPath, line);
    }
    if (durationMs === undefined) {
      // No duration in the header (a raw stream): what was decoded, from the final progress line.
      const t = [...stderr.matchAll(/time=(\d+):(\d\d):(\d\d(?:\.\d+)?)/g)].at(-1);
      if (!t) throw new MediaError('invalid', `measure loudness: ${inputPath}: ffmpeg reported no duration`, inputPath);
      durationMs = hms(t[1]!, t[2]!, t[3]!);
      try {
        opts.admit?.(durationMs);
      } catch (e) {
        refused = e;
        throw e;
      }
    }
    const m = parseLoudnormJson(stderr);
    first = { i: m.input_i, tp: m.input_tp, lra: m.input_lra, thresh: m.input_thresh };
  } catch (e) {
    if (refused !== undefined) throw refused;
    const err = classify(e, inputPath, 'measure loudness');
    if (size === 0) {
      throw new MediaError('empty', `measure loudness: ${inputPath} is empty (0 bytes; ffmpeg: ${err.ffmpegReason ?? ''})`, inputPath, err.ffmpegReason);
    }
    throw err;
  }
  // Below the R128 absolute gate (-70 LUFS) loudness is undefined: nothing sensible to amplify.
  if (!Number.isFinite(first.i) || first.i <= -70) {
    throw new MediaError('silent', `measure loudness: ${inputPath} is silent (integrated loudness ${first.i} LUFS)`, inputPath);
  }

  // ---- 2. write, measuring what is written -----------------------------------------------
  const dir = path.dirname(outputPath);
  const tmp = path.join(dir, `.${path.basename(outputPath)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  const write = async (chain: string, truePeak: boolean): Promise<Ebur128Stats> => {
    passes++;
    const { stderr } = await runFfmpeg(
      [
        ...COMMON,
        '-i',
        inputPath,
        '-filter_complex',
        `[0:a:0]${chain},asplit=2[out][tap];[tap]ebur128=peak=${truePeak ? 'true' : 'none'}:framelog=verbose[measured]`,
        '-map',
        '[out]',
        '-ar',
        String(ON_AIR_RATE),
        '-ac',
        '1',
        '-c:a',
        'pcm_s16le',
        ...BITEXACT,
        '-f',
        'wav',
        '-y',
        tmp,
        '-map',
        '[measured]',
        '-f',
        'null',
        '-',
      ],
      run(base + (durationMs ?? 0)),
    );
    return parseEbur128(stderr, truePeak);
  };

  const gain = target.I - first.i;
  // loudnorm's own admission test for linear mode (af_loudnorm.c init()).
  const linearPossible = first.tp + gain <= target.TP && first.lra <= target.LRA;
  let out: Ebur128Stats;
  let linear = true;
  let preGainDb = 0;
  try {
    if (linearPossible) {
      // A pure gain moves the true peak by exactly the gain: no need to oversample for it.
      out = await write(`${BASE_CHAIN},volume=${gain.toFixed(2)}dB`, false);
      out.tp = first.tp + gain;
    } else if (first.lra <= target.LRA) {
      // Limit sample peaks 1 dB under the true-peak target: inter-sample peaks need headroom.
      const limit = (10 ** ((target.TP - 1) / 20)).toFixed(4);
      const tried: { g: number; i: number }[] = [];
      let g = gain + LIMITER_HEADROOM_DB;
      for (;;) {
        out = await write(`${BASE_CHAIN},volume=${g.toFixed(2)}dB,alimiter=limit=${limit}:level=0:attack=5:release=50`, true);
        tried.push({ g, i: out.i });
        if (Math.abs(out.i - target.I) <= LIMITED_TOLERANCE_LU || tried.length >= MAX_LIMITED_WRITES) break;
        // Limiting eats part of any extra gain: correct along the slope seen so far (secant).
        const [a, b] = tried.slice(-2);
        const slope = a && b && b.g !== a.g ? Math.min(1, Math.max(0.2, (b.i - a.i) / (b.g - a.g))) : 0.6;
        g += (target.I - out.i) / slope;
        if (g > 40) break;
      }
      preGainDb = g;
    } else {
      // Too wide a loudness range for one gain: loudnorm's dynamic mode (it works at 192 kHz).
      linear = false;
      out = await write(`${BASE_CHAIN},${loudnormArgs(target)},aresample=${ON_AIR_RATE}`, true);
    }
    const info = await readWavInfo(tmp);
    if (info.frames === 0) throw new MediaError('invalid', `transcode: ${inputPath} decoded to no audio`, inputPath);
    await rename(tmp, outputPath);
    return {
      durationMs: Math.round(info.durationMs),
      inputLufs: first.i,
      inputTruePeakDb: first.tp,
      outputLufs: out.i,
      outputTruePeakDb: out.tp,
      linear,
      limiterPreGainDb: preGainDb,
      sampleRate: ON_AIR_RATE,
      channels: 1,
      passes,
    };
  } catch (e) {
    await unlink(tmp).catch(() => {});
    throw classify(e, inputPath, 'transcode');
  }
}

/**
 * ffmpeg arguments that decode a clip that is not prepared yet (its first airing) straight to
 * raw s16le 48 kHz mono PCM on stdout, through loudnorm in its single-pass (dynamic) mode:
 * the clip airs within about a loudness unit of the target (±2 LU) without the measuring pass
 * that preparation makes first. `input` is `pipe:0` when the station feeds the bytes itself.
 */
export function liveDecodeArgs(input: string, loudness: { targetLufs: number; truePeakDb: number; lra?: number }): string[] {
  const target = { I: loudness.targetLufs, TP: loudness.truePeakDb, LRA: loudness.lra ?? 11 };
  return [
    '-hide_banner',
    '-nostdin',
    '-loglevel',
    'error',
    '-i',
    input,
    '-map',
    '0:a:0',
    '-af',
    // loudnorm works at 192 kHz in dynamic mode: back to the on-air rate after it.
    `${BASE_CHAIN},${loudnormArgs(target)},aresample=${ON_AIR_RATE}`,
    '-f',
    's16le',
    '-acodec',
    'pcm_s16le',
    '-ar',
    String(ON_AIR_RATE),
    '-ac',
    '1',
    'pipe:1',
  ];
}

/**
 * ffmpeg protocols each relay scheme needs. ffmpeg is told exactly these
 * (`-protocol_whitelist`), so a relay URL or a playlist it fetches can never make ffmpeg open
 * a local file, a subprocess or another protocol: `file:`, `concat:`, `subfile:` and the rest
 * are refused by ffmpeg itself, not only by our URL check.
 */
const RELAY_PROTOCOLS: Record<RelayScheme, string[]> = {
  http: ['http', 'tcp'],
  https: ['https', 'http', 'tls', 'tcp'],
  rtsp: ['rtsp', 'rtp', 'udp', 'tcp'],
  rtmp: ['rtmp', 'tcp'],
  srt: ['srt', 'udp'],
};

export function relayProtocolWhitelist(schemes: readonly RelayScheme[]): string {
  return [...new Set(schemes.flatMap((s) => RELAY_PROTOCOLS[s]))].join(',');
}

/**
 * ffmpeg arguments that decode a live relay to raw s16le 48 kHz mono PCM on stdout for
 * `durationSec` seconds, reconnecting on dropped http(s) connections. Only `allowed` schemes
 * (the fleet's `relay.schemes`) are accepted, and ffmpeg is limited to their protocols.
 */
export function decodeStreamArgs(url: string, durationSec: number, allowed: readonly RelayScheme[] = ['http', 'https']): string[] {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new TypeError(`live relay URL is not a valid URL: ${url}`);
  }
  const scheme = parsed.protocol.replace(/:$/, '') as RelayScheme;
  if (!allowed.includes(scheme)) {
    throw new TypeError(`live relay URL scheme ${parsed.protocol} is not allowed here (allowed: ${allowed.join(', ')})`);
  }
  if (!Number.isFinite(durationSec) || durationSec <= 0) {
    throw new RangeError(`live relay duration must be a positive number of seconds, got ${durationSec}`);
  }
  const http = scheme === 'http' || scheme === 'https';
  return [
    '-hide_banner',
    '-nostdin',
    '-nostats',
    '-loglevel',
    'warning',
    '-protocol_whitelist',
    relayProtocolWhitelist([scheme]),
    ...(http ? ['-reconnect', '1', '-reconnect_streamed', '1', '-reconnect_delay_max', '2'] : []),
    // A live source is heard as it is spoken: ffmpeg's default probing (5 MB, 5 s) holds about
    // 1.4 s of a live WAV before the first sample comes out; 32 KiB identifies every format a
    // relay carries (WAV, MP3, AAC, Ogg, HLS playlists). (Not `-fflags nobuffer`: with it an
    // MP3 stream decoded short.)
    '-probesize',
    '32768',
    '-analyzeduration',
    '0',
    '-i',
    parsed.href,
    '-map',
    '0:a:0',
    '-t',
    String(durationSec),
    '-af',
    BASE_CHAIN,
    '-ar',
    String(ON_AIR_RATE),
    '-ac',
    '1',
    '-f',
    's16le',
    '-c:a',
    'pcm_s16le',
    'pipe:1',
  ];
}
