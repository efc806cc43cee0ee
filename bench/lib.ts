// Shared helpers for `npm run bench`: statistics, wall clock, real `loa-station` child
// processes (parsed pino logs), /proc readers, small process utilities.
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';

/** Repository root (this file runs from dist/bench/). */
export const ROOT = path.resolve(import.meta.dirname, '../..');
export const STATION_BIN = path.join(ROOT, 'dist/daemon/main.js');
export const LOA_BIN = path.join(ROOT, 'dist/controller-cli/main.js');
export const fixture = (name: string) => path.join(ROOT, 'audio-fixtures', name);

/**
 * Wall clock in ms with sub-ms resolution, the same definition the daemon uses for
 * "first frame on air" (performance.timeOrigin + performance.now()), so figures taken in the
 * bench process and in a station process are on one clock.
 */
export const wallNow = (): number => performance.timeOrigin + performance.now();

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

// ---- statistics -------------------------------------------------------------------------------

/** Nearest-rank percentile (p in 0..100) of an unsorted sample. */
export function percentile(values: number[], p: number): number {
  if (values.length === 0) return NaN;
  const s = [...values].sort((a, b) => a - b);
  const rank = Math.max(1, Math.ceil((p / 100) * s.length));
  return s[Math.min(rank, s.length) - 1]!;
}

export function median(values: number[]): number {
  if (values.length === 0) return NaN;
  const s = [...values].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

export interface Dist {
  n: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
  min: number;
}

export function dist(values: number[]): Dist {
  return {
    n: values.length,
    p50: percentile(values, 50),
    p95: percentile(values, 95),
    p99: percentile(values, 99),
    max: values.length ? Math.max(...values) : NaN,
    min: values.length ? Math.min(...values) : NaN,
  };
}

export const ms = (v: number, digits = 1): string => (Number.isFinite(v) ? `${v.toFixed(digits)} ms` : 'n/a');
export const fmtDist = (d: Dist, digits = 1) => `p50 ${d.p50.toFixed(digits)} / p95 ${d.p95.toFixed(digits)} / p99 ${d.p99.toFixed(digits)} ms (n=${d.n})`;

// ---- loa-station processes ------------------------------------------------------------------

export interface LogLine {
  msg?: string;
  level?: number;
  time?: number;
  [k: string]: unknown;
}

export interface BenchStation {
  id: string;
  dir: string;
  proc: ChildProcess;
  /** broadcast key -> wall-clock ms of its first frame handed to the output (daemon log). */
  firstFrames: Map<string, number>;
  lines: LogLine[];
  waitForLog(pred: (l: LogLine) => boolean, timeoutMs?: number): Promise<LogLine>;
  stop(): Promise<void>;
}

/** Spawns `node dist/daemon/main.js run --config <file>` and parses its pino JSON stdout. */
export function spawnStation(id: string, dir: string, configPath: string, env: Record<string, string> = {}, nodeArgs: string[] = []): BenchStation {
  const proc = spawn(process.execPath, [...nodeArgs, STATION_BIN, 'run', '--config', configPath], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: LogLine[] = [];
  const firstFrames = new Map<string, number>();
  const waiters: { pred: (l: LogLine) => boolean; resolve: (l: LogLine) => void }[] = [];
  let partial = '';
  let stderr = '';
  const onLine = (line: string) => {
    if (!line.trim()) return;
    let l: LogLine;
    try {
      l = JSON.parse(line) as LogLine;
    } catch {
      l = { msg: line };
    }
    lines.push(l);
    if (l.msg === 'first frame on air' && typeof l.key === 'string' && typeof l.at === 'number') firstFrames.set(l.key, l.at);
    for (const w of [...waiters]) {
      if (w.pred(l)) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(l);
      }
    }
  };
  proc.stdout!.on('data', (b: Buffer) => {
    partial += b.toString();
    const parts = partial.split('\n');
    partial = parts.pop()!;
    parts.forEach(onLine);
  });
  proc.stderr!.on('data', (b: Buffer) => (stderr += b.toString()));
  const exited = new Promise<void>((resolve) => proc.on('exit', () => resolve()));
  return {
    id,
    dir,
    proc,
    firstFrames,
    lines,
    waitForLog(pred, timeoutMs = 30_000) {
      const found = lines.find(pred);
      if (found) return Promise.resolve(found);
      return new Promise((resolve, reject) => {
        const t = setTimeout(() => {
          const i = waiters.findIndex((w) => w.resolve === done);
          if (i >= 0) waiters.splice(i, 1);
          reject(
            new Error(
              `station ${id}: timed out after ${timeoutMs} ms waiting for a log line; last lines:\n` +
                lines
                  .slice(-10)
                  .map((x) => JSON.stringify(x))
                  .join('\n') +
                `\nstderr: ${stderr.slice(-2000)}`,
            ),
          );
        }, timeoutMs);
        const done = (l: LogLine) => {
          clearTimeout(t);
          resolve(l);
        };
        waiters.push({ pred, resolve: done });
      });
    },
    async stop() {
      if (proc.exitCode !== null || proc.signalCode !== null) return;
      proc.kill('SIGTERM');
      const timer = setTimeout(() => proc.kill('SIGKILL'), 8_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

// ---- /proc ------------------------------------------------------------------------------------

export const CLK_TCK = 100; // Linux USER_HZ on every mainstream kernel; checked in machine.ts via getconf.

/** utime + stime of a process, in clock ticks (/proc/<pid>/stat fields 14 and 15). */
export function cpuTicks(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // The command name (field 2) may contain spaces: split after its closing parenthesis.
  const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // rest[0] is field 3 (state); utime is field 14 -> rest[11], stime field 15 -> rest[12].
  return Number(rest[11]) + Number(rest[12]);
}

/** VmRSS of a process in kB (/proc/<pid>/status). */
export function rssKb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const m = /^VmRSS:\s+(\d+) kB/m.exec(status);
  return m ? Number(m[1]) : NaN;
}

export function loadAvg(): string {
  return os
    .loadavg()
    .map((x) => x.toFixed(2))
    .join(' ');
}

/** Runs a command to completion, returning stdout (stderr appended on failure). */
export function run(cmd: string, args: string[], opts: { timeoutMs?: number } = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const p = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
    p.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    const t = opts.timeoutMs ? setTimeout(() => p.kill('SIGKILL'), opts.timeoutMs) : undefined;
    p.on('error', reject);
    p.on('close', (code) => {
      if (t) clearTimeout(t);
      resolve({ code, stdout, stderr });
    });
  });
}

export function progress(line: string): void {
  process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${line}\n`);
}

/** Simulated station ids of the collector bench (fleet file and publisher agree on these). */
export function benchStationId(i: number): string {
  return `bench-st-${String(i).padStart(4, '0')}`;
}

/** Simulated station ids of the scale bench (sim-stations.ts and its fleet file agree on these). */
export function simStationId(i: number): string {
  return `sim-${String(i).padStart(5, '0')}`;
}

/**
 * A bench subscriber process (naive or floor) that prints `ready`, then one JSON line
 * `{round, at}` per message it handled: resolves at `ready`, collects the lines into `results`.
 */
export function readSubscriber(p: ChildProcess, kind: string, results: { round: number; at: number }[]): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    let buf = '';
    let ready = false;
    p.stdout!.on('data', (b: Buffer) => {
      buf += b.toString();
      const lines = buf.split('\n');
      buf = lines.pop()!;
      for (const l of lines) {
        if (l === 'ready') {
          ready = true;
          resolve();
        } else if (l.trim()) results.push(JSON.parse(l) as { round: number; at: number });
      }
    });
    p.on('exit', (code) => !ready && reject(new Error(`${kind} subscriber exited ${code}`)));
  });
}
