import { spawnSync } from 'node:child_process';
import { mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { afterEach, describe, expect, it } from 'vitest';
import { FfmpegError, FfmpegNotFoundError, ffmpegVersion, findFfmpeg, meaningfulStderr, runFfmpeg, spawnFfmpeg } from '../io/ffmpeg.js';
import { tempDir } from '../support/tmp.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);
const installerPath = (require('@ffmpeg-installer/ffmpeg') as { path: string }).path;

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('findFfmpeg', () => {
  const saved = process.env.LOA_FFMPEG;
  afterEach(() => {
    if (saved === undefined) delete process.env.LOA_FFMPEG;
    else process.env.LOA_FFMPEG = saved;
  });

  it('finds a working ffmpeg and reports where it came from', async () => {
    delete process.env.LOA_FFMPEG;
    const found = findFfmpeg();
    expect(['path', 'ffmpeg-static', '@ffmpeg-installer']).toContain(found.source);
    expect(await ffmpegVersion(found.path)).toMatch(/\S/);
    expect(findFfmpeg()).toBe(found); // cached
  });

  it('honours LOA_FFMPEG over PATH', () => {
    process.env.LOA_FFMPEG = installerPath;
    expect(findFfmpeg()).toEqual({ path: installerPath, source: 'env' });
  });

  it('honours a configured path when LOA_FFMPEG is unset', () => {
    delete process.env.LOA_FFMPEG;
    expect(findFfmpeg({ configured: installerPath })).toEqual({ path: installerPath, source: 'config' });
  });

  it('rejects an explicit path that is not executable instead of silently falling back', () => {
    process.env.LOA_FFMPEG = '/nonexistent/ffmpeg';
    expect(() => findFfmpeg()).toThrow(FfmpegNotFoundError);
    expect(() => findFfmpeg()).toThrow(/LOA_FFMPEG=\/nonexistent\/ffmpeg/);
    delete process.env.LOA_FFMPEG;
    expect(() => findFfmpeg({ configured: '/etc/passwd' })).toThrow(/configured ffmpeg path \/etc\/passwd/);
  });

  it('falls back to the npm-shipped binary in a process whose PATH has no ffmpeg', async () => {
    // Compile io/ffmpeg.ts on its own and run it in a child whose PATH holds only `node`.
    // It lives under the repo's .tmp/ (gitignored) so it resolves the repo's node_modules.
    const work = path.join(repoRoot, '.tmp', `lookup-${process.pid}-${Date.now()}`);
    mkdirSync(work, { recursive: true });
    try {
      const src = await import('node:fs/promises').then((fs) => fs.readFile(path.join(repoRoot, 'io/ffmpeg.ts'), 'utf8'));
      const js = ts.transpileModule(src, {
        compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 },
      }).outputText;
      writeFileSync(path.join(work, 'ffmpeg.mjs'), js);
      writeFileSync(
        path.join(work, 'main.mjs'),
        `import { findFfmpeg, ffmpegVersion } from './ffmpeg.mjs';
         const f = findFfmpeg();
         console.log(JSON.stringify({ ...f, version: await ffmpegVersion(f.path) }));`,
      );
      const bin = tempDir();
      symlinkSync(process.execPath, path.join(bin, 'node'));
      const env = { PATH: bin, HOME: process.env.HOME ?? '/tmp' };
      // Sanity: this PATH really has no ffmpeg.
      expect(spawnSync('ffmpeg', ['-version'], { env }).error).toBeDefined();
      const r = spawnSync('node', [path.join(work, 'main.mjs')], { env, encoding: 'utf8' });
      expect(r.stderr).toBe('');
      expect(r.status).toBe(0);
      const out = JSON.parse(r.stdout) as { path: string; source: string; version: string };
      let hasFfmpegStatic = true;
      try {
        require.resolve('ffmpeg-static');
      } catch {
        hasFfmpegStatic = false;
      }
      expect(out.source).toBe(hasFfmpegStatic ? 'ffmpeg-static' : '@ffmpeg-installer');
      if (!hasFfmpegStatic) expect(out.path).toBe(installerPath);
      expect(out.version).toMatch(/\S/);
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  });
});

describe('runFfmpeg', () => {
  it('returns stdout of a successful run', async () => {
    const { code, stdout } = await runFfmpeg(
      ['-hide_banner', '-nostdin', '-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=48000:duration=0.1', '-f', 's16le', '-ac', '1', 'pipe:1'],
      { timeoutMs: 10_000 },
    );
    expect(code).toBe(0);
    expect(stdout.length).toBe(4800 * 2);
  });

  it('feeds stdin from a Buffer', async () => {
    const pcm = Buffer.alloc(48_000 * 2); // 1 s of silence
    for (let i = 0; i < 48_000; i++) pcm.writeInt16LE(Math.round(8000 * Math.sin((2 * Math.PI * 440 * i) / 48_000)), i * 2);
    const { stderr } = await runFfmpeg(['-hide_banner', '-nostats', '-f', 's16le', '-ar', '48000', '-ac', '1', '-i', 'pipe:0', '-af', 'volumedetect', '-f', 'null', '-'], {
      stdin: pcm,
      timeoutMs: 10_000,
    });
    // 8000/32768 peak sine: RMS = -12.25 - 3.01 dBFS
    const mean = Number(/mean_volume: (-?[\d.]+) dB/.exec(stderr)?.[1]);
    expect(mean).toBeCloseTo(-15.3, 0);
  });

  it('rejects with FfmpegError carrying ffmpeg’s reason on a non-zero exit', async () => {
    const err = await runFfmpeg(['-hide_banner', '-nostdin', '-i', '/nonexistent/input.wav', '-f', 'null', '-']).catch((e) => e);
    expect(err).toBeInstanceOf(FfmpegError);
    expect(err.code).toBe(1);
    expect(err.timedOut).toBe(false);
    expect(err.reason).toMatch(/No such file or directory/);
    expect(err.message).toMatch(/^ffmpeg exited with code 1: .*No such file or directory/);
    expect(err.stderr).toMatch(/nonexistent/);
  });

  it('kills ffmpeg with SIGKILL on timeout', async () => {
    const started = Date.now();
    const p = spawnFfmpeg(['-hide_banner', '-nostdin', '-re', '-f', 'lavfi', '-i', 'anullsrc=r=48000:cl=mono', '-f', 'null', '-'], {
      timeoutMs: 300,
    });
    const pid = p.pid!;
    const exit = await p.exited;
    expect(Date.now() - started).toBeLessThan(3_000);
    expect(exit.signal).toBe('SIGKILL');
    expect(exit.error).toBeInstanceOf(FfmpegError);
    expect(exit.error!.timedOut).toBe(true);
    expect(exit.error!.message).toMatch(/timed out/);
    expect(isAlive(pid)).toBe(false);

    const err = await runFfmpeg(['-hide_banner', '-nostdin', '-re', '-f', 'lavfi', '-i', 'anullsrc', '-f', 'null', '-'], {
      timeoutMs: 200,
    }).catch((e) => e);
    expect(err).toBeInstanceOf(FfmpegError);
    expect(err.timedOut).toBe(true);
  });

  it('kills ffmpeg when the AbortSignal fires', async () => {
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 150);
    const err = await runFfmpeg(['-hide_banner', '-nostdin', '-re', '-f', 'lavfi', '-i', 'anullsrc', '-f', 'null', '-'], {
      signal: ac.signal,
    }).catch((e) => e);
    expect(err).toBeInstanceOf(FfmpegError);
    expect(err.aborted).toBe(true);
  });

  it('reports a binary that cannot be started', async () => {
    const err = await runFfmpeg(['-version'], { ffmpegPath: '/nonexistent/ffmpeg' }).catch((e) => e);
    expect(err).toBeInstanceOf(FfmpegError);
    expect(err.message).toMatch(/cannot start ffmpeg \(\/nonexistent\/ffmpeg\).*ENOENT/);
  });

  it('bounds captured stderr to the last 64 KiB', async () => {
    // ashowinfo logs every audio frame: ~240 KB of stderr for 30 s of input.
    const p = spawnFfmpeg(['-hide_banner', '-nostdin', '-f', 'lavfi', '-i', 'sine=d=30', '-af', 'ashowinfo', '-f', 'null', '-']);
    let total = '';
    p.child.stderr!.on('data', (b: Buffer) => (total += b.toString('utf8')));
    const exit = await p.exited;
    expect(exit.code).toBe(0);
    expect(total.length).toBeGreaterThan(128 * 1024);
    expect(Buffer.byteLength(exit.stderr)).toBeLessThanOrEqual(64 * 1024);
    expect(exit.stderr.length).toBeGreaterThan(60 * 1024);
    expect(total.endsWith(exit.stderr)).toBe(true);
  });
});

describe('spawnFfmpeg', () => {
  it('streams stdout and can be killed mid-stream', async () => {
    const p = spawnFfmpeg(['-hide_banner', '-nostdin', '-re', '-f', 'lavfi', '-i', 'sine=sample_rate=48000', '-f', 's16le', '-ac', '1', 'pipe:1']);
    let bytes = 0;
    p.stdout.on('data', (b: Buffer) => (bytes += b.length));
    await new Promise((r) => setTimeout(r, 500));
    p.kill();
    const exit = await p.exited;
    expect(exit.signal).toBe('SIGKILL');
    // -re: about real time, so ~0.5 s of 48 kHz s16 mono
    expect(bytes).toBeGreaterThan(0.2 * 96_000);
    expect(bytes).toBeLessThan(1.5 * 96_000);
  });

  it('accepts PCM written to its stdin pipe', async () => {
    const p = spawnFfmpeg(['-hide_banner', '-nostdin', '-f', 's16le', '-ar', '48000', '-ac', '1', '-i', 'pipe:0', '-f', 's16le', 'pipe:1'], {
      stdin: 'pipe',
    });
    const chunks: Buffer[] = [];
    p.stdout.on('data', (b: Buffer) => chunks.push(b));
    p.stdin!.end(Buffer.alloc(9600, 1));
    const exit = await p.exited;
    expect(exit.code).toBe(0);
    expect(Buffer.concat(chunks).length).toBe(9600);
  });
});

describe('meaningfulStderr', () => {
  it('keeps the error lines and drops banners, stream details and progress', () => {
    const text = [
      "Input #0, mp3, from 'x.mp3':",
      '  Duration: 00:00:10.03, start: 0.025057, bitrate: 48 kb/s',
      'size=N/A time=00:00:01.00 bitrate=N/A speed=1x',
      '[mp3 @ 0x55578013a8c0] Failed to read frame size: Could not seek to 4023.',
      'x.mp3: Invalid argument',
      '',
    ].join('\n');
    expect(meaningfulStderr(text)).toBe('[mp3] Failed to read frame size: Could not seek to 4023. | x.mp3: Invalid argument');
  });
});
