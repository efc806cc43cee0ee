// Observes audio files the way a listener would: format, loudness, silence, level.
// Uses findFfmpeg(), so it works with only the npm-shipped ffmpeg (no ffprobe needed).
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { readWavInfo, type WavInfo } from '../daemon/outputs/wav.js';
import { runFfmpeg } from '../io/ffmpeg.js';

export type { WavInfo };

/** Parsed WAV header: sample rate, channels, bits, duration from the data size. */
export function wavInfo(path: string): Promise<WavInfo> {
  return readWavInfo(path);
}

async function analyse(path: string, filter: string): Promise<string> {
  const { stderr } = await runFfmpeg(['-hide_banner', '-nostdin', '-nostats', '-i', path, '-map', '0:a:0', '-af', filter, '-f', 'null', '-'], { timeoutMs: 60_000 });
  return stderr;
}

/** Integrated loudness (LUFS) and true peak (dBTP) from ffmpeg's ebur128 summary. */
export async function measureLoudness(path: string): Promise<{ integratedLufs: number; truePeakDb?: number; lra: number }> {
  const stderr = await analyse(path, 'ebur128=peak=true');
  const summary = stderr.slice(stderr.lastIndexOf('Summary:'));
  const i = /I:\s+(-?[\d.]+|-inf) LUFS/.exec(summary);
  if (!i) throw new Error(`no integrated loudness in ebur128 summary for ${path}:\n${summary}`);
  const lra = /LRA:\s+(-?[\d.]+) LU/.exec(summary);
  const peak = /Peak:\s+(-?[\d.]+|-inf) dBFS/.exec(summary);
  const num = (s: string) => (s === '-inf' ? -Infinity : Number(s));
  return { integratedLufs: num(i[1]), truePeakDb: peak ? num(peak[1]) : undefined, lra: lra ? Number(lra[1]) : 0 };
}

/** Silent stretches (seconds) quieter than noiseDb lasting at least minSec. */
export async function detectSilence(path: string, opts: { noiseDb?: number; minSec?: number } = {}): Promise<Array<{ start: number; end: number }>> {
  const noise = opts.noiseDb ?? -50;
  const min = opts.minSec ?? 0.5;
  const stderr = await analyse(path, `silencedetect=noise=${noise}dB:d=${min}`);
  const out: Array<{ start: number; end: number }> = [];
  let open: number | undefined;
  for (const m of stderr.matchAll(/silence_(start|end): (-?[\d.]+)/g)) {
    if (m[1] === 'start') open = Number(m[2]);
    else if (open !== undefined) {
      out.push({ start: open, end: Number(m[2]) });
      open = undefined;
    }
  }
  // Older ffmpeg does not print silence_end when the file ends in silence.
  if (open !== undefined) {
    const d = /Duration: (\d+):(\d\d):(\d\d(?:\.\d+)?)/.exec(stderr);
    const end = d ? Number(d[1]) * 3600 + Number(d[2]) * 60 + Number(d[3]) : Infinity;
    out.push({ start: open, end });
  }
  return out;
}

/** Mean volume (dBFS) from volumedetect. */
export async function meanVolumeDb(path: string): Promise<number> {
  return (await volumeStats(path)).meanDb;
}

/** Mean and max volume (dBFS) from volumedetect. */
export async function volumeStats(path: string): Promise<{ meanDb: number; maxDb: number }> {
  const stderr = await analyse(path, 'volumedetect');
  const mean = /mean_volume: (-?[\d.]+|-inf) dB/.exec(stderr);
  const max = /max_volume: (-?[\d.]+|-inf) dB/.exec(stderr);
  if (!mean || !max) throw new Error(`volumedetect printed nothing for ${path}`);
  const num = (s: string) => (s === '-inf' ? -Infinity : Number(s));
  return { meanDb: num(mean[1]), maxDb: num(max[1]) };
}

/** Absolute path of a committed fixture in audio-fixtures/ (works from source and from dist/). */
export function fixture(name: string): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5; i++) {
    const candidate = path.join(dir, 'audio-fixtures', name);
    if (existsSync(candidate)) return candidate;
    dir = path.dirname(dir);
  }
  throw new Error(`audio fixture ${name} not found (run npm run fixtures)`);
}
