// Run the real `loa` CLI as a subprocess.
import { type ChildProcess, spawn } from 'node:child_process';
import path from 'node:path';
import { ROOT } from './station.js';

export const LOA_BIN = path.join(ROOT, 'dist/controller-cli/main.js');

export interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** `fleet` undefined: the command line carries its own --fleet (or none). */
export function runLoa(fleet: string | undefined, args: string[], env: Record<string, string> = {}): Promise<Run> {
  return new Promise((resolve) => {
    const fleetArgs = fleet === undefined ? [] : ['--fleet', fleet];
    const child = spawn(process.execPath, [LOA_BIN, ...fleetArgs, ...args], { env: { ...process.env, LANG: 'C', LC_ALL: '', ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

/** `loa collect` in the background; resolves once it is connected. */
export async function startCollector(fleet: string): Promise<{ child: ChildProcess; stop(): Promise<void>; log(): string }> {
  const child = spawn(process.execPath, [LOA_BIN, '--fleet', fleet, 'collect', '--verbose'], { env: { ...process.env, LANG: 'C' }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`collector did not start:\n${out}`)), 15_000);
    const on = (d: Buffer) => {
      out += d;
      if (out.includes('connected')) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout!.on('data', on);
    child.stderr!.on('data', on);
  });
  return {
    child,
    log: () => out,
    async stop() {
      if (child.exitCode !== null) return;
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
    },
  };
}
