// Transcode + normalise: prepareAudio() (daemon/media/prepare.ts) against the same two ffmpeg
// command lines typed by hand (measure, then apply with the measured values), on one file.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { prepareAudio } from '../daemon/media/prepare.js';
import { ffmpegPath } from './ffmpeg-first-byte.js';
import { median, wallNow } from './lib.js';

// Same target as the daemon's default loudness config and prepareAudio's defaults.
const I = -16;
const TP = -1.5;
const LRA = 11;
const CHAIN = 'aresample=48000,aformat=channel_layouts=mono';

function ffmpeg(bin: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const p = spawn(bin, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    p.stderr.on('data', (b: Buffer) => (err += b.toString()));
    p.on('error', reject);
    p.on('close', (code) => (code === 0 ? resolve(err) : reject(new Error(`ffmpeg exited ${code}: ${err.slice(-500)}`))));
  });
}

/** The hand-written two-pass loudnorm: `ffmpeg ... loudnorm=print_format=json -f null -`, then apply. */
async function bareTwoPass(bin: string, input: string, output: string): Promise<void> {
  const common = ['-hide_banner', '-nostdin', '-nostats'];
  const stderr = await ffmpeg(bin, [...common, '-i', input, '-map', '0:a:0', '-af', `${CHAIN},loudnorm=I=${I}:TP=${TP}:LRA=${LRA}:print_format=json`, '-f', 'null', '-']);
  const json = stderr.slice(stderr.lastIndexOf('{'), stderr.lastIndexOf('}') + 1);
  const m = JSON.parse(json) as Record<string, string>;
  const lra = Number(m.input_lra) === 0 ? 0.01 : m.input_lra;
  await ffmpeg(bin, [
    ...common,
    '-i',
    input,
    '-map',
    '0:a:0',
    '-af',
    `${CHAIN},loudnorm=I=${I}:TP=${TP}:LRA=${LRA}:measured_I=${m.input_i}:measured_TP=${m.input_tp}:measured_LRA=${lra}:measured_thresh=${m.input_thresh}:offset=${m.target_offset}:linear=true:print_format=json,aresample=48000`,
    '-ar',
    '48000',
    '-ac',
    '1',
    '-c:a',
    'pcm_s16le',
    '-f',
    'wav',
    '-y',
    output,
  ]);
}

export interface TranscodeResult {
  prepareMs: number[];
  bareMs: number[];
  passes: number;
  linear: boolean;
}

export async function transcodeBench(input: string, runs: number): Promise<TranscodeResult> {
  const bin = ffmpegPath();
  const dir = mkdtempSync(path.join(os.tmpdir(), 'loa-bench-transcode-'));
  try {
    // Warm-up (page cache, binary), not timed.
    await bareTwoPass(bin, input, path.join(dir, 'warm.wav'));
    const prepareMs: number[] = [];
    const bareMs: number[] = [];
    let passes = 0;
    let linear = false;
    // Interleaved, so drift in machine load hits both sides alike.
    for (let i = 0; i < runs; i++) {
      let t = wallNow();
      const r = await prepareAudio(input, path.join(dir, `prepare-${i}.wav`), { targetLufs: I, truePeakDb: TP, ffmpegPath: bin });
      prepareMs.push(wallNow() - t);
      passes = r.passes;
      linear = r.linear;
      t = wallNow();
      await bareTwoPass(bin, input, path.join(dir, `bare-${i}.wav`));
      bareMs.push(wallNow() - t);
    }
    return { prepareMs, bareMs, passes, linear };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export { median };
