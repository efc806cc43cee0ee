// What a real loa-station keeps bounded: test hooks that cannot move a production clock,
// media preparation that never runs more ffmpeg at once than configured, repeat gaps that
// cost neither memory nor disk, leftovers swept at start, and no sub-minute schedules.
// One real daemon per test against one private anonymous mosquitto; real ffmpeg.
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { runFfmpeg } from '../io/ffmpeg.js';
import { fixture, wavInfo } from '../support/audio.js';
import { type MosquittoBroker, startMosquitto } from '../support/mosquitto.js';
import { listWavs, makeKey, type StationProcess, startStation, TestController, writeStationConfig } from '../support/station.js';
import { launchStation } from '../support/station-fixture.js';
import { tempDir } from '../support/tmp.js';

const official = makeKey('official', ['schedule', 'announce', 'cancel', 'control']);
let broker: MosquittoBroker;
let ctl: TestController;
const running: StationProcess[] = [];

beforeAll(async () => {
  broker = await startMosquitto();
  ctl = await TestController.connect(broker.url);
});

afterAll(async () => {
  for (const s of running) await s.kill9();
  await ctl?.close();
  await broker?.stop();
});

async function launch(id: string, env: Record<string, string> = {}) {
  const l = await launchStation({ id, brokerUrl: broker.url, keys: [official] }, env);
  running.push(l.station);
  return { ...l, dataDir: path.join(l.dir, 'data'), out: path.join(l.dir, 'out', 'main'), pid: l.station.proc.pid! };
}

async function until<T>(what: string, check: () => T | undefined | false, ms = 20_000, logs?: () => string): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = check();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}${logs ? `\nstation log:\n${logs().slice(-3000)}` : ''}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Every file under dir, recursively (relative names). */
function walk(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...walk(p));
    else out.push(p);
  }
  return out;
}

/** Children of `pid` named ffmpeg, from /proc/<n>/stat (comm in parentheses, then state, then ppid). */
function ffmpegChildren(pid: number): number[] {
  const found: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${name}/stat`, 'utf8');
    } catch {
      continue; // exited meanwhile
    }
    const open = stat.indexOf('(');
    const close = stat.lastIndexOf(')');
    const comm = stat.slice(open + 1, close);
    const ppid = Number(stat.slice(close + 2).split(' ')[1]);
    if (ppid === pid && comm === 'ffmpeg') found.push(Number(name));
  }
  return found;
}

function rssKb(pid: number): number {
  const m = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!m) throw new Error(`no VmRSS for ${pid}`);
  return Number(m[1]);
}

/** A distinct sine tone (content-addressed clips must differ). */
async function toneFile(dir: string, hz: number, seconds: number): Promise<string> {
  const file = path.join(dir, `tone-${hz}-${seconds}s.wav`);
  await runFfmpeg(['-hide_banner', '-nostdin', '-loglevel', 'error', '-f', 'lavfi', '-i', `sine=frequency=${hz}:duration=${seconds}`, '-ar', '22050', '-ac', '1', '-y', file], {
    timeoutMs: 30_000,
  });
  return file;
}

describe('test hooks', () => {
  test('without LOA_TEST_HOOKS, LOA_CLOCK_START is ignored with a warning and an announcement issued now airs', async () => {
    // '' (not '1'): whatever the test runner's environment holds, hooks are off for this daemon.
    const st = await launch('hooks-off', { LOA_TEST_HOOKS: '', LOA_CLOCK_START: '2020-01-01T00:00:00Z' });
    try {
      expect(st.station.logs()).toMatch(/test hooks are off/);
      const media = await ctl.publishMedia(fixture('tone-3s.wav'));
      const env = ctl.envelope('announce', { title: 'now', audio: { kind: 'media', ...media } }, { stations: ['hooks-off'] }, official);
      await ctl.send('hooks-off', env);
      const end = await ctl.waitForAck(
        (a) => a.station === 'hooks-off' && (a.broadcastId === env.id || a.commandId === env.id) && ['completed', 'failed', 'rejected'].includes(a.state),
        30_000,
      );
      expect({ state: end.state, reason: end.reason }).toEqual({ state: 'completed', reason: undefined });
      expect(listWavs(st.out)).toHaveLength(1);
    } finally {
      await st.station.stop();
    }
  }, 60_000);

  test('with LOA_TEST_HOOKS=1 the same LOA_CLOCK_START puts the clock in 2020: an announcement issued now is not_yet_valid', async () => {
    const st = await launch('hooks-on', { LOA_TEST_HOOKS: '1', LOA_CLOCK_START: '2020-01-01T00:00:00Z' });
    try {
      expect(st.station.logs()).not.toMatch(/test hooks are off/);
      const media = await ctl.publishMedia(fixture('tone-3s.wav'));
      const env = ctl.envelope('announce', { title: 'from the future', audio: { kind: 'media', ...media } }, { stations: ['hooks-on'] }, official);
      await ctl.send('hooks-on', env);
      const rejected = await ctl.waitForAck((a) => a.station === 'hooks-on' && a.commandId === env.id && a.state !== 'received', 20_000);
      expect({ state: rejected.state, reason: rejected.reason }).toEqual({ state: 'rejected', reason: 'not_yet_valid' });
    } finally {
      await st.station.stop();
    }
  }, 60_000);
});

describe('bounded work', () => {
  test('preparing 8 new clips never runs more than 2 ffmpeg children at once, and all 8 end up prepared', async () => {
    const clipsDir = tempDir('loa-bounded-clips-');
    const files = await Promise.all(Array.from({ length: 8 }, (_, i) => toneFile(clipsDir, 300 + 70 * i, 20)));
    const st = await launch('prep-bound');
    let peak = 0;
    let samples = 0;
    const sampler = setInterval(() => {
      const n = ffmpegChildren(st.pid).length;
      samples++;
      if (n > peak) peak = n;
    }, 30);
    try {
      const clips: { sha256: string; size: number }[] = [];
      for (const f of files) clips.push(await ctl.publishMedia(f));
      const tomorrow = new Date(Date.now() + 86_400_000);
      const items = clips.map((c, i) => ({
        id: `clip-${i}`,
        at: new Date(tomorrow.getTime() + i * 60_000).toISOString(),
        title: `Clip ${i}`,
        audio: { kind: 'media', ...c },
      }));
      const env = ctl.envelope('schedule', { station: 'prep-bound', version: 1, tz: 'Asia/Ho_Chi_Minh', items }, { stations: ['prep-bound'] }, official);
      await ctl.pushSchedule('prep-bound', env);
      const applied = await ctl.waitForAck((a) => a.station === 'prep-bound' && a.commandId === env.id && (a.state === 'applied' || a.state === 'rejected'));
      expect(applied.state).toBe('applied');
      const cacheDir = path.join(st.dataDir, 'cache');
      const preparedShas = () =>
        new Set(
          readdirSync(cacheDir)
            .map((f) => /^([a-f0-9]{64})\..+\.wav$/.exec(f)?.[1])
            .filter(Boolean),
        );
      await until('all 8 clips prepared in the cache', () => clips.every((c) => preparedShas().has(c.sha256)), 45_000, st.station.logs);
    } finally {
      clearInterval(sampler);
    }
    try {
      expect(samples).toBeGreaterThan(10);
      // The sampler saw the work (so a peak of 0 cannot pass for "bounded")...
      expect(peak).toBeGreaterThanOrEqual(1);
      // ...and never more than cache.concurrency (default 2) pipelines' ffmpeg at once.
      expect(peak, `peak concurrent ffmpeg children: ${peak}`).toBeLessThanOrEqual(2);
      // Nothing failed along the way.
      expect(st.station.logs()).not.toMatch(/"msg":"media failed"/);
    } finally {
      await st.station.stop();
    }
  }, 60_000);

  test('a one-hour repeat gap costs no memory or disk: RSS grows < 40 MB, no silence file, the airing ends at max duration', async () => {
    const st = await launch('gap-bound');
    try {
      const media = await ctl.publishMedia(fixture('tone-3s.wav'));
      const before = rssKb(st.pid);
      const env = ctl.envelope('announce', { title: 'gap', repeat: 2, gapSec: 3600, maxDurationSec: 8, audio: { kind: 'media', ...media } }, { stations: ['gap-bound'] }, official);
      await ctl.send('gap-bound', env);
      await ctl.waitForAck((a) => a.station === 'gap-bound' && a.broadcastId === env.id && a.state === 'started', 30_000);
      const startedAt = Date.now();
      // In the gap (the 3 s clip is over, max duration not reached yet): sample RSS and the disk.
      await until('the clip to be over', () => Date.now() - startedAt > 3_500, 10_000);
      let peakKb = 0;
      while (Date.now() - startedAt < 7_000) {
        peakKb = Math.max(peakKb, rssKb(st.pid));
        const silence = walk(st.dataDir).filter((f) => path.basename(f).startsWith('silence-'));
        expect(silence, 'silence files on disk during the gap').toEqual([]);
        await new Promise((r) => setTimeout(r, 100));
      }
      expect((peakKb - before) / 1024, `RSS before ${before} kB, peak in gap ${peakKb} kB`).toBeLessThan(40);
      const end = await ctl.waitForAck((a) => a.station === 'gap-bound' && a.broadcastId === env.id && ['completed', 'failed', 'cancelled', 'preempted'].includes(a.state), 20_000);
      expect(end.state).toBe('completed');
      expect(walk(st.dataDir).filter((f) => path.basename(f).startsWith('silence-'))).toEqual([]);
      const wavs = listWavs(st.out);
      expect(wavs).toHaveLength(1);
      expect(Math.abs((await wavInfo(wavs[0]!)).durationMs - 8000)).toBeLessThan(250);
    } finally {
      await st.station.stop();
    }
  }, 60_000);

  test('leftovers in media/incoming from a previous run are removed at start', async () => {
    const dir = tempDir('loa-incoming-');
    const config = writeStationConfig({ id: 'sweep', dir, brokerUrl: broker.url, keys: [official] });
    const incoming = path.join(dir, 'data', 'media', 'incoming');
    mkdirSync(incoming, { recursive: true });
    const stray = path.join(incoming, 'a'.repeat(64));
    const strayTmp = path.join(incoming, `${'b'.repeat(64)}.tmp`);
    writeFileSync(stray, Buffer.alloc(4096, 1));
    writeFileSync(strayTmp, 'half written');
    const station = startStation(config);
    running.push(station);
    try {
      await station.waitForLog(/"msg":"subscribed"/);
      expect(existsSync(stray)).toBe(false);
      expect(existsSync(strayTmp)).toBe(false);
      expect(existsSync(incoming)).toBe(true);
    } finally {
      await station.stop();
    }
  }, 60_000);

  test('a schedule with a sub-minute (6-field) cron is rejected as invalid, naming the 5 fields', async () => {
    const st = await launch('cron-bound');
    try {
      const media = await ctl.publishMedia(fixture('tone-3s.wav'));
      const env = ctl.envelope(
        'schedule',
        {
          station: 'cron-bound',
          version: 1,
          tz: 'Asia/Ho_Chi_Minh',
          items: [{ id: 'every-5s', cron: '*/5 * * * * *', title: 'too often', audio: { kind: 'media', ...media } }],
        },
        { stations: ['cron-bound'] },
        official,
      );
      await ctl.pushSchedule('cron-bound', env);
      const ack = await ctl.waitForAck((a) => a.station === 'cron-bound' && a.commandId === env.id && a.state !== 'received');
      expect({ state: ack.state, reason: ack.reason }).toEqual({ state: 'rejected', reason: 'invalid' });
      expect(ack.detail).toMatch(/5 fields/);
      expect(ctl.acks.some((a) => a.station === 'cron-bound' && a.commandId === env.id && a.state === 'applied')).toBe(false);
    } finally {
      await st.station.stop();
    }
  }, 60_000);
});
