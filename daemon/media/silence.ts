import { existsSync, mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { wavHeader, ON_AIR_RATE, BYTES_PER_FRAME } from '../outputs/wav.js';

/** A silent on-air WAV of `ms` milliseconds (the gap between repeats), made once and reused. */
export function silenceWav(dir: string, ms: number): string {
  const path = join(dir, `silence-${ms}ms.wav`);
  if (existsSync(path)) return path;
  mkdirSync(dir, { recursive: true });
  const frames = Math.round((ms / 1000) * ON_AIR_RATE);
  const data = Buffer.alloc(frames * BYTES_PER_FRAME);
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, Buffer.concat([wavHeader(data.length), data]));
  renameSync(tmp, path);
  return path;
}
