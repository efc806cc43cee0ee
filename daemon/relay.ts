import { spawn } from 'node:child_process';

export interface RelayResult {
  ok: boolean;
  /** Exit code when the command exited by itself. */
  code?: number;
  /** Why it is not ok: 'timeout', 'exit code N', 'killed by SIGx', or the spawn error. */
  reason?: string;
  /** Tail of stderr, for the log. */
  stderr: string;
}

const STDERR_LIMIT = 8 * 1024;

/**
 * Runs a relay (amplifier power) command. The argv comes from the station config and is run
 * without a shell. Never throws: a stuck or missing relay tool must not stop a broadcast or
 * kill the daemon; the caller logs the result and carries on.
 */
export function runRelay(argv: readonly string[], timeoutMs: number): Promise<RelayResult> {
  return new Promise((resolve) => {
    if (argv.length === 0 || !argv[0]) {
      resolve({ ok: false, reason: 'empty relay command', stderr: '' });
      return;
    }
    let stderr = '';
    let timedOut = false;
    let spawnError: Error | undefined;
    let settled = false;
    const finish = (r: RelayResult) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(r);
    };

    let child: ReturnType<typeof spawn>;
    try {
      child = spawn(argv[0], argv.slice(1), { stdio: ['ignore', 'ignore', 'pipe'], shell: false });
    } catch (e) {
      // spawn throws synchronously for e.g. a NUL byte in an argument.
      resolve({ ok: false, reason: (e as Error).message, stderr: '' });
      return;
    }
    const timer = setTimeout(
      () => {
        timedOut = true;
        child.kill('SIGKILL');
        // If the process is unkillable (D state) 'close' may never come; do not hang the caller.
        setTimeout(() => finish({ ok: false, reason: 'timeout', stderr }), 1000).unref();
      },
      Math.max(1, timeoutMs),
    );

    child.stderr?.on('data', (b: Buffer) => {
      stderr = (stderr + b.toString('utf8')).slice(-STDERR_LIMIT);
    });
    child.on('error', (e) => {
      spawnError = e;
      // 'close' may not follow a spawn failure on every Node version.
      setImmediate(() => finish({ ok: false, reason: e.message, stderr }));
    });
    child.on('close', (code, signal) => {
      if (timedOut) finish({ ok: false, reason: 'timeout', stderr });
      else if (spawnError) finish({ ok: false, reason: spawnError.message, stderr });
      else if (code === 0) finish({ ok: true, code: 0, stderr });
      else if (code !== null) finish({ ok: false, code, reason: `exit code ${code}`, stderr });
      else finish({ ok: false, reason: `killed by ${signal}`, stderr });
    });
  });
}
