// Bare ffmpeg: wall time from spawn() to the first byte of decoded PCM on its stdout.
// This is the floor under any "decode an uncached clip and put it on air" path.
import { spawn } from 'node:child_process';
import { liveDecodeArgs } from '../daemon/media/prepare.js';
import { findFfmpeg } from '../io/ffmpeg.js';
import { sleep, wallNow } from './lib.js';

/**
 * The arguments the daemon uses to decode a clip that is not prepared yet straight to the
 * output, single-pass loudness normalisation included (daemon/media/prepare.ts liveDecodeArgs,
 * at the default target), here reading a file rather than the station's pipe.
 */
export function daemonDecodeArgs(file: string): string[] {
  return liveDecodeArgs(file, { targetLufs: -16, truePeakDb: -1.5 });
}

/** The same decode without the loudness filter (what the daemon ran before it normalised first airings). */
export function plainDecodeArgs(file: string): string[] {
  return ['-hide_banner', '-nostdin', '-loglevel', 'error', '-i', file, '-map', '0:a:0', '-f', 's16le', '-acodec', 'pcm_s16le', '-ar', '48000', '-ac', '1', 'pipe:1'];
}

export function ffmpegPath(): string {
  return findFfmpeg().path;
}

/** One run: ms from the spawn call to the first stdout byte (the process is then killed). */
export function firstByteMs(args: string[], bin = ffmpegPath()): Promise<number> {
  return new Promise((resolve, reject) => {
    const t0 = wallNow();
    const p = spawn(bin, args, { stdio: ['ignore', 'pipe', 'ignore'] });
    let got: number | undefined;
    p.stdout.once('data', () => {
      got = wallNow() - t0;
      p.kill('SIGKILL');
    });
    p.on('error', reject);
    p.on('close', () => (got === undefined ? reject(new Error(`ffmpeg produced no output: ${args.join(' ')}`)) : resolve(got)));
  });
}

/**
 * `serial` runs one after another; `concurrent` starts `width` at once per round. `args`: the
 * decode arguments (default: the daemon's, daemonDecodeArgs).
 */
export async function bareFirstByte(
  files: string[],
  opts: { serial: number; rounds: number; width: number; args?: (file: string) => string[] },
): Promise<{ serial: number[]; concurrent: number[] }> {
  const bin = ffmpegPath();
  const args = opts.args ?? daemonDecodeArgs;
  // Warm the page cache and the binary once.
  for (const f of files.slice(0, 2)) await firstByteMs(args(f), bin);
  const serial: number[] = [];
  for (let i = 0; i < opts.serial; i++) serial.push(await firstByteMs(args(files[i % files.length]!), bin));
  const concurrent: number[] = [];
  for (let r = 0; r < opts.rounds; r++) {
    const f = files[r % files.length]!;
    concurrent.push(...(await Promise.all(Array.from({ length: opts.width }, () => firstByteMs(args(f), bin)))));
    await sleep(100);
  }
  return { serial, concurrent };
}
