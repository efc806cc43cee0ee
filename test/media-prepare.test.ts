import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { decodeStreamArgs, MediaError, prepareAudio, probeAudio } from '../daemon/media/prepare.js';
import { runFfmpeg, spawnFfmpeg } from '../io/ffmpeg.js';
import { fixture, measureLoudness, wavInfo } from '../support/audio.js';
import { serveFile } from '../support/http.js';
import { tempDir } from '../support/tmp.js';

const installerFfmpeg = (createRequire(import.meta.url)('@ffmpeg-installer/ffmpeg') as { path: string }).path;

async function expectPrepared(input: string, expectedMs: number, opts: Parameters<typeof prepareAudio>[2] = {}) {
  const dir = tempDir();
  const out = path.join(dir, 'out.wav');
  const target = opts.targetLufs ?? -16;
  const r = await prepareAudio(input, out, opts);
  const info = await wavInfo(out);
  expect(info).toMatchObject({ audioFormat: 1, sampleRate: 48_000, channels: 1, bitsPerSample: 16 });
  expect(info.declaredDataBytes).toBe(info.dataBytes);
  expect(Math.abs(info.durationMs - expectedMs) / expectedMs).toBeLessThan(0.05);
  expect(r.durationMs).toBe(Math.round(info.durationMs));
  expect(r.sampleRate).toBe(48_000);
  // An independent measurement (ebur128) of the written file, not loudnorm's own report.
  const measured = await measureLoudness(out);
  expect(Math.abs(measured.integratedLufs - target)).toBeLessThanOrEqual(1);
  expect(measured.truePeakDb!).toBeLessThanOrEqual((opts.truePeakDb ?? -1.5) + 0.5);
  expect(Math.abs(r.outputLufs - target)).toBeLessThanOrEqual(1);
  // Only the final file remains: the temp file was renamed into place.
  expect(readdirSync(dir)).toEqual(['out.wav']);
  return { r, measured };
}

describe('prepareAudio', () => {
  it('normalises a quiet 22.05 kHz tone linearly to -16 LUFS, 48 kHz mono', async () => {
    const { r } = await expectPrepared(fixture('tone-3s.wav'), 3000);
    expect(r.linear).toBe(true);
    expect(r.limiterPreGainDb).toBe(0);
    expect(r.passes).toBe(2);
    expect(r.inputLufs).toBeLessThan(-20); // it really was quiet
  });

  it('normalises Vietnamese speech whose peaks forbid a plain gain (limiter path, still linear)', async () => {
    const { r } = await expectPrepared(fixture('speech-vi.wav'), 3694);
    expect(r.inputTruePeakDb + (-16 - r.inputLufs)).toBeGreaterThan(-1.5); // a plain gain would clip
    expect(r.limiterPreGainDb).toBeGreaterThan(0);
    expect(r.linear).toBe(true);
  });

  it('transcodes a stereo 44.1 kHz MP3 to the on-air format', async () => {
    const { r } = await expectPrepared(fixture('music-10s.mp3'), 10_000);
    expect(typeof r.linear).toBe('boolean');
  });

  it('honours a custom target (-23 LUFS, -2 dBTP)', async () => {
    await expectPrepared(fixture('tone-3s.wav'), 3000, { targetLufs: -23, truePeakDb: -2 });
  });

  it('works with the npm-shipped ffmpeg (older build, no ffprobe)', async () => {
    const { r } = await expectPrepared(fixture('speech-vi.wav'), 3694, { ffmpegPath: installerFfmpeg });
    expect(r.linear).toBe(true);
    const p = await probeAudio(fixture('music-10s.mp3'), { ffmpegPath: installerFfmpeg });
    expect(p.durationMs).toBeGreaterThan(9_900);
  });

  it('reports a dynamic fallback as linear:false instead of failing', async () => {
    // Loudness range far above the LRA target: loudnorm cannot stay linear.
    const dir = tempDir();
    const input = path.join(dir, 'wide.wav');
    await runFfmpeg([
      '-hide_banner',
      '-nostdin',
      '-f',
      'lavfi',
      // A 0..-18 dB sawtooth envelope: loudness range well above 5 LU.
      '-i',
      "aevalsrc='0.5*sin(2*PI*440*t)*pow(10,-mod(t,6)*3/20)':s=48000:d=12",
      '-c:a',
      'pcm_s16le',
      input,
    ]);
    const out = path.join(dir, 'out.wav');
    const r = await prepareAudio(input, out, { lra: 5 });
    expect(r.linear).toBe(false);
    expect((await wavInfo(out)).sampleRate).toBe(48_000);
  });

  it('rejects corrupt input with ffmpeg’s reason and leaves no output behind', async () => {
    const dir = tempDir();
    const out = path.join(dir, 'out.wav');
    const err = await prepareAudio(fixture('corrupt.mp3'), out).catch((e) => e);
    expect(err).toBeInstanceOf(MediaError);
    expect(err.code).toBe('invalid');
    expect(err.ffmpegReason).toMatch(/Invalid argument|Invalid data|Failed to read frame/);
    expect(err.message).toContain(err.ffmpegReason);
    expect(err.message).toContain('corrupt.mp3');
    expect(readdirSync(dir)).toEqual([]);
  });

  it('rejects a zero-length file as empty', async () => {
    const err = await prepareAudio(fixture('empty.wav'), path.join(tempDir(), 'o.wav')).catch((e) => e);
    expect(err).toBeInstanceOf(MediaError);
    expect(err.code).toBe('empty');
    expect(err.message).toMatch(/empty \(0 bytes; ffmpeg: .*Invalid data found/);
  });

  it('rejects a text file (no audio) with ffmpeg’s reason', async () => {
    for (const ffmpegPath of [undefined, installerFfmpeg]) {
      const err = await prepareAudio(fixture('not-audio.txt'), path.join(tempDir(), 'o.wav'), { ffmpegPath }).catch((e) => e);
      expect(err).toBeInstanceOf(MediaError);
      // Newer ffmpeg cannot parse it at all; older builds decode text as a video "tty" stream.
      expect(['invalid', 'no-audio']).toContain(err.code);
      expect(err.ffmpegReason).toMatch(/Invalid data found|matches no streams/);
    }
  });

  it('rejects a missing file and silent audio clearly', async () => {
    const missing = await prepareAudio('/nonexistent/a.mp3', path.join(tempDir(), 'o.wav')).catch((e) => e);
    expect(missing).toBeInstanceOf(MediaError);
    expect(missing.code).toBe('not-found');
    expect(missing.message).toMatch(/not found: \/nonexistent\/a\.mp3/);

    const dir = tempDir();
    const silent = path.join(dir, 'silent.wav');
    await runFfmpeg(['-hide_banner', '-nostdin', '-f', 'lavfi', '-i', 'anullsrc=r=48000:cl=mono', '-t', '1', silent]);
    const err = await prepareAudio(silent, path.join(dir, 'o.wav')).catch((e) => e);
    expect(err).toBeInstanceOf(MediaError);
    expect(err.code).toBe('silent');
  });

  it('times out with a clear error', async () => {
    const err = await prepareAudio(fixture('music-10s.mp3'), path.join(tempDir(), 'o.wav'), { timeoutMs: 1 }).catch((e) => e);
    expect(err).toBeInstanceOf(MediaError);
    expect(err.code).toBe('timeout');
    expect(err.message).toMatch(/timed out/);
  });
});

describe('probeAudio', () => {
  it('describes files from ffmpeg’s stderr alone', async () => {
    expect(await probeAudio(fixture('music-10s.mp3'))).toMatchObject({ container: 'mp3', codec: 'mp3', sampleRate: 44_100, channels: 2 });
    expect((await probeAudio(fixture('music-10s.mp3'))).durationMs).toBeGreaterThan(9_950);
    expect(await probeAudio(fixture('tone-3s.wav'))).toEqual({
      durationMs: 3000,
      container: 'wav',
      codec: 'pcm_s16le',
      sampleRate: 22_050,
      channels: 1,
    });
    expect(await probeAudio(fixture('chime-normal.wav'))).toMatchObject({ durationMs: 700, sampleRate: 48_000, channels: 1 });
  });

  it('decodes to find the duration when the container has none', async () => {
    // Matroska written to a pipe cannot seek back to store its duration; with a VBR codec
    // ffmpeg cannot estimate it from the bitrate either.
    const dir = tempDir();
    const { stdout } = await runFfmpeg(['-hide_banner', '-nostdin', '-f', 'lavfi', '-i', 'sine=sample_rate=48000:duration=2', '-c:a', 'libvorbis', '-f', 'matroska', 'pipe:1']);
    const file = path.join(dir, 'piped.mka');
    writeFileSync(file, stdout);
    const { stderr } = await runFfmpeg(['-hide_banner', '-nostdin', '-i', file, '-map', '0:a:0', '-t', '0', '-f', 'null', '-']);
    expect(stderr).toMatch(/Duration: N\/A/);
    const p = await probeAudio(file);
    expect(p.durationMs).toBeGreaterThanOrEqual(1_980);
    expect(p.durationMs).toBeLessThanOrEqual(2_020);
  });

  it('rejects corrupt and empty files with ffmpeg’s reason', async () => {
    const c = await probeAudio(fixture('corrupt.mp3')).catch((e) => e);
    expect(c).toBeInstanceOf(MediaError);
    expect(c.code).toBe('invalid');
    const e = await probeAudio(fixture('empty.wav')).catch((x) => x);
    expect(e.code).toBe('empty');
    expect(e.ffmpegReason).toMatch(/Invalid data/);
  });
});

describe('decodeStreamArgs', () => {
  it('only accepts the allowed relay schemes and a positive duration, and whitelists their ffmpeg protocols', () => {
    expect(() => decodeStreamArgs('file:///etc/passwd', 10)).toThrow(/scheme file: is not allowed/);
    expect(() => decodeStreamArgs('rtsp://cam.example.vn/live', 10)).toThrow(/scheme rtsp: is not allowed here \(allowed: http, https\)/);
    const rtsp = decodeStreamArgs('rtsp://cam.example.vn/live', 10, ['rtsp']);
    expect(rtsp[rtsp.indexOf('-protocol_whitelist') + 1]).toBe('rtsp,rtp,udp,tcp');
    expect(rtsp).not.toContain('-reconnect');
    expect(() => decodeStreamArgs('not a url', 10)).toThrow(/not a valid URL/);
    expect(() => decodeStreamArgs('http://example.org/live', 0)).toThrow(/positive/);
    const args = decodeStreamArgs('https://radio.example.vn/live.mp3', 30);
    expect(args).toEqual(expect.arrayContaining(['-reconnect', '1', '-reconnect_streamed', '1', '-reconnect_delay_max', '2']));
    // ffmpeg itself refuses file:, concat:, subfile: and the rest, even inside a playlist.
    expect(args[args.indexOf('-protocol_whitelist') + 1]).toBe('https,http,tls,tcp');
    expect(args.indexOf('-protocol_whitelist')).toBeLessThan(args.indexOf('-i'));
    expect(args.slice(-7)).toEqual(['-ar', '48000', '-ac', '1', '-f', 's16le', '-c:a', 'pcm_s16le', 'pipe:1'].slice(-7));
  });

  it('decodes an http stream to raw 48 kHz mono PCM for the requested duration', async () => {
    const server = await serveFile(fixture('music-10s.mp3'));
    try {
      const url = server.url;
      const p = spawnFfmpeg(decodeStreamArgs(url, 2));
      let bytes = 0;
      p.stdout.on('data', (b: Buffer) => (bytes += b.length));
      const exit = await p.exited;
      expect(exit.error).toBeUndefined();
      expect(Math.abs(bytes - 2 * 96_000)).toBeLessThan(96_000 * 0.02);
    } finally {
      server.close();
    }
  });
});

it('fixtures are present (run npm run fixtures to regenerate)', () => {
  for (const f of ['tone-3s.wav', 'speech-vi.wav', 'music-10s.mp3', 'chime-normal.wav', 'chime-priority.wav', 'chime-emergency.wav', 'corrupt.mp3', 'empty.wav', 'not-audio.txt']) {
    expect(existsSync(fixture(f))).toBe(true);
  }
});
