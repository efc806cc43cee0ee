// `alsa` output: ffmpeg (the one ffmpeg driver, io/ffmpeg.ts) plays the paced PCM on an ALSA
// device, one process per playback so a stop can drop the device's buffer by killing it.
import { findFfmpeg, runFfmpeg, spawnFfmpeg } from '../../io/ffmpeg.js';
import { ProcessSink } from './command.js';
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

export class AlsaOutput extends PacedOutput {
  readonly kind = 'alsa';
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

  protected makeSink(_req: PlayRequest): Sink {
    return new ProcessSink(`ffmpeg alsa output (${this.device})`, () => {
      const p = spawnFfmpeg(alsaArgs(this.device), { ffmpegPath: this.ffmpeg(), stdin: 'pipe' });
      return { child: p.child, stdin: p.stdin!, stderrTail: p.stderrTail };
    });
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
