import { spawn } from 'node:child_process';

export class ToolMissingError extends Error {
  constructor(readonly tool: string) {
    super(`${tool} not found`);
  }
}

/** Run a program with an argument array (never a shell); resolve with stdout, reject with stderr's tail. */
export function runTool(tool: string, args: readonly string[], opts: { stdin?: string | Buffer; timeoutMs?: number; cwd?: string } = {}): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const child = spawn(tool, args, { stdio: ['pipe', 'pipe', 'pipe'], cwd: opts.cwd });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 60_000);
    child.stdout.on('data', (d: Buffer) => out.push(d));
    child.stderr.on('data', (d: Buffer) => err.push(d));
    child.on('error', (e: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      reject(e.code === 'ENOENT' ? new ToolMissingError(tool) : e);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) resolve(Buffer.concat(out));
      else {
        const tail = Buffer.concat(err).toString('utf8').trim().split('\n').slice(-3).join(' | ');
        reject(new Error(`${tool} exited with ${code ?? signal}: ${tail}`));
      }
    });
    child.stdin.on('error', () => undefined); // a tool that exits early closes stdin; its exit code says why
    child.stdin.end(opts.stdin ?? '');
  });
}
