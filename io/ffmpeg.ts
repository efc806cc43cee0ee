// The one module that starts ffmpeg. Always an argument array via spawn, never a shell:
// file names and URLs come from the network and must not be interpreted.

import { type ChildProcess, spawn } from 'node:child_process';
import { accessSync, constants as fsConstants, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { setPriority } from 'node:os';
import path from 'node:path';
import type { Readable, Writable } from 'node:stream';

export type FfmpegSource = 'env' | 'config' | 'path' | 'ffmpeg-static' | '@ffmpeg-installer';

export interface FfmpegLocation {
  path: string;
  source: FfmpegSource;
}

/** Bytes of stderr kept per run: enough for the final error lines, bounded for long runs. */
export const STDERR_TAIL_BYTES = 64 * 1024;

export class FfmpegNotFoundError extends Error {
  override name = 'FfmpegNotFoundError';
}

function isExecutableFile(p: string): boolean {
  try {
    if (!statSync(p).isFile()) return false;
    accessSync(p, fsConstants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function onPath(name: string, pathEnv: string | undefined): string | undefined {
  for (const dir of (pathEnv ?? '').split(path.delimiter)) {
    if (!dir) continue;
    const candidate = path.join(dir, name);
    if (isExecutableFile(candidate)) return candidate;
  }
  return undefined;
}

const requireHere = createRequire(import.meta.url);

/** Optional npm packages that ship a binary. Either may be absent (optionalDependencies). */
function fromPackage(name: 'ffmpeg-static' | '@ffmpeg-installer/ffmpeg'): string | undefined {
  try {
    const mod: unknown = requireHere(name);
    const p = typeof mod === 'string' ? mod : mod && typeof mod === 'object' && typeof (mod as { path?: unknown }).path === 'string' ? (mod as { path: string }).path : undefined;
    return p && isExecutableFile(p) ? p : undefined;
  } catch {
    // Not installed, or the package threw because this platform has no binary.
    return undefined;
  }
}

const lookupCache = new Map<string, FfmpegLocation>();

/**
 * Locates ffmpeg. Order: LOA_FFMPEG env, then the configured path, then `ffmpeg` on PATH,
 * then the npm packages `ffmpeg-static` and `@ffmpeg-installer/ffmpeg`.
 * An explicit (env/config) path that is not executable is an error, not a silent fallback:
 * the operator asked for that binary. Results are cached per (env, config, PATH).
 */
export function findFfmpeg(opts: { configured?: string } = {}): FfmpegLocation {
  const envPath = process.env.LOA_FFMPEG || undefined;
  const key = JSON.stringify([envPath, opts.configured, process.env.PATH]);
  const cached = lookupCache.get(key);
  if (cached) return cached;

  let found: FfmpegLocation | undefined;
  if (envPath) {
    if (!isExecutableFile(envPath)) {
      throw new FfmpegNotFoundError(`LOA_FFMPEG=${envPath} is not an executable file`);
    }
    found = { path: envPath, source: 'env' };
  } else if (opts.configured) {
    if (!isExecutableFile(opts.configured)) {
      throw new FfmpegNotFoundError(`configured ffmpeg path ${opts.configured} is not an executable file`);
    }
    found = { path: opts.configured, source: 'config' };
  } else {
    const sys = onPath('ffmpeg', process.env.PATH);
    if (sys) found = { path: sys, source: 'path' };
    else {
      const st = fromPackage('ffmpeg-static');
      if (st) found = { path: st, source: 'ffmpeg-static' };
      else {
        const inst = fromPackage('@ffmpeg-installer/ffmpeg');
        if (inst) found = { path: inst, source: '@ffmpeg-installer' };
      }
    }
  }
  if (!found) {
    throw new FfmpegNotFoundError(
      'ffmpeg not found: set LOA_FFMPEG or the config ffmpeg path, install it (apt-get install ffmpeg), ' + 'or install the npm package @ffmpeg-installer/ffmpeg',
    );
  }
  lookupCache.set(key, found);
  return found;
}

/** Forgets cached lookups (after PATH or LOA_FFMPEG changed). */
export function clearFfmpegCache(): void {
  lookupCache.clear();
}

/** `ffmpeg -version` first line's version token, e.g. "5.1.6-0+deb12u1" or "N-47683-g0e8eb07980-static". */
export async function ffmpegVersion(ffmpegPath: string = findFfmpeg().path): Promise<string> {
  const { stdout } = await runFfmpeg(['-hide_banner', '-version'], { ffmpegPath, timeoutMs: 10_000 });
  const first = stdout.toString('utf8').split('\n')[0] ?? '';
  const m = /^ffmpeg version (\S+)/.exec(first);
  if (!m) throw new Error(`unexpected output from ${ffmpegPath} -version: ${JSON.stringify(first)}`);
  return m[1];
}

// ---------------------------------------------------------------------------------------

export interface FfmpegErrorInit {
  args: readonly string[];
  ffmpegPath: string;
  code: number | null;
  signal: NodeJS.Signals | null;
  stderr: string;
  timedOut?: boolean;
  aborted?: boolean;
  spawnError?: Error;
}

/** ffmpeg failed: non-zero exit, killed by timeout/abort, or could not be started. */
export class FfmpegError extends Error {
  override name = 'FfmpegError';
  readonly args: readonly string[];
  readonly ffmpegPath: string;
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  /** Last STDERR_TAIL_BYTES of stderr. */
  readonly stderr: string;
  /** The last meaningful stderr lines: ffmpeg's own account of what went wrong. */
  readonly reason: string;
  readonly timedOut: boolean;
  readonly aborted: boolean;

  constructor(init: FfmpegErrorInit) {
    const reason = init.spawnError ? init.spawnError.message : meaningfulStderr(init.stderr);
    const what = init.spawnError
      ? `cannot start ffmpeg (${init.ffmpegPath})`
      : init.timedOut
        ? 'ffmpeg timed out and was killed'
        : init.aborted
          ? 'ffmpeg was aborted'
          : init.code !== null
            ? `ffmpeg exited with code ${init.code}`
            : `ffmpeg was killed by ${init.signal}`;
    super(reason ? `${what}: ${reason}` : what, init.spawnError ? { cause: init.spawnError } : undefined);
    this.args = init.args;
    this.ffmpegPath = init.ffmpegPath;
    this.code = init.code;
    this.signal = init.signal;
    this.stderr = init.stderr;
    this.reason = reason;
    this.timedOut = !!init.timedOut;
    this.aborted = !!init.aborted;
  }
}

// Lines that describe the input/output or progress, never the failure.
const NOISE = [
  /^\s/, // indented stream/metadata details
  /^(Input|Output) #\d/,
  /^Stream mapping:/,
  /^Press \[q\]/,
  /^(size|frame)=/,
  /^video:\S+ audio:/,
  /^ffmpeg version /,
  /^\[[^\]]+\]\s*$/, // "[Parsed_loudnorm_0 @ 0x...]" header line before JSON
  /^[{}]$/,
  /^\s*"/,
];

/** Extracts the last few lines that explain a failure, with pointer addresses removed. */
export function meaningfulStderr(stderr: string, maxLines = 3): string {
  const lines = stderr
    .split(/\r?\n|\r/)
    .map((l) => l.replace(/ @ 0x[0-9a-f]+\]/g, ']').trimEnd())
    .filter((l) => l.trim() !== '' && !NOISE.some((re) => re.test(l)));
  return lines.slice(-maxLines).join(' | ');
}

/** Keeps only the newest `limit` bytes of a growing text stream. */
class TailBuffer {
  private chunks: Buffer[] = [];
  private size = 0;
  constructor(private readonly limit: number) {}
  push(b: Buffer): void {
    this.chunks.push(b);
    this.size += b.length;
    while (this.size - (this.chunks[0]?.length ?? 0) >= this.limit && this.chunks.length > 1) {
      this.size -= this.chunks.shift()!.length;
    }
  }
  text(): string {
    const all = Buffer.concat(this.chunks);
    return all.subarray(Math.max(0, all.length - this.limit)).toString('utf8');
  }
}

export interface RunFfmpegOptions {
  timeoutMs?: number;
  stdin?: Buffer | Readable;
  signal?: AbortSignal;
  ffmpegPath?: string;
  /** stdout beyond this is an error (default 256 MiB) — guards against runaway pipes. */
  maxStdoutBytes?: number;
  /** Unix niceness (0..19) for background work that must not slow what is on air. */
  niceness?: number;
  /** Sees stderr as it arrives (e.g. to stop a run as soon as its input's header says enough). */
  onStderr?: (text: string) => void;
}

export interface FfmpegResult {
  code: number;
  stdout: Buffer;
  stderr: string;
}

/**
 * Runs ffmpeg to completion. Resolves on exit code 0; rejects with FfmpegError otherwise
 * (also on timeout or abort, which SIGKILL the process).
 */
export function runFfmpeg(args: string[], opts: RunFfmpegOptions = {}): Promise<FfmpegResult> {
  const handle = spawnFfmpeg(args, {
    ffmpegPath: opts.ffmpegPath,
    stdin: opts.stdin,
    signal: opts.signal,
    timeoutMs: opts.timeoutMs,
  });
  if (opts.niceness !== undefined && handle.pid !== undefined) {
    try {
      setPriority(handle.pid, opts.niceness);
    } catch {
      /* not permitted here: run at normal priority */
    }
  }
  if (opts.onStderr) {
    const fn = opts.onStderr;
    handle.child.stderr?.on('data', (b: Buffer) => fn(b.toString('utf8')));
  }
  const maxStdout = opts.maxStdoutBytes ?? 256 * 1024 * 1024;
  const out: Buffer[] = [];
  let outBytes = 0;
  let overflow = false;
  handle.stdout.on('data', (b: Buffer) => {
    outBytes += b.length;
    if (outBytes > maxStdout) {
      if (!overflow) {
        overflow = true;
        handle.kill('SIGKILL');
      }
      return;
    }
    out.push(b);
  });
  return handle.exited.then((r) => {
    if (overflow) {
      throw new FfmpegError({
        args,
        ffmpegPath: handle.ffmpegPath,
        code: r.code,
        signal: r.signal,
        stderr: `${r.stderr}\nstdout exceeded ${maxStdout} bytes`,
      });
    }
    if (r.error) throw r.error;
    return { code: 0, stdout: Buffer.concat(out), stderr: r.stderr };
  });
}

export interface SpawnFfmpegOptions {
  ffmpegPath?: string;
  /** Buffer/Readable is piped in; 'pipe' exposes `stdin` for the caller to write (live PCM). */
  stdin?: Buffer | Readable | 'pipe';
  signal?: AbortSignal;
  timeoutMs?: number;
}

export interface FfmpegExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  stderr: string;
  /** Set when the run counts as failed (non-zero exit, timeout, abort, spawn failure). */
  error?: FfmpegError;
}

export interface FfmpegProcess {
  readonly ffmpegPath: string;
  readonly args: readonly string[];
  readonly pid: number | undefined;
  readonly child: ChildProcess;
  readonly stdout: Readable;
  /** Only when spawned with stdin: 'pipe'. */
  readonly stdin: Writable | null;
  /** Always resolves (never rejects) once the process has exited and stdio closed. */
  readonly exited: Promise<FfmpegExit>;
  stderrTail(): string;
  /** Kills the process (default SIGKILL: ffmpeg may otherwise flush for a while). */
  kill(signal?: NodeJS.Signals): void;
}

/** Starts ffmpeg for streaming use (stdout consumed by the caller). */
export function spawnFfmpeg(args: string[], opts: SpawnFfmpegOptions = {}): FfmpegProcess {
  const ffmpegPath = opts.ffmpegPath ?? findFfmpeg().path;
  const stdinMode = opts.stdin === undefined ? 'ignore' : 'pipe';
  const child = spawn(ffmpegPath, args, { stdio: [stdinMode, 'pipe', 'pipe'], shell: false });
  const stderr = new TailBuffer(STDERR_TAIL_BYTES);
  child.stderr!.on('data', (b: Buffer) => stderr.push(b));

  let timedOut = false;
  let aborted = false;
  let spawnError: Error | undefined;
  const kill = (sig: NodeJS.Signals = 'SIGKILL') => {
    if (child.exitCode === null && child.signalCode === null) child.kill(sig);
  };

  const timer =
    opts.timeoutMs !== undefined
      ? setTimeout(() => {
          timedOut = true;
          kill('SIGKILL');
        }, opts.timeoutMs)
      : undefined;
  const onAbort = () => {
    aborted = true;
    kill('SIGKILL');
  };
  if (opts.signal) {
    if (opts.signal.aborted) onAbort();
    else opts.signal.addEventListener('abort', onAbort, { once: true });
  }

  if (child.stdin) {
    // ffmpeg may exit before reading all input (error, -t): EPIPE is expected then.
    child.stdin.on('error', () => {});
    if (Buffer.isBuffer(opts.stdin)) child.stdin.end(opts.stdin);
    else if (opts.stdin && opts.stdin !== 'pipe') opts.stdin.pipe(child.stdin);
  }

  const exited = new Promise<FfmpegExit>((resolve) => {
    child.on('error', (e) => {
      spawnError = e;
    });
    // 'close' (not 'exit') so all stderr has been read.
    child.on('close', (code, signal) => {
      if (timer) clearTimeout(timer);
      opts.signal?.removeEventListener('abort', onAbort);
      const text = stderr.text();
      const failed = spawnError || timedOut || aborted || code !== 0;
      resolve({
        code,
        signal,
        stderr: text,
        error: failed ? new FfmpegError({ args, ffmpegPath, code, signal, stderr: text, timedOut, aborted, spawnError }) : undefined,
      });
    });
  });

  return {
    ffmpegPath,
    args,
    get pid() {
      return child.pid;
    },
    child,
    stdout: child.stdout!,
    stdin: opts.stdin === 'pipe' ? child.stdin : null,
    exited,
    stderrTail: () => stderr.text(),
    kill,
  };
}
