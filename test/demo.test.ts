// `npm run demo` end to end, with 4 stations into a temp dir: the real CLI, collector and
// station daemons against the demo's in-process broker. When the npm-shipped ffmpeg is
// installed, PATH holds nothing but node, so the test also proves that a newcomer's machine
// needs neither a system ffmpeg nor espeak-ng.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { describe, expect, test } from 'vitest';
import { tempDir } from '../support/tmp.js';

const ROOT = path.resolve(import.meta.dirname, '..');
const DEMO = path.join(ROOT, 'dist/demo/main.js');

function npmFfmpegInstalled(): boolean {
  try {
    const p = (createRequire(import.meta.url)('@ffmpeg-installer/ffmpeg') as { path: string }).path;
    return existsSync(p);
  } catch {
    return false;
  }
}

function run(args: string[], env: NodeJS.ProcessEnv, timeoutMs: number): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [DEMO, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGINT'), timeoutMs);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

function files(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir).flatMap((e) => {
    const p = path.join(dir, e);
    return statSync(p).isDirectory() ? files(p) : [p];
  });
}

describe('npm run demo', () => {
  test('4 stations: every broadcast delivered, report printed, recordings written', async () => {
    const dir = tempDir('loa-demo-');
    const out = path.join(dir, 'demo-out');
    const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1', LANG: 'C', LC_ALL: '' };
    if (npmFfmpegInstalled()) {
      const bin = path.join(dir, 'bin');
      mkdirSync(bin);
      symlinkSync(process.execPath, path.join(bin, 'node'));
      env.PATH = bin;
      delete env.LOA_FFMPEG;
    }
    const started = Date.now();
    const r = await run(['--stations', '4', '--out', out], env, 110_000);
    const took = Date.now() - started;
    expect(r.code, `${r.stdout}\n${r.stderr}`).toBe(0);
    expect(r.stdout).toMatch(/ALL DELIVERED: every broadcast 4\/4/);
    if (env.PATH !== process.env.PATH) expect(r.stdout).toMatch(/ffmpeg for the stations: .*@ffmpeg-installer/);

    // The per-broadcast summary: seven broadcasts, each 4/4 in its expected state.
    const summary = r.stdout.split('\n').filter((l) => /^\s+(ok|BAD)\s+\d+\/\d+/.test(l));
    expect(summary).toHaveLength(7);
    for (const line of summary) expect(line).toMatch(/^\s+ok\s+4\/4/);
    // The CLI's own tables were printed.
    expect(r.stdout).toContain('$ loa broadcasts');
    expect(r.stdout).toMatch(/cancelled 4/);
    expect(r.stdout).toContain('$ loa report');

    // The full report was saved: 4 stations × 7 broadcasts.
    const csv = readFileSync(path.join(out, 'report.csv'), 'utf8').trim().split('\n');
    expect(csv).toHaveLength(1 + 4 * 7);
    // Every zone recorded its 7 airings (the music and the alert cut short, but recorded).
    const wavs = files(path.join(out, 'recordings')).filter((f) => f.endsWith('.wav'));
    const stations = new Set(wavs.map((f) => path.relative(path.join(out, 'recordings'), f).split(path.sep)[0]));
    expect(stations.size).toBe(4);
    expect(wavs.length).toBeGreaterThanOrEqual(4 * 7);
    // Secrets stay private.
    expect(statSync(path.join(out, 'officials', 'vp-ubnd-hoi-an', 'keys', 'vp-ubnd-hoi-an.key')).mode & 0o077).toBe(0);

    // A second run wipes and reuses its own directory, but refuses a directory it did not make.
    const foreign = path.join(dir, 'not-a-demo');
    mkdirSync(foreign);
    writeFileSync(path.join(foreign, 'precious.txt'), 'keep me');
    const refused = await run(['--stations', '2', '--out', foreign], env, 20_000);
    expect(refused.code).toBe(1);
    expect(refused.stdout).toMatch(/was not made by the demo/);
    expect(readFileSync(path.join(foreign, 'precious.txt'), 'utf8')).toBe('keep me');

    expect(took).toBeLessThan(90_000);
  }, 150_000);
});
