// Zone outputs: where PCM leaves the station. Every output is fed by the same real-time
// pacer (pacer.ts) so a `file` output behaves exactly like a sound card over time, which is
// what lets tests observe "what went on air".
import { AlsaOutput } from './alsa.js';
import { CommandOutput } from './command.js';
import { FileOutput } from './file.js';
import { NullOutput } from './null.js';

export {
  CHUNK_BYTES,
  CHUNK_FRAMES,
  CHUNK_MS,
  VOLUME_DB_PER_STEP,
  validateLabel,
  validateVolume,
  volumeToDb,
  volumeToGain,
} from './pacer.js';

/**
 * Audio to play, in order. `wav` must already be the on-air format (s16le 48 kHz mono, as the
 * media cache stores it). `pcm-stream` is raw s16le 48 kHz mono (e.g. ffmpeg decoding a live
 * relay); it is consumed as it arrives and ends at the stream's end or after maxDurationMs.
 * When a stream source finishes or the playback ends, the output destroys the stream, so a
 * producer process writing into it gets EPIPE and exits.
 */
export type PcmSource =
  | { kind: 'wav'; path: string }
  /**
   * Raw s16le 48 kHz mono held in memory (the emergency chime): it airs with no disk access.
   * WAVs behind it are opened while it plays; one that cannot be opened fails the playback then.
   */
  | { kind: 'pcm'; data: Buffer }
  | { kind: 'pcm-stream'; stream: NodeJS.ReadableStream; maxDurationMs: number }
  /** Generated on the fly, chunk by chunk: a one-hour gap between repeats costs no memory. */
  | { kind: 'silence'; ms: number };

export interface PlayRequest {
  sources: PcmSource[];
  /**
   * 0..100, linear in dB: gain = (volume - 100) * 0.5 dB. 100 = 0 dB (unchanged),
   * 90 = -5 dB, 80 = -10 dB, 50 = -25 dB, 1 = -49.5 dB, 0 = muted (silence, still paced).
   */
  volume: number;
  /** Used in file names: [a-z0-9-_.], 1..100 chars. */
  label: string;
  /** Upper bound on the whole playback; reaching it ends with outcome 'completed', reason 'max-duration'. */
  maxDurationMs?: number;
  /**
   * A source that delivers nothing for this long fails the playback with reason
   * `no_audio: …`, so an airing whose audio never arrives frees its zones. Default 30 s.
   */
  stallMs?: number;
}

export interface PlaybackResult {
  outcome: 'completed' | 'stopped' | 'failed';
  /** PCM frames (samples, mono) handed to the sink. */
  framesWritten: number;
  /** Audio duration handed to the sink (framesWritten / 48). */
  durationMs: number;
  reason?: string;
  /** The WAV written by a `file` output. */
  file?: string;
  /**
   * Wall-clock ms (as firstFrame) when the last chunk was handed to the sink: when a cut
   * airing really left the output (its 20 ms of audio play out after that on a sound card).
   */
  lastFrameAt?: number;
}

export interface PlaybackHandle {
  /**
   * Wall-clock ms (performance.timeOrigin + performance.now()) when the first chunk was
   * handed to the sink. Rejects if nothing was played (failure, stop first, empty input).
   */
  firstFrame: Promise<number>;
  /** Always resolves, never rejects. */
  done: Promise<PlaybackResult>;
  /**
   * Stops within one chunk (20 ms). fadeMs 0 (default, for preemption) cuts at once and drops
   * audio buffered in a device process; fadeMs > 0 plays a linear fade-out of the continuing
   * audio first and lets it drain.
   */
  stop(fadeMs?: number): void;
  /** Takes effect on the next chunk, ramped across it (no click). */
  setVolume(v: number): void;
}

export interface ZoneOutput {
  readonly kind: string;
  /** Throws synchronously on an invalid request (label, volume, no sources). */
  play(req: PlayRequest): PlaybackHandle;
  check(): Promise<{ ok: boolean; detail: string }>;
  /**
   * Makes the output ready for the next playback before anyone asks for one (the `file`
   * directory exists; the `alsa` output has its ffmpeg started and waiting), so an emergency
   * pays none of that set-up between the command and its first frame. Never throws.
   */
  prepare?(): Promise<void>;
  /** Stops (cuts) every playback still running and waits for them to end. */
  close(): Promise<void>;
}

export type OutputConfig = { type: 'file'; dir: string } | { type: 'null' } | { type: 'command'; argv: string[] } | { type: 'alsa'; device: string; ffmpegPath?: string };

export function createOutput(cfg: OutputConfig): ZoneOutput {
  switch (cfg.type) {
    case 'file':
      return new FileOutput(cfg.dir);
    case 'null':
      return new NullOutput();
    case 'command':
      return new CommandOutput(cfg.argv);
    case 'alsa':
      return new AlsaOutput(cfg.device, cfg.ffmpegPath);
    default: {
      const never: never = cfg;
      throw new TypeError(`unknown output type: ${JSON.stringify(never)}`);
    }
  }
}
