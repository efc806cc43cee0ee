// Transcode + normalise: the station's whole preparation of a clip (prepareAudio() as the media
// cache runs it: the pass that learns the duration and loudness, then the write; there is no
// separate probe any more) against the same two ffmpeg command lines typed by hand (measure,
// then apply with the measured values), on one file. Music, recorded speech and TTS speech.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { MAX_CLIP_MS } from '../daemon/media/cache.js';
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
  /** The station's preparation, every ffmpeg run it makes for a new clip included. */
  prepareMs: number[];
  bareMs: number[];
  /** ffmpeg runs the station made (the hand-written version makes 2). */
  passes: number;
  linear: boolean;
  /** Integrated loudness of the station's output (its own in-pass measurement). */
  outputLufs: number;
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
    let outputLufs = NaN;
    // Interleaved, so drift in machine load hits both sides alike.
    for (let i = 0; i < runs; i++) {
      let t = wallNow();
      // As MediaCache.ingest calls it (duration limit and admission included), at normal
      // priority like the hand-written side (the cache runs it at nice 19).
      const r = await prepareAudio(input, path.join(dir, `prepare-${i}.wav`), {
        targetLufs: I,
        truePeakDb: TP,
        ffmpegPath: bin,
        timeoutMs: 120_000,
        maxDurationMs: MAX_CLIP_MS,
        admit: (ms) => {
          if (ms > MAX_CLIP_MS) throw new Error(`${input} is longer than ${MAX_CLIP_MS} ms`);
        },
      });
      prepareMs.push(wallNow() - t);
      passes = r.passes;
      linear = r.linear;
      outputLufs = r.outputLufs;
      t = wallNow();
      await bareTwoPass(bin, input, path.join(dir, `bare-${i}.wav`));
      bareMs.push(wallNow() - t);
    }
    return { prepareMs, bareMs, passes, linear, outputLufs };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Vietnamese TTS as the CLI makes it (`loa announce --say`: espeak-ng, WAV); undefined without espeak-ng. */
export async function makeTtsClip(dir: string): Promise<string | undefined> {
  const out = path.join(dir, 'tts-vi.wav');
  const text = 'Thông báo của ủy ban nhân dân phường: ngày mai từ bảy giờ đến mười một giờ sẽ tạm ngừng cấp điện để sửa chữa đường dây. Đề nghị bà con chủ động sắp xếp công việc.';
  return new Promise((resolve) => {
    const p = spawn('espeak-ng', ['-v', 'vi', '--stdin', '-w', out], { stdio: ['pipe', 'ignore', 'ignore'] });
    p.on('error', () => resolve(undefined));
    p.on('close', (code) => resolve(code === 0 ? out : undefined));
    p.stdin.end(text);
  });
}

export { median };
