// Diagnostic preload (not used by `npm run bench`): runs the media cache's loudnorm ffmpeg
// passes at nice 19, to test the proposed fix for the uncached time-to-air row (the on-air
// decoder must not share the CPU equally with background normalisation).
// NODE_OPTIONS="--import .../dist/bench/nice-transcodes.js"
import childProcess from 'node:child_process';
import { syncBuiltinESMExports } from 'node:module';
import os from 'node:os';

const original = childProcess.spawn;
childProcess.spawn = function (this: unknown, ...args: unknown[]) {
  const child = (original as (...a: unknown[]) => ReturnType<typeof original>).apply(this, args);
  const argv = Array.isArray(args[1]) ? (args[1] as string[]) : [];
  if (argv.some((a) => a.includes('loudnorm')) && child.pid) {
    try {
      os.setPriority(child.pid, 19);
    } catch {
      /* exited already */
    }
  }
  return child;
} as typeof original;
syncBuiltinESMExports();
