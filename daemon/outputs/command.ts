// `command` output: one process per playback (e.g. `aplay -q -f S16_LE -r 48000 -c 1`)
// with the paced PCM on its stdin. Argument array, never a shell.
import { type ChildProcess, spawn } from 'node:child_process';
import { constants as fsConstants } from 'node:fs';
import { access } from 'node:fs/promises';
import path from 'node:path';
import type { Writable } from 'node:stream';
import type { PlayRequest } from './output.js';
import { PacedOutput, type Sink } from './pacer.js';
import { BYTES_PER_FRAME, ON_AIR_RATE } from './wav.js';

export interface StartedProcess {
  child: ChildProcess;
  stdin: Writable;
  stderrTail(): string;
}

/** More than this queued in the pipe means the process is not consuming audio in real time. */
const MAX_BACKLOG_BYTES = 3 * ON_AIR_RATE * BYTES_PER_FRAME;

function lastLines(text: string, n = 3): string {
  return text
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter(Boolean)
    .slice(-n)
    .join(' | ');
}

/** Feeds a child process's stdin; used by the `command` and `alsa` outputs. */
export class ProcessSink implements Sink {
  readonly leadChunks: number;
  private proc: StartedProcess | undefined;
  private exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  private exited: Promise<void> = Promise.resolve();
  private error: string | undefined;
  private closing = false;

  constructor(
    private readonly what: string,
    private readonly start: () => StartedProcess,
    private readonly opts: {
      /** How 'drop' ends the process (default SIGTERM; ffmpeg drains its device on SIGTERM, so its output uses SIGKILL). */
      dropSignal?: NodeJS.Signals;
      /** Resolves when the device is free for this process (an earlier playback's process has exited). */
      deviceFree?: () => Promise<void>;
      /** Told when this playback's process has exited. */
      onExit?: (exited: Promise<void>) => void;
      /** See Sink.leadChunks. */
      leadChunks?: number;
    } = {},
  ) {
    this.leadChunks = opts.leadChunks ?? 0;
  }

  async open(): Promise<void> {
    const p = this.start();
    this.proc = p;
    p.stdin.on('error', (e: Error) => {
      // EPIPE usually means the process died: give its exit (with the real reason from
      // stderr) a moment to be reported first.
      setTimeout(() => {
        if (!this.closing) this.error ??= `${this.what}: writing audio failed: ${e.message}`;
      }, 500).unref();
    });
    this.exited = new Promise<void>((resolve) => {
      p.child.once('exit', (code, signal) => {
        this.exit = { code, signal };
        if (!this.closing) {
          this.error ??= `${this.what} exited during playback (code ${code}, signal ${signal}): ${lastLines(p.stderrTail()) || 'no error output'}`;
        }
        resolve();
      });
      // A process that failed to spawn never emits 'exit'.
      p.child.once('error', () => {
        this.exit ??= { code: null, signal: null };
        resolve();
      });
    });
    this.opts.onExit?.(this.exited);
    // A process started in advance (the alsa output keeps one waiting) has spawned already.
    if (p.child.pid === undefined || p.child.exitCode !== null || p.child.signalCode !== null) {
      await new Promise<void>((resolve, reject) => {
        if (p.child.exitCode !== null || p.child.signalCode !== null)
          return reject(new Error(`${this.what}: exited before playback: ${lastLines(p.stderrTail()) || 'no error output'}`));
        p.child.once('spawn', resolve);
        p.child.once('error', (e) => reject(new Error(`${this.what}: cannot start: ${e.message}`)));
      });
    }
    if (this.opts.deviceFree) await this.opts.deviceFree();
  }

  write(chunk: Buffer): void {
    const p = this.proc!;
    if (this.exit || this.error) return;
    if (p.stdin.writableLength > MAX_BACKLOG_BYTES) {
      this.error = `${this.what} is not consuming audio (${p.stdin.writableLength} bytes queued)`;
      return;
    }
    p.stdin.write(chunk);
  }

  failure(): string | undefined {
    return this.error;
  }

  // A method, so TypeScript does not keep the pre-await narrowing of `this.exit`.
  private exitStatus() {
    return this.exit;
  }

  async close(mode: 'drain' | 'drop'): Promise<{ error?: string }> {
    const p = this.proc;
    if (!p) return {};
    this.closing = true;
    if (this.exit) return { error: this.error };
    if (mode === 'drop') {
      // Preemption: whatever the process still buffers must not reach the speakers.
      p.child.kill(this.opts.dropSignal ?? 'SIGTERM');
      const t = setTimeout(() => p.child.kill('SIGKILL'), 1_000);
      await this.exited;
      clearTimeout(t);
      return { error: this.error };
    }
    p.stdin.end();
    // Let queued audio play out, but do not hang on a stuck process.
    const queuedMs = (p.stdin.writableLength / (ON_AIR_RATE * BYTES_PER_FRAME)) * 1000;
    const t = setTimeout(() => {
      this.error ??= `${this.what} did not exit after end of audio; killed`;
      p.child.kill('SIGKILL');
    }, queuedMs + 5_000);
    await this.exited;
    clearTimeout(t);
    const exit = this.exitStatus();
    if (!this.error && exit && exit.code !== 0) {
      this.error = `${this.what} failed (code ${exit.code}, signal ${exit.signal}): ${lastLines(p.stderrTail()) || 'no error output'}`;
    }
    return { error: this.error };
  }
}

/** Resolves a program name like the shell would (absolute/relative path, else PATH). */
export async function resolveProgram(program: string): Promise<string | undefined> {
  const candidates = program.includes('/')
    ? [program]
    : (process.env.PATH ?? '')
        .split(path.delimiter)
        .filter(Boolean)
        .map((d) => path.join(d, program));
  for (const c of candidates) {
    try {
      await access(c, fsConstants.X_OK);
      return c;
    } catch {
      // next
    }
  }
  return undefined;
}

export class CommandOutput extends PacedOutput {
  readonly kind = 'command';
  constructor(readonly argv: string[]) {
    super();
    if (!Array.isArray(argv) || argv.length === 0 || argv.some((a) => typeof a !== 'string')) {
      throw new TypeError('command output needs argv: a non-empty array of strings');
    }
  }

  protected makeSink(_req: PlayRequest): Sink {
    const [program, ...args] = this.argv;
    return new ProcessSink(`output command ${program}`, () => {
      const child = spawn(program, args, { stdio: ['pipe', 'ignore', 'pipe'], shell: false });
      let tail = '';
      child.stderr!.on('data', (b: Buffer) => {
        tail = (tail + b.toString('utf8')).slice(-8192);
      });
      return { child, stdin: child.stdin!, stderrTail: () => tail };
    });
  }

  async check(): Promise<{ ok: boolean; detail: string }> {
    const found = await resolveProgram(this.argv[0]);
    return found
      ? { ok: true, detail: `pipes PCM (s16le 48000 Hz mono) to ${[found, ...this.argv.slice(1)].join(' ')}` }
      : { ok: false, detail: `output command not found or not executable: ${this.argv[0]}` };
  }
}
