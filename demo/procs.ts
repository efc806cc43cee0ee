// Child processes of the demo: the real `loa` CLI and real `loa-station` daemons.
import { type ChildProcess, spawn } from 'node:child_process';
import { createWriteStream, type WriteStream } from 'node:fs';
import { createServer } from 'node:net';
import path from 'node:path';

export const ROOT = path.resolve(import.meta.dirname, '../..');
export const LOA_BIN = path.join(ROOT, 'dist/controller-cli/main.js');
export const STATION_BIN = path.join(ROOT, 'dist/daemon/main.js');

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Run `loa ARGS` to completion (the fleet comes from LOA_FLEET in env); `stdin` is written to its standard input. */
export function runLoa(args: string[], env: NodeJS.ProcessEnv, stdin?: string): Promise<RunResult> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [LOA_BIN, ...args], { env, stdio: [stdin === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'] });
    if (stdin !== undefined) child.stdin!.end(stdin);
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', (e) => resolve({ code: -1, stdout, stderr: stderr + String(e) }));
    child.on('close', (code, signal) => resolve({ code: code ?? (signal ? 128 : -1), stdout, stderr }));
  });
}

/** A long-running child whose output goes to a log file and can be waited on. */
export class LoggedProcess {
  readonly proc: ChildProcess;
  private buffer = '';
  private readonly log: WriteStream;
  private readonly waiters: { re: RegExp; resolve: (line: string) => void }[] = [];
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;

  constructor(
    readonly name: string,
    argv: string[],
    env: NodeJS.ProcessEnv,
    logFile: string,
  ) {
    this.log = createWriteStream(logFile, { flags: 'a' });
    this.proc = spawn(process.execPath, argv, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    const onData = (d: Buffer) => {
      this.log.write(d);
      this.buffer = (this.buffer + d.toString()).slice(-200_000);
      for (const w of [...this.waiters]) {
        const line = this.buffer.split('\n').find((l) => w.re.test(l));
        if (line !== undefined) {
          this.waiters.splice(this.waiters.indexOf(w), 1);
          w.resolve(line);
        }
      }
    };
    this.proc.stdout!.on('data', onData);
    this.proc.stderr!.on('data', onData);
    this.exited = new Promise((resolve) => this.proc.on('exit', (code, signal) => resolve({ code, signal })));
    void this.exited.then(() => this.log.end());
  }

  get running(): boolean {
    return this.proc.exitCode === null && this.proc.signalCode === null;
  }

  /** Forget earlier output so the next waitFor only sees new lines (used after a restart). */
  clearBuffer(): void {
    this.buffer = '';
  }

  output(): string {
    return this.buffer;
  }

  waitFor(re: RegExp, timeoutMs: number): Promise<string> {
    const line = this.buffer.split('\n').find((l) => re.test(l));
    if (line !== undefined) return Promise.resolve(line);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters.splice(
          this.waiters.findIndex((w) => w.resolve === done),
          1,
        );
        reject(new Error(`${this.name}: no line matching ${re} within ${timeoutMs / 1000} s; last output:\n${this.buffer.slice(-1500)}`));
      }, timeoutMs);
      const done = (l: string) => {
        clearTimeout(timer);
        resolve(l);
      };
      this.waiters.push({ re, resolve: done });
      void this.exited.then(({ code, signal }) => {
        if (this.waiters.some((w) => w.resolve === done)) {
          clearTimeout(timer);
          this.waiters.splice(
            this.waiters.findIndex((w) => w.resolve === done),
            1,
          );
          reject(new Error(`${this.name} exited (${signal ?? code}) before printing ${re}; last output:\n${this.buffer.slice(-1500)}`));
        }
      });
    });
  }

  async stop(signal: NodeJS.Signals = 'SIGTERM', timeoutMs = 12_000): Promise<void> {
    if (!this.running) return;
    this.proc.kill(signal);
    const t = setTimeout(() => this.proc.kill('SIGKILL'), timeoutMs);
    await this.exited;
    clearTimeout(t);
  }
}

/** Run `fn` over `items` with at most `limit` at a time. */
export async function pool<T, R>(items: T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

/** `preferred` when nothing listens there on 127.0.0.1, else 0 (the program picks a free port). */
export function portOrFree(preferred: number): Promise<number> {
  return new Promise((resolve) => {
    const probe = createServer();
    probe.once('error', () => resolve(0));
    probe.listen(preferred, '127.0.0.1', () => probe.close(() => resolve(preferred)));
  });
}
