import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { PassThrough } from 'node:stream';
import { beforeAll, describe, expect, it } from 'vitest';
import { decodeStreamArgs, probeAudio } from '../daemon/media/prepare.js';
import { createOutput, type PlaybackResult, volumeToDb } from '../daemon/outputs/output.js';
import { wavHeader } from '../daemon/outputs/wav.js';
import { runFfmpeg, spawnFfmpeg } from '../io/ffmpeg.js';
import { fixture, meanVolumeDb, volumeStats, wavInfo } from '../support/audio.js';
import { serveFile } from '../support/http.js';
import { tempDir } from '../support/tmp.js';

const now = () => performance.timeOrigin + performance.now();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// On-air format clips (48 kHz mono s16le) made once for the whole file.
let tone3s: string;
let tone1s: string;
beforeAll(async () => {
  const dir = tempDir();
  tone3s = path.join(dir, 'tone-3s.wav');
  tone1s = path.join(dir, 'tone-1s.wav');
  for (const [file, d] of [
    [tone3s, 3],
    [tone1s, 1],
  ] as const) {
    await runFfmpeg([
      '-hide_banner',
      '-nostdin',
      '-f',
      'lavfi',
      '-i',
      `sine=frequency=1000:sample_rate=48000:duration=${d}`,
      '-af',
      'volume=4',
      '-ac',
      '1',
      '-c:a',
      'pcm_s16le',
      '-map_metadata',
      '-1',
      '-fflags',
      '+bitexact',
      file,
    ]);
  }
});

/** RMS level (dBFS) of a span of an s16 mono WAV, read directly from the samples. */
function rmsDb(file: string, fromSec: number, toSec: number): number {
  const buf = readFileSync(file);
  let sum = 0;
  const a = 44 + Math.floor(fromSec * 48_000) * 2;
  const b = Math.min(buf.length, 44 + Math.floor(toSec * 48_000) * 2);
  for (let i = a; i < b; i += 2) sum += (buf.readInt16LE(i) / 32768) ** 2;
  return 10 * Math.log10(sum / ((b - a) / 2));
}

describe('volume mapping', () => {
  it('is linear in dB: 0.5 dB per step, 100 = 0 dB, 0 = mute', () => {
    expect(volumeToDb(100)).toBe(0);
    expect(volumeToDb(90)).toBe(-5);
    expect(volumeToDb(50)).toBe(-25);
    expect(volumeToDb(1)).toBe(-49.5);
    expect(volumeToDb(0)).toBe(-Infinity);
    expect(() => volumeToDb(101)).toThrow(/0 to 100/);
  });
});

describe.concurrent('file output', () => {
  it('writes one WAV per playback at real-time pace, first frame at once', async () => {
    const dir = tempDir();
    const out = createOutput({ type: 'file', dir });
    expect(await out.check()).toMatchObject({ ok: true });
    const t0 = now();
    const h = out.play({ sources: [{ kind: 'wav', path: tone3s }], volume: 100, label: 'zone-1.test_a' });
    const first = await h.firstFrame;
    expect(first - t0).toBeLessThan(50);

    // Mid-way the file holds about as much audio as wall time has passed: paced, not dumped.
    await sleep(1000);
    const elapsed = now() - first;
    const [name] = (await import('node:fs')).readdirSync(dir);
    const writtenMs = (statSync(path.join(dir, name)).size - 44) / 96;
    expect(Math.abs(writtenMs - elapsed)).toBeLessThan(120);

    const r = await h.done;
    const wall = now() - first;
    expect(r).toMatchObject({ outcome: 'completed', framesWritten: 144_000, durationMs: 3000 });
    expect(wall).toBeGreaterThan(2_950);
    expect(wall).toBeLessThan(3_300);
    expect(path.basename(r.file!)).toMatch(/^\d{4}-\d\d-\d\dT\d\d-\d\d-\d\d\.\d{3}Z-zone-1\.test_a\.wav$/);
    expect(path.dirname(r.file!)).toBe(dir);
    const info = await wavInfo(r.file!);
    expect(info).toMatchObject({ sampleRate: 48_000, channels: 1, bitsPerSample: 16, durationMs: 3000 });
    expect(info.declaredDataBytes).toBe(info.dataBytes);
    expect((await probeAudio(r.file!)).durationMs).toBe(3000);
    // What went on air is what was in the clip.
    expect(readFileSync(r.file!).subarray(44)).toEqual(readFileSync(tone3s).subarray(44));
    await out.close();
  });

  it('stop() cuts within a chunk and leaves a valid, truncated WAV', async () => {
    const out = createOutput({ type: 'file', dir: tempDir() });
    const h = out.play({ sources: [{ kind: 'wav', path: tone3s }], volume: 100, label: 'cut' });
    const first = await h.firstFrame;
    await sleep(1000);
    const stopAt = now();
    h.stop();
    const r = await h.done;
    expect(now() - stopAt).toBeLessThan(50);
    expect(r.outcome).toBe('stopped');
    // Nothing handed over after stop() beyond the chunk in flight.
    expect(r.durationMs).toBeLessThanOrEqual(stopAt - first + 40);
    expect(r.durationMs).toBeGreaterThan(900);
    const info = await wavInfo(r.file!);
    expect(info.declaredDataBytes).toBe(info.dataBytes);
    expect(info.durationMs).toBe(r.durationMs);
    const probed = await probeAudio(r.file!);
    expect(Math.abs(probed.durationMs - r.durationMs)).toBeLessThanOrEqual(1);
  });

  it('stop(fadeMs) fades out instead of cutting', async () => {
    const out = createOutput({ type: 'file', dir: tempDir() });
    const h = out.play({ sources: [{ kind: 'wav', path: tone3s }], volume: 100, label: 'fade' });
    await h.firstFrame;
    await sleep(500);
    h.stop(300);
    const r = await h.done;
    expect(r.outcome).toBe('stopped');
    const end = r.durationMs / 1000;
    expect(end).toBeGreaterThan(0.75);
    expect(end).toBeLessThan(0.95);
    const before = rmsDb(r.file!, end - 0.4, end - 0.32);
    const tail = rmsDb(r.file!, end - 0.03, end);
    expect(before - tail).toBeGreaterThan(15);
  });

  it('volume 50 is 25 dB quieter than volume 100; setVolume ramps mid-play', async () => {
    const out = createOutput({ type: 'file', dir: tempDir() });
    const loud = out.play({ sources: [{ kind: 'wav', path: tone1s }], volume: 100, label: 'loud' });
    const quiet = out.play({ sources: [{ kind: 'wav', path: tone1s }], volume: 50, label: 'quiet' });
    const changing = out.play({ sources: [{ kind: 'wav', path: tone1s }], volume: 100, label: 'changing' });
    await changing.firstFrame;
    await sleep(500);
    changing.setVolume(50);
    const [a, b, c] = await Promise.all([loud.done, quiet.done, changing.done]);
    const diff = (await meanVolumeDb(a.file!)) - (await meanVolumeDb(b.file!));
    expect(diff).toBeGreaterThan(24.5);
    expect(diff).toBeLessThan(25.5);
    const early = rmsDb(c.file!, 0.05, 0.4);
    const late = rmsDb(c.file!, 0.7, 0.95);
    expect(early - late).toBeGreaterThan(24);
    expect(early - late).toBeLessThan(26);
  });

  it('clamps instead of wrapping when the gain would overflow', async () => {
    // A full-scale square wave at volume 100 stays at full scale, no wrap-around.
    const dir = tempDir();
    const clip = path.join(dir, 'square.wav');
    const pcm = Buffer.alloc(4800 * 2);
    for (let i = 0; i < 4800; i++) pcm.writeInt16LE(i % 48 < 24 ? 32767 : -32768, i * 2);
    writeFileSync(clip, Buffer.concat([wavHeader(pcm.length), pcm]));
    const r = await createOutput({ type: 'file', dir }).play({ sources: [{ kind: 'wav', path: clip }], volume: 100, label: 'sq' }).done;
    expect(readFileSync(r.file!).subarray(44)).toEqual(pcm);
    expect((await volumeStats(r.file!)).maxDb).toBe(0);
  });

  it('plays several sources back to back (chime, message, chime)', async () => {
    const out = createOutput({ type: 'file', dir: tempDir() });
    const r = await out.play({
      sources: [
        { kind: 'wav', path: fixture('chime-normal.wav') },
        { kind: 'wav', path: tone1s },
        { kind: 'wav', path: fixture('chime-normal.wav') },
      ],
      volume: 100,
      label: 'seq',
    }).done;
    expect(r).toMatchObject({ outcome: 'completed', durationMs: 2400 });
    const data = readFileSync(r.file!).subarray(44);
    const chime = readFileSync(fixture('chime-normal.wav')).subarray(44);
    expect(data.subarray(0, chime.length)).toEqual(chime);
    expect(data.subarray(data.length - chime.length)).toEqual(chime);
  });

  it('bounds a playback by maxDurationMs', async () => {
    const out = createOutput({ type: 'file', dir: tempDir() });
    const r = await out.play({ sources: [{ kind: 'wav', path: tone3s }], volume: 100, label: 'max', maxDurationMs: 500 }).done;
    expect(r).toMatchObject({ outcome: 'completed', reason: 'max-duration', durationMs: 500 });
    expect((await wavInfo(r.file!)).durationMs).toBe(500);
  });

  it('fails before airing anything when a clip is missing or not in the on-air format', async () => {
    const dir = tempDir();
    const out = createOutput({ type: 'file', dir });
    const wrong = out.play({
      sources: [
        { kind: 'wav', path: fixture('chime-normal.wav') },
        { kind: 'wav', path: fixture('tone-3s.wav') },
      ],
      volume: 100,
      label: 'wrong',
    });
    await expect(wrong.firstFrame).rejects.toThrow(/nothing was played/);
    const r = await wrong.done;
    expect(r.outcome).toBe('failed');
    expect(r.reason).toMatch(/tone-3s\.wav is not in the on-air format .*22050 Hz/);
    const missing = await out.play({ sources: [{ kind: 'wav', path: '/nonexistent.wav' }], volume: 100, label: 'missing' }).done;
    expect(missing).toMatchObject({ outcome: 'failed', framesWritten: 0 });
    expect(missing.reason).toMatch(/cannot open \/nonexistent\.wav/);
    expect((await import('node:fs')).readdirSync(dir)).toEqual([]);
  });

  it('rejects invalid requests synchronously', () => {
    const out = createOutput({ type: 'file', dir: tempDir() });
    const src = [{ kind: 'wav' as const, path: tone1s }];
    expect(() => out.play({ sources: src, volume: 100, label: '../etc' })).toThrow(/label/);
    expect(() => out.play({ sources: src, volume: 100, label: 'Upper' })).toThrow(/label/);
    expect(() => out.play({ sources: src, volume: 100.5, label: 'ok' })).toThrow(/volume/);
    expect(() => out.play({ sources: [], volume: 100, label: 'ok' })).toThrow(/at least one source/);
  });

  it('check() reports an unwritable directory', async () => {
    const r = await createOutput({ type: 'file', dir: '/dev/null/loa' }).check();
    expect(r.ok).toBe(false);
    expect(r.detail).toMatch(/not writable/);
  });

  it('close() cuts every running playback', async () => {
    const out = createOutput({ type: 'file', dir: tempDir() });
    const h = out.play({ sources: [{ kind: 'wav', path: tone3s }], volume: 100, label: 'closing' });
    await h.firstFrame;
    await out.close();
    const r = await h.done;
    expect(r.outcome).toBe('stopped');
    expect(r.durationMs).toBeLessThan(200);
    expect(() => out.play({ sources: [{ kind: 'wav', path: tone3s }], volume: 100, label: 'x' })).toThrow(/closed/);
  });
});

describe.concurrent('pcm-stream sources', () => {
  it('plays live PCM as it arrives, paced, bounded by maxDurationMs, and ends the producer', async () => {
    // An endless real-time producer: only maxDurationMs can end this source.
    const producer = spawnFfmpeg(['-hide_banner', '-nostdin', '-re', '-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=48000', '-f', 's16le', '-ac', '1', 'pipe:1']);
    const out = createOutput({ type: 'file', dir: tempDir() });
    const t0 = now();
    const h = out.play({ sources: [{ kind: 'pcm-stream', stream: producer.stdout, maxDurationMs: 800 }], volume: 100, label: 'live' });
    const r = await h.done;
    // maxDurationMs is a wall-clock slot from the source's start: the producer's start-up
    // time is part of it (up to a few hundred ms on a loaded 2-core machine), so less than
    // 800 ms of audio fits; the wall-clock bound below is what proves the slot.
    expect(r.outcome).toBe('completed');
    expect(r.durationMs).toBeGreaterThan(400);
    expect(r.durationMs).toBeLessThanOrEqual(800);
    expect(now() - t0).toBeGreaterThan(750);
    expect((await wavInfo(r.file!)).durationMs).toBe(r.durationMs);
    // The output destroyed the stream, so the producer ends (EPIPE) instead of running forever.
    const exit = await Promise.race([producer.exited, sleep(3000).then(() => 'still running' as const)]);
    if (exit === 'still running') producer.kill();
    expect(exit).not.toBe('still running');
  });

  it('waits for late data rather than padding, and plays a stream to its end', async () => {
    const stream = new PassThrough();
    const out = createOutput({ type: 'file', dir: tempDir() });
    const h = out.play({
      sources: [
        { kind: 'wav', path: fixture('chime-normal.wav') },
        { kind: 'pcm-stream', stream, maxDurationMs: 10_000 },
      ],
      volume: 100,
      label: 'late',
    });
    // Data arrives only after the chime has finished, in odd-sized pieces.
    await sleep(900);
    const pcm = Buffer.alloc(48_000); // 0.5 s
    for (let i = 0; i < pcm.length / 2; i++) pcm.writeInt16LE(1000, i * 2);
    stream.write(pcm.subarray(0, 777));
    await sleep(50);
    stream.end(pcm.subarray(777));
    const r = await h.done;
    expect(r).toMatchObject({ outcome: 'completed', durationMs: 1200 });
    const data = readFileSync(r.file!).subarray(44);
    expect(data.subarray(data.length - pcm.length)).toEqual(pcm);
  });

  it('relays an http stream decoded by ffmpeg (live relay path)', async () => {
    const server = await serveFile(fixture('music-10s.mp3'));
    try {
      const url = server.url;
      const decoder = spawnFfmpeg(decodeStreamArgs(url, 1));
      const out = createOutput({ type: 'file', dir: tempDir() });
      const r = await out.play({ sources: [{ kind: 'pcm-stream', stream: decoder.stdout, maxDurationMs: 5_000 }], volume: 100, label: 'relay' }).done;
      expect(r.outcome).toBe('completed');
      expect(Math.abs(r.durationMs - 1000)).toBeLessThan(30);
      expect(await meanVolumeDb(r.file!)).toBeGreaterThan(-40); // real audio, not silence
      await decoder.exited;
    } finally {
      server.close();
    }
  });
});

describe.concurrent('null output', () => {
  it('is paced like a sound card and discards the audio', async () => {
    const out = createOutput({ type: 'null' });
    expect(out.kind).toBe('null');
    expect((await out.check()).ok).toBe(true);
    const t0 = now();
    const r = await out.play({ sources: [{ kind: 'wav', path: tone1s }], volume: 80, label: 'n' }).done;
    expect(r).toMatchObject({ outcome: 'completed', framesWritten: 48_000 });
    expect(r.file).toBeUndefined();
    expect(now() - t0).toBeGreaterThan(950);
  });
});

describe.concurrent('command output', () => {
  it('pipes paced PCM to a program given as an argument array', async () => {
    const dir = tempDir();
    const target = path.join(dir, 'via sox; rm -rf x.wav'); // shell metacharacters stay literal
    const out = createOutput({
      type: 'command',
      argv: ['sox', '-q', '-t', 'raw', '-r', '48000', '-e', 'signed-integer', '-b', '16', '-c', '1', '-', '-t', 'wav', target],
    });
    expect(await out.check()).toMatchObject({ ok: true });
    const t0 = now();
    const r = await out.play({ sources: [{ kind: 'wav', path: tone1s }], volume: 100, label: 'cmd' }).done;
    expect(r).toMatchObject({ outcome: 'completed', framesWritten: 48_000 });
    expect(now() - t0).toBeGreaterThan(950);
    expect(existsSync(target)).toBe(true);
    expect((await probeAudio(target)).durationMs).toBe(1000);
  });

  it('reports a missing program and a program that dies', async () => {
    const missing = createOutput({ type: 'command', argv: ['/nonexistent/aplay'] });
    expect(await missing.check()).toMatchObject({ ok: false });
    const r = await missing.play({ sources: [{ kind: 'wav', path: tone1s }], volume: 100, label: 'm' }).done;
    expect(r.outcome).toBe('failed');
    expect(r.reason).toMatch(/cannot start: .*ENOENT/);

    // sox rejecting its arguments: exits at once with a message on stderr.
    const dying = createOutput({ type: 'command', argv: ['sox', '-t', 'raw', '-', '-t', 'nonexistent-type', 'x'] });
    const d = await dying.play({ sources: [{ kind: 'wav', path: tone1s }], volume: 100, label: 'd' }).done;
    expect(d.outcome).toBe('failed');
    expect(d.reason).toMatch(/output command sox .*(exited|failed).*code/);
    expect(d.durationMs).toBeLessThan(1000);
  });

  it('stop() kills the program so buffered audio never plays', async () => {
    const dir = tempDir();
    const target = path.join(dir, 'out.raw');
    const out = createOutput({ type: 'command', argv: ['dd', `of=${target}`, 'status=none'] });
    const h = out.play({ sources: [{ kind: 'wav', path: tone3s }], volume: 100, label: 'k' });
    await h.firstFrame;
    await sleep(300);
    h.stop();
    const r: PlaybackResult = await h.done;
    expect(r.outcome).toBe('stopped');
    expect(statSync(target).size).toBeLessThanOrEqual(r.framesWritten * 2);
  });
});

describe.concurrent('alsa output', () => {
  it('plays through ffmpeg’s alsa muxer (ALSA file plugin captures the samples)', async () => {
    const dir = tempDir();
    const capture = path.join(dir, 'capture.raw');
    const out = createOutput({ type: 'alsa', device: `file:'${capture}',raw` });
    expect(out.kind).toBe('alsa');
    const c = await out.check();
    expect(c).toMatchObject({ ok: true });
    const r = await out.play({ sources: [{ kind: 'wav', path: tone1s }], volume: 100, label: 'alsa' }).done;
    expect(r).toMatchObject({ outcome: 'completed', framesWritten: 48_000 });
    expect(readFileSync(capture)).toEqual(readFileSync(tone1s).subarray(44));
  });

  it('fails with ffmpeg’s reason when the device cannot be opened', async () => {
    const out = createOutput({ type: 'alsa', device: 'hw:97,0' });
    const r = await out.play({ sources: [{ kind: 'wav', path: tone1s }], volume: 100, label: 'nodev' }).done;
    expect(r.outcome).toBe('failed');
    expect(r.reason).toMatch(/ffmpeg alsa output \(hw:97,0\).*(cannot open|No such)/i);
  });

  it('check() fails clearly when the configured ffmpeg does not exist', async () => {
    const saved = process.env.LOA_FFMPEG;
    delete process.env.LOA_FFMPEG;
    try {
      const r = await createOutput({ type: 'alsa', device: 'default', ffmpegPath: '/nonexistent/ffmpeg' }).check();
      expect(r.ok).toBe(false);
      expect(r.detail).toMatch(/\/nonexistent\/ffmpeg/);
    } finally {
      if (saved !== undefined) process.env.LOA_FFMPEG = saved;
    }
  });
});
