// Live microphone, mouth to speaker: the method of test/console-browser-2.test.ts's last test,
// repeated. One real `loa-station` (file output) and `loa serve --collect` (support/console-fleet.ts);
// Chromium's fake capture device plays a WAV with 3 s of silence, then a 1 kHz beep. An operator
// goes live from the browser's /live page (MediaRecorder Opus -> WebSocket -> the console's
// ffmpeg -> the station fetching the stream over HTTP -> its output).
//   spoken = the page's data-capture-started (Date.now() when getUserMedia resolved) + 3000 ms;
//   heard  = (a) the output WAV's name (the instant the station opened it) + onset / 48 kHz, the
//            test's method; (b) the wall time the bench first read the beep's onset from the
//            growing WAV (polled every POLL_MS), independent of the file's timeline.
// The file output writes at real-time pace but does not pad underruns with silence, so (a) places
// every sample after a stall too early; (b) is an upper bound within one poll.
import { execFileSync, spawn } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readdirSync, readFileSync, readSync, rmSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { decodeStreamArgs } from '../daemon/media/prepare.js';
import { wavHeader } from '../daemon/outputs/wav.js';
import { startConsoleFleet } from '../support/console-fleet.js';
import { chromiumVersion, launchChromium } from './console-render.js';
import { ffmpegPath } from './ffmpeg-first-byte.js';
import { type Dist, dist, progress, sleep, wallNow } from './lib.js';

const STATION = 'phuong-cam-pho';
const RATE = 48_000;
const THRESHOLD = 1500; // |s16| above this: the beep (the silence before it encodes to ~0)
const BEEP_AT_MS = 3000;
const POLL_MS = 10;

export interface LiveMicResult {
  chromium: string;
  /** (a) file name + onset offset − spoken, per session (ms). */
  byFileName: number[];
  /** (b) onset first read from the growing file − spoken (ms). */
  observed: number[];
  /** The station's "first frame on air" (daemon log) + onset offset − spoken (ms). */
  byFirstFrame: number[];
  /** Spoken -> the beep's first PCM bytes reaching a listener of the console's live stream (the bench, beside the station). */
  consoleStream: number[];
  /** Capture start -> the station's first frame on air (ms). */
  captureToAir: number[];
  failures: string[];
}

function listDir(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return []; // the file output makes its directory at the first playback
  }
}

/** The first sample above THRESHOLD in a growing WAV, and the wall time it was first read. */
async function watchOnset(dir: string, before: Set<string>, deadline: number): Promise<{ file: string; seenAt: number } | undefined> {
  let file: string | undefined;
  let fd: number | undefined;
  let offset = 44;
  const buf = Buffer.alloc(1 << 16);
  try {
    while (wallNow() < deadline) {
      file ??= listDir(dir).find((x) => !before.has(x) && x.endsWith('.wav'));
      if (file && fd === undefined) fd = openSync(path.join(dir, file), 'r');
      if (fd !== undefined) {
        for (;;) {
          const n = readSync(fd, buf, 0, buf.length, offset) & ~1;
          const seenAt = wallNow();
          if (n === 0) break;
          for (let i = 0; i < n; i += 2) if (Math.abs(buf.readInt16LE(i)) > THRESHOLD) return { file: file!, seenAt };
          offset += n;
        }
      }
      await sleep(POLL_MS);
    }
    return undefined;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/**
 * A second listener on the console's live stream (what a station fetches): the wall time the
 * beep's first bytes arrive, i.e. browser capture + MediaRecorder + WebSocket + the console's ffmpeg.
 */
function tapStream(url: string, deadline: number): Promise<number | undefined> {
  return new Promise((resolve) => {
    let header = 44;
    let carry: Buffer | undefined;
    const done = (t: number | undefined) => {
      clearTimeout(timer);
      req.destroy();
      resolve(t);
    };
    const timer = setTimeout(() => done(undefined), Math.max(0, deadline - wallNow()));
    const req = http.get(url, { agent: false }, (res) => {
      res.on('data', (chunk: Buffer) => {
        const t = wallNow();
        let b = carry ? Buffer.concat([carry, chunk]) : chunk;
        if (header > 0) {
          const skip = Math.min(header, b.length);
          header -= skip;
          b = b.subarray(skip);
        }
        const even = b.length & ~1;
        carry = even < b.length ? b.subarray(even) : undefined;
        for (let i = 0; i < even; i += 2) if (Math.abs(b.readInt16LE(i)) > THRESHOLD) return done(t);
      });
      res.on('end', () => done(undefined));
    });
    req.on('error', () => done(undefined));
  });
}

/** Onset (samples) in a finished WAV, and the instant its name says playback opened. */
function onsetInFile(file: string): { opened: number; onset: number } {
  const wav = readFileSync(file);
  const pcm = new Int16Array(wav.buffer, wav.byteOffset + 44, Math.floor((wav.length - 44) / 2));
  const name = path.basename(file);
  const opened = Date.parse(name.slice(0, 24).replace(/T(\d\d)-(\d\d)-(\d\d)/, 'T$1:$2:$3'));
  return { opened, onset: pcm.findIndex((v) => Math.abs(v) > THRESHOLD) };
}

export async function liveMicLatency(o: { sessions: number }): Promise<LiveMicResult> {
  const work = mkdtempSync(path.join(os.tmpdir(), 'loa-bench-mic-'));
  // 3 s of silence, a 1 kHz beep for 1 s, 8 s of silence (the fake microphone loops it).
  const tone = path.join(work, 'beep.wav');
  execFileSync(ffmpegPath(), [
    ...['-hide_banner', '-loglevel', 'error', '-y'],
    ...[
      '-f',
      'lavfi',
      '-i',
      'anullsrc=r=48000:cl=mono:d=3',
      '-f',
      'lavfi',
      '-i',
      'sine=frequency=1000:sample_rate=48000:duration=1',
      '-f',
      'lavfi',
      '-i',
      'anullsrc=r=48000:cl=mono:d=8',
    ],
    ...['-filter_complex', '[0][1][2]concat=n=3:v=0:a=1', '-ac', '1', '-ar', '48000', tone],
  ]);
  const f = await startConsoleFleet({
    stations: [{ id: STATION, name: 'Phường Cẩm Phô', group: 'hoi-an', location: { lat: 15.877, lon: 108.328 } }],
    groups: [{ id: 'hoi-an', name: 'Hội An' }],
    keys: [{ id: 'centre', allow: ['schedule', 'announce', 'alert', 'cancel'] }],
    users: [{ name: 'centre', role: 'operator', password: 'trung-tam-mat-khau', key: 'centre' }],
    telemetrySec: 2,
  });
  const r: LiveMicResult = {
    chromium: chromiumVersion(),
    byFileName: [],
    observed: [],
    byFirstFrame: [],
    consoleStream: [],
    captureToAir: [],
    failures: [],
  };
  let chromeRun: Awaited<ReturnType<typeof launchChromium>> | undefined;
  try {
    chromeRun = await launchChromium(['--use-fake-device-for-media-stream', '--use-fake-ui-for-media-stream', `--use-file-for-fake-audio-capture=${tone}`]);
    const base = f.console.url.replace(/\/$/, '');
    const page: Page = chromeRun.context.pages()[0] ?? (await chromeRun.context.newPage());
    await page.goto(`${base}/`);
    await page.fill('input[name=name]', 'centre');
    await page.fill('input[name=password]', 'trung-tam-mat-khau');
    await page.click('button[type=submit]');
    await page.waitForSelector('header.top');
    const out = f.outDir(STATION);
    const station = f.stations.get(STATION)!;
    for (let i = 0; i < o.sessions; i++) {
      const before = new Set(listDir(out));
      const logBefore = station.logs().length;
      // A fresh live page each session.
      await page.click('a[data-nav="/"]');
      await page.click('a[data-nav="/live"]');
      await page.check(`input[data-target=${STATION}]`);
      await page.fill('input[name=title]', `Trực tiếp đo ${i + 1}`);
      const started = page.waitForResponse((res) => new URL(res.url()).pathname === '/api/live' && res.request().method() === 'POST');
      await page.click('button[data-action=go-live]');
      const { token } = (await (await started).json()) as { token: string };
      const tap = tapStream(`${base}/live/${token}.wav`, wallNow() + 15_000);
      await page.waitForSelector('section[data-on-air=yes]');
      const captureStarted = Number(await page.getAttribute('section.live-mic', 'data-capture-started'));
      const spoken = captureStarted + BEEP_AT_MS;
      const seen = await watchOnset(out, before, captureStarted + 15_000);
      const atConsole = await tap;
      await page.click('button[data-action=stop-live]');
      await page.waitForSelector('[data-ended]');
      const id = (await page.getAttribute('[data-ended]', 'data-ended'))!;
      // The station finished the playback (its WAV is final) before the file is read.
      const deadline = wallNow() + 30_000;
      let state = '';
      while (wallNow() < deadline) {
        state = await page.evaluate(async (bid) => ((await (await fetch(`/api/broadcasts/${bid}`)).json()) as { progress: { state: string }[] }).progress[0]?.state ?? '', id);
        if (state === 'completed' || state === 'failed') break;
        await sleep(250);
      }
      if (!seen) {
        r.failures.push(`session ${i + 1}: no beep at the output within 15 s of capture (broadcast ${id}: ${state})`);
        continue;
      }
      const { opened, onset } = onsetInFile(path.join(out, seen.file));
      const firstFrame = station
        .logs()
        .slice(logBefore)
        .split('\n')
        .map((l) => {
          try {
            return JSON.parse(l) as { msg?: string; at?: number };
          } catch {
            return {};
          }
        })
        .find((l) => l.msg === 'first frame on air' && typeof l.at === 'number')?.at;
      r.observed.push(seen.seenAt - spoken);
      if (atConsole !== undefined) r.consoleStream.push(atConsole - spoken);
      r.byFileName.push(opened + (onset / RATE) * 1000 - spoken);
      if (firstFrame !== undefined) {
        r.byFirstFrame.push(firstFrame + (onset / RATE) * 1000 - spoken);
        r.captureToAir.push(firstFrame - captureStarted);
      }
      progress(
        `live mic ${i + 1}/${o.sessions}: by file name ${(opened + (onset / RATE) * 1000 - spoken).toFixed(0)} ms, observed ${(seen.seenAt - spoken).toFixed(0)} ms, at the console's stream ${atConsole === undefined ? '-' : (atConsole - spoken).toFixed(0)} ms${firstFrame !== undefined ? `, capture -> first frame ${(firstFrame - captureStarted).toFixed(0)} ms` : ''} (${state})`,
      );
    }
    return r;
  } catch (e) {
    progress(`live mic: ${(e as Error).stack}`);
    throw e;
  } finally {
    await chromeRun?.close();
    await f.stop();
    rmSync(work, { recursive: true, force: true });
  }
}

/**
 * Baseline for the station side: the station's relay decoder (ffmpeg with the daemon's own
 * decodeStreamArgs) fetching a live WAV stream shaped like the console's (a header of unknown
 * length, then 20 ms of PCM every 20 ms from the moment the request arrives). startup = spawn ->
 * first PCM byte on stdout; backlog = request arrived -> first byte: audio already waiting when
 * the decoder starts to deliver, which the paced output then plays behind real time for the
 * whole broadcast (it neither pads nor skips).
 */
export async function relayStartup(reps: number): Promise<{ startup: Dist; backlog: Dist }> {
  const header = wavHeader(0);
  header.writeUInt32LE(0xffffffff, 4);
  header.writeUInt32LE(0xffffffff, 40);
  let requestAt = 0;
  const server = http.createServer((_req, res) => {
    requestAt = wallNow();
    res.writeHead(200, { 'content-type': 'audio/wav', 'cache-control': 'no-store', connection: 'close' });
    res.write(header);
    let sent = 0;
    const timer = setInterval(() => {
      for (const due = Math.floor((wallNow() - requestAt) / 20); sent < due; sent++) res.write(Buffer.alloc(1920));
    }, 5);
    res.on('close', () => clearInterval(timer));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}/live/bench.wav`;
  const startup: number[] = [];
  const backlog: number[] = [];
  try {
    for (let i = 0; i < reps; i++) {
      const t0 = wallNow();
      const p = spawn(ffmpegPath(), decodeStreamArgs(url, 60), { stdio: ['ignore', 'pipe', 'ignore'] });
      const first = await new Promise<number>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('relay decoder: no PCM within 15 s')), 15_000);
        p.stdout.once('data', () => {
          clearTimeout(timer);
          resolve(wallNow());
        });
      });
      startup.push(first - t0);
      backlog.push(first - requestAt);
      p.kill('SIGKILL');
      await new Promise((r) => p.once('close', r));
      await sleep(200);
    }
  } finally {
    server.closeAllConnections();
    server.close();
  }
  return { startup: dist(startup), backlog: dist(backlog) };
}
