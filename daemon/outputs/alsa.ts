// `alsa` output: ffmpeg (the one ffmpeg driver, io/ffmpeg.ts) plays the paced PCM on an ALSA
// device, one process per playback so a stop can drop the device's buffer by killing it.
import { findFfmpeg, runFfmpeg, spawnFfmpeg } from '../../io/ffmpeg.js';
import { ProcessSink, type StartedProcess } from './command.js';
import type { PlayRequest } from './output.js';
import { PacedOutput, type Sink } from './pacer.js';
import { ON_AIR_RATE } from './wav.js';

export function alsaArgs(device: string): string[] {
  return [
    '-hide_banner',
    '-nostdin', // stdin carries PCM; never treat it as keyboard commands
    '-nostats',
    '-loglevel',
    'error',
    // Raw PCM needs no probing; without these ffmpeg buffers input before opening the
    // device, which adds start-up latency and delays noticing a dead device.
    '-probesize',
    '32',
    '-analyzeduration',
    '0',
    '-f',
    's16le',
    '-ar',
    String(ON_AIR_RATE),
    '-ac',
    '1',
    '-i',
    'pipe:0',
    '-f',
    'alsa',
    device,
  ];
}

/** How long after an airing starts its replacement ffmpeg is started (not while the airing starts). */
const STANDBY_DELAY_MS = 1_000;
/** A waiting ffmpeg that died on its own is started again after this. */
const STANDBY_RETRY_MS = 10_000;
/** Longest wait for an earlier playback's ffmpeg to let go of the device. */
const DEVICE_HANDOVER_MS = 2_000;

export class AlsaOutput extends PacedOutput {
  readonly kind = 'alsa';
  /** An ffmpeg started in advance, waiting on stdin: ffmpeg's own start-up is off the air path. */
  private standby: StartedProcess | undefined;
  private standbyTimer: NodeJS.Timeout | undefined;
  private prepared = false;
  private closing = false;
  /** Exits of this output's playback processes still running: the device is theirs until then. */
  private readonly holding = new Set<Promise<void>>();

  constructor(
    readonly device: string,
    private readonly ffmpegPath?: string,
  ) {
    super();
    if (typeof device !== 'string' || device === '') throw new TypeError('alsa output needs a device name, e.g. "default" or "hw:0,0"');
  }

  private ffmpeg(): string {
    return findFfmpeg({ configured: this.ffmpegPath }).path;
  }

  private spawn(): StartedProcess {
    const p = spawnFfmpeg(alsaArgs(this.device), { ffmpegPath: this.ffmpeg(), stdin: 'pipe' });
    return { child: p.child, stdin: p.stdin!, stderrTail: p.stderrTail };
  }

  /**
   * Keep one ffmpeg waiting for the next playback. It opens the device only when audio
   * arrives, so a waiting process never holds a device another process is using.
   */
  override async prepare(): Promise<void> {
    this.prepared = true;
    this.startStandby();
  }

  private startStandby(delayMs = 0): void {
    if (!this.prepared || this.closing || this.standby || this.standbyTimer) return;
    if (delayMs > 0) {
      this.standbyTimer = setTimeout(() => {
        this.standbyTimer = undefined;
        this.startStandby();
      }, delayMs);
      this.standbyTimer.unref();
      return;
    }
    let p: StartedProcess;
    try {
      p = this.spawn();
    } catch {
      return; // ffmpeg missing: check() and the playback itself say so
    }
    p.child.once('error', () => undefined);
    p.child.once('exit', () => {
      if (this.standby !== p) return;
      this.standby = undefined;
      this.startStandby(STANDBY_RETRY_MS);
    });
    this.standby = p;
  }

  /** The waiting ffmpeg if there is a live one, else a new one; the next waits from a second later. */
  private take(): StartedProcess {
    const p = this.standby;
    this.standby = undefined;
    this.startStandby(STANDBY_DELAY_MS);
    if (p && p.child.exitCode === null && p.child.signalCode === null) return p;
    return this.spawn();
  }

  protected makeSink(_req: PlayRequest): Sink {
    // A device (hw:N,M) takes one process at a time: a preempting airing's ffmpeg gets the
    // audio only once the preempted one has exited (it is killed at once, see dropSignal).
    const before = [...this.holding];
    return new ProcessSink(`ffmpeg alsa output (${this.device})`, () => this.take(), {
      // ffmpeg drains the device on SIGTERM; a cut must not play what is buffered.
      dropSignal: 'SIGKILL',
      // ffmpeg's raw PCM demuxer reads 2048-byte packets: one chunk ahead lets it play the
      // first at once, and keeps 20 ms in the device buffer against timer lateness.
      leadChunks: 1,
      deviceFree: async () => {
        if (before.length === 0) return;
        await Promise.race([Promise.all(before), new Promise((r) => setTimeout(r, DEVICE_HANDOVER_MS).unref())]);
      },
      onExit: (exited) => {
        this.holding.add(exited);
        void exited.then(() => this.holding.delete(exited));
      },
    });
  }

  override async close(): Promise<void> {
    this.closing = true;
    if (this.standbyTimer) clearTimeout(this.standbyTimer);
    this.standbyTimer = undefined;
    const p = this.standby;
    this.standby = undefined;
    if (p && p.child.exitCode === null && p.child.signalCode === null) {
      const gone = new Promise<void>((resolve) => p.child.once('exit', () => resolve()));
      p.child.kill('SIGKILL');
      await gone;
    }
    await super.close();
  }

  async check(): Promise<{ ok: boolean; detail: string }> {
    let ffmpegPath: string;
    try {
      ffmpegPath = this.ffmpeg();
    } catch (e) {
      return { ok: false, detail: (e as Error).message };
    }
    try {
      const { stdout } = await runFfmpeg(['-hide_banner', '-muxers'], { ffmpegPath, timeoutMs: 10_000 });
      return /^\s*E\s+alsa\s/m.test(stdout.toString('utf8'))
        ? { ok: true, detail: `ffmpeg ${ffmpegPath} plays to ALSA device ${this.device}` }
        : { ok: false, detail: `ffmpeg ${ffmpegPath} was built without the alsa muxer` };
    } catch (e) {
      return { ok: false, detail: `cannot run ffmpeg ${ffmpegPath}: ${(e as Error).message}` };
    }
  }
}
