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
}

export interface PrepareResult {
  durationMs: number;
  inputLufs: number;
  inputTruePeakDb: number;
  /** Integrated loudness of the written file as measured by loudnorm's output analyser. */
  outputLufs: number;
  outputTruePeakDb: number;
  /** loudnorm's final pass reported normalization_type "linear" (a pure gain, no dynamics). */
  linear: boolean;
  /**
   * dB of gain applied before a peak limiter, when the input's peaks were too high for a
   * pure gain to reach the target (typical of raw speech); 0 when no limiter was needed.
   */
  limiterPreGainDb: number;
  sampleRate: 48000;
  channels: 1;
  /** ffmpeg runs used (2 for the plain two-pass case). */
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
const MAX_LIMITER_ROUNDS = 4;

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

/**
 * Two-pass EBU R128 loudness normalisation to WAV s16le 48 kHz mono.
 *
 * Pass 1 measures; pass 2 applies loudnorm with the measurements and linear=true, which
 * ffmpeg honours only when a pure gain keeps the true peak under the limit (and the LRA
 * within target). Speech often fails that test: its peaks sit ~18 dB over its loudness.
 * Rather than let loudnorm fall back to its dynamic mode (audible pumping, and it tends to
 * land ~1 LU short on short clips), such input first gets a gain plus a fast peak limiter,
 * re-measured until a linear final pass is possible. If that still does not converge the
 * dynamic fallback is used and reported as linear:false — never an error.
 *
 * The output is written to a temp file beside `outputPath` and renamed into place, so
 * readers never see a partial file.
 */
export async function prepareAudio(inputPath: string, outputPath: string, opts: PrepareOptions = {}): Promise<PrepareResult> {
  const target = { I: opts.targetLufs ?? -16, TP: opts.truePeakDb ?? -1.5, LRA: opts.lra ?? 11 };
  const run = { timeoutMs: opts.timeoutMs ?? 120_000, ffmpegPath: opts.ffmpegPath, signal: opts.signal, niceness: opts.niceness };
  const size = await checkInputFile(inputPath);
  let passes = 0;

  const measure = async (chain: string): Promise<LoudnormStats> => {
    passes++;
    const { stderr } = await runFfmpeg([...COMMON, '-i', inputPath, '-map', '0:a:0', '-af', `${chain},${loudnormArgs(target)}:print_format=json`, '-f', 'null', '-'], run);
    const cut = TRUNCATED.exec(stderr);
    if (cut) {
      const line =
        stderr
          .split('\n')
          .find((l) => TRUNCATED.test(l))
          ?.trim() ?? cut[0];
      throw new MediaError('truncated', `measure loudness: ${inputPath} is truncated: ${line}`, inputPath, line);
    }
    return parseLoudnormJson(stderr);
  };

  let first: LoudnormStats;
  try {
    first = await measure(BASE_CHAIN);
  } catch (e) {
    const err = classify(e, inputPath, 'measure loudness');
    if (size === 0) {
      throw new MediaError('empty', `measure loudness: ${inputPath} is empty (0 bytes; ffmpeg: ${err.ffmpegReason ?? ''})`, inputPath, err.ffmpegReason);
    }
    throw err;
  }
  // Below the R128 absolute gate (-70 LUFS) loudness is undefined: nothing sensible to amplify.
  if (!Number.isFinite(first.input_i) || first.input_i <= -70) {
    throw new MediaError('silent', `measure loudness: ${inputPath} is silent (integrated loudness ${first.input_i} LUFS)`, inputPath);
  }

  // loudnorm's own admission test for linear mode (af_loudnorm.c init()).
  const linearPossible = (s: LoudnormStats) => s.input_tp + (target.I - s.input_i) <= target.TP && s.input_lra <= target.LRA;

  let chain = BASE_CHAIN;
  let stats = first;
  let preGainDb = 0;
  if (!linearPossible(first) && first.input_lra <= target.LRA) {
    // Limit sample peaks 1 dB under the true-peak target: inter-sample peaks need headroom.
    const limit = (10 ** ((target.TP - 1) / 20)).toFixed(4);
    let gain = target.I - first.input_i;
    for (let round = 0; round < MAX_LIMITER_ROUNDS; round++) {
      const candidate = `${BASE_CHAIN},volume=${gain.toFixed(2)}dB,alimiter=limit=${limit}:level=0:attack=5:release=50`;
      let s: LoudnormStats;
      try {
        s = await measure(candidate);
      } catch (e) {
        throw classify(e, inputPath, 'measure limited loudness');
      }
      if (linearPossible(s)) {
        chain = candidate;
        stats = s;
        preGainDb = gain;
        break;
      }
      // Limiting ate some loudness: ask for that much more, plus a little, so the final
      // linear pass turns the gain down (always allowed) rather than up.
      gain += target.I - s.input_i + 0.5;
      if (gain > 40) break;
    }
  }

  // loudnorm refuses linear mode when measured_LRA is exactly 0 (its "not given" value), which
  // a steady tone rounds to; 0.01 LU is within the 2-decimal rounding of the measurement.
  const measuredLra = stats.input_lra === 0 ? 0.01 : stats.input_lra;
  const filter =
    `${chain},${loudnormArgs(target)}` +
    `:measured_I=${stats.input_i}:measured_TP=${stats.input_tp}:measured_LRA=${measuredLra}` +
    `:measured_thresh=${stats.input_thresh}:offset=${stats.target_offset}:linear=true:print_format=json` +
    // Dynamic mode upsamples to 192 kHz; bring it back to the on-air rate.
    `,aresample=${ON_AIR_RATE}`;

  const dir = path.dirname(outputPath);
  const tmp = path.join(dir, `.${path.basename(outputPath)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  let final: LoudnormStats;
  try {
    passes++;
    const { stderr } = await runFfmpeg(
      [...COMMON, '-i', inputPath, '-map', '0:a:0', '-af', filter, '-ar', String(ON_AIR_RATE), '-ac', '1', '-c:a', 'pcm_s16le', ...BITEXACT, '-f', 'wav', '-y', tmp],
      run,
    );
    final = parseLoudnormJson(stderr);
    const info = await readWavInfo(tmp);
    if (info.frames === 0) throw new MediaError('invalid', `transcode: ${inputPath} decoded to no audio`, inputPath);
    await rename(tmp, outputPath);
    return {
      durationMs: Math.round(info.durationMs),
      inputLufs: first.input_i,
      inputTruePeakDb: first.input_tp,
      outputLufs: final.output_i,
      outputTruePeakDb: final.output_tp,
      linear: final.normalization_type === 'linear',
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
