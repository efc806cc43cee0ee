// Emergency time-to-air (cached chime / uncached clip), preemption latency and scheduled start
// error, measured on 13 real `loa-station` processes with `file` outputs against one private
// Mosquitto on loopback. Times: bench process publish call -> the daemon's
// "first frame on air" `at` (both performance.timeOrigin + performance.now(), one machine clock).
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { readWavInfo } from '../daemon/outputs/wav.js';
import type { Ack } from '../protocol/index.js';
import { measureLoudness } from '../support/audio.js';
import { type MosquittoBroker, startMosquitto } from '../support/mosquitto.js';
import { makeKey, TestController, type TestKey, writeStationConfig } from '../support/station.js';
import { daemonDecodeArgs, ffmpegPath } from './ffmpeg-first-byte.js';
import { type BenchStation, fixture, progress, ROOT, readSubscriber, run, sleep, spawnStation, wallNow } from './lib.js';

export const STATION_COUNT = 13;

export interface Keys {
  office: TestKey;
  deputy: TestKey;
}

export function benchKeys(): Keys {
  return {
    office: makeKey('bench-office', ['schedule', 'announce', 'alert', 'cancel', 'control']),
    deputy: makeKey('bench-deputy', ['alert']),
  };
}

export interface Fleet {
  stations: BenchStation[];
  ids: string[];
  stop(): Promise<void>;
}

export async function startFleet(
  broker: MosquittoBroker,
  keys: Keys,
  opts: { chime: boolean; tag: string; count?: number; env?: Record<string, string>; nodeArgs?: string[]; collector?: boolean },
): Promise<Fleet> {
  const n = opts.count ?? STATION_COUNT;
  const stations: BenchStation[] = [];
  const dirs: string[] = [];
  for (let i = 0; i < n; i++) {
    const id = `ward-${String(i + 1).padStart(2, '0')}`;
    const dir = mkdtempSync(path.join(os.tmpdir(), `loa-bench-${opts.tag}-${id}-`));
    dirs.push(dir);
    const cfg = writeStationConfig({
      id,
      dir,
      brokerUrl: broker.url,
      keys: [keys.office, keys.deputy],
      alertQuorum: 2,
      chimes: opts.chime ? { emergency: fixture('chime-emergency.wav') } : {},
      ...(opts.collector ? { collector: true } : {}),
    });
    stations.push(spawnStation(id, dir, cfg, opts.env, opts.nodeArgs));
  }
  await Promise.all(stations.map((s) => s.waitForLog((l) => l.msg === 'subscribed', 60_000)));
  return {
    stations,
    ids: stations.map((s) => s.id),
    async stop() {
      await Promise.all(stations.map((s) => s.stop()));
      if (!process.env.LOA_KEEP_TMP) for (const d of dirs) rmSync(d, { recursive: true, force: true });
    },
  };
}

export async function waitAcks(ctl: TestController, ids: string[], broadcastId: string, state: Ack['state'], timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const have = new Set(ctl.acks.filter((a) => a.broadcastId === broadcastId && a.state === state).map((a) => a.station));
    if (ids.every((id) => have.has(id))) return;
    const bad = ctl.acks.find((a) => a.broadcastId === broadcastId && (a.state === 'failed' || a.state === 'rejected' || a.state === 'missed'));
    if (bad) throw new Error(`${broadcastId}: station ${bad.station} acked ${bad.state} (${bad.reason ?? ''} ${bad.detail ?? ''})`);
    if (Date.now() > deadline) {
      throw new Error(`${broadcastId}: no '${state}' ack within ${timeoutMs} ms from ${ids.filter((id) => !have.has(id)).join(', ')}`);
    }
    await sleep(20);
  }
}

/** Resolves when every station has logged "media prepared" for this clip (it is in its cache). */
export async function waitPrepared(fleet: Fleet, sha256: string, timeoutMs = 60_000): Promise<void> {
  await Promise.all(fleet.stations.map((s) => s.waitForLog((l) => l.msg === 'media prepared' && l.sha256 === sha256, timeoutMs)));
}

export async function waitFirstFrames(fleet: Fleet, key: string, timeoutMs = 10_000): Promise<number[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const at = fleet.stations.map((s) => s.firstFrames.get(key));
    if (at.every((x) => x !== undefined)) return at as number[];
    if (Date.now() > deadline)
      throw new Error(
        `${key}: no "first frame on air" from ${fleet.stations
          .filter((s) => !s.firstFrames.has(key))
          .map((s) => s.id)
          .join(', ')}`,
      );
    await sleep(20);
  }
}

/** Generates distinct 1 s sine WAVs (44.1 kHz mono: the station must resample them). */
export async function makeClips(dir: string, count: number, prefix: string, baseHz: number, seconds = 1): Promise<string[]> {
  const bin = ffmpegPath();
  const files: string[] = [];
  for (let i = 0; i < count; i++) {
    const f = path.join(dir, `${prefix}-${i}.wav`);
    const r = await run(bin, [
      '-hide_banner',
      '-nostdin',
      '-loglevel',
      'error',
      '-f',
      'lavfi',
      '-i',
      `sine=frequency=${baseHz + 7 * i}:sample_rate=44100:duration=${seconds}`,
      '-ac',
      '1',
      '-c:a',
      'pcm_s16le',
      '-y',
      f,
    ]);
    if (r.code !== 0) throw new Error(`ffmpeg could not make ${f}: ${r.stderr}`);
    files.push(f);
  }
  return files;
}

export function alertEnvelope(ctl: TestController, keys: Keys, audio: { sha256: string; size: number }, station?: string) {
  const target = station ? { stations: [station] } : { all: true };
  const env = ctl.envelope('alert', { title: 'bench', test: false, maxDurationSec: 1, audio: { kind: 'media', ...audio } }, target, keys.office);
  return ctl.cosign(env, keys.deputy);
}

/** Publish a signed alert on all/cmd (or one station's cmd); returns the wall time just before the publish call. */
export async function publishAlert(ctl: TestController, env: object, station?: string): Promise<number> {
  const payload = JSON.stringify(env);
  const topic = station ? ctl.topics.stationCmd(station) : ctl.topics.allCmd();
  const t0 = wallNow();
  await ctl.client.publishAsync(topic, payload, { qos: 1 });
  return t0;
}

export interface EmergencyResult {
  samples: number[];
  rounds: number;
}

/** (a) cached: chime-emergency.wav configured; first frame is the cached chime. */
export async function cachedRounds(
  fleet: Fleet,
  ctl: TestController,
  keys: Keys,
  clip: { sha256: string; size: number },
  rounds: number,
  warmup: number,
  only?: BenchStation,
): Promise<EmergencyResult> {
  const samples: number[] = [];
  const ids = only ? [only.id] : fleet.ids;
  for (let r = 0; r < warmup + rounds; r++) {
    const env = alertEnvelope(ctl, keys, clip, only?.id);
    const t0 = await publishAlert(ctl, env, only?.id);
    await waitAcks(ctl, ids, env.id, 'completed', r < warmup ? 60_000 : 30_000);
    const at = only ? [(await waitFirstFrames({ ...fleet, stations: [only] }, env.id))[0]!] : await waitFirstFrames(fleet, env.id);
    if (r >= warmup) samples.push(...at.map((a) => a - t0));
    await sleep(250);
  }
  return { samples, rounds };
}

/**
 * (b) uncached: a fresh clip each round, published to media/<sha> before the alert; no chime.
 * `loudness`: integrated loudness (LUFS, ffmpeg ebur128) of every station's recording of each
 * timed round: the clip's first airing, decoded live, before the station had prepared it.
 */
export async function uncachedRounds(
  fleet: Fleet,
  ctl: TestController,
  keys: Keys,
  clips: string[],
  rounds: number,
  warmup: number,
): Promise<EmergencyResult & { loudness: number[] }> {
  const samples: number[] = [];
  const timed: string[] = [];
  for (let r = 0; r < warmup + rounds; r++) {
    const media = await ctl.publishMedia(clips[r]!);
    const env = alertEnvelope(ctl, keys, media);
    const t0 = await publishAlert(ctl, env);
    await waitAcks(ctl, fleet.ids, env.id, 'completed', 60_000);
    const at = await waitFirstFrames(fleet, env.id);
    if (r >= warmup) {
      samples.push(...at.map((a) => a - t0));
      timed.push(env.id);
    }
    // Let each station finish normalising the clip into its cache before the next round.
    await waitPrepared(fleet, media.sha256);
    await sleep(250);
  }
  // Measured after the timed rounds, so the analysis does not load the machine during them.
  const loudness: number[] = [];
  for (const id of timed) {
    for (const s of fleet.stations) {
      const outDir = path.join(s.dir, 'out', 'main');
      const wav = readdirSync(outDir).find((f) => f.endsWith('.wav') && f.includes(id));
      if (!wav) throw new Error(`${s.id}: no recording of ${id}`);
      loudness.push((await measureLoudness(path.join(outDir, wav))).integratedLufs);
    }
  }
  return { samples, rounds, loudness };
}

/**
 * A live alert approved after its draft's prefetch hint (controller-cli/draft-prefetch.ts): each
 * round publishes a fresh clip and the draft signed by its first official on central/prefetch,
 * waits until every station has prepared the clip, then publishes the alert with both
 * signatures. No chime: the first frame is the clip itself, from the cache.
 */
export async function approvedRounds(fleet: Fleet, ctl: TestController, keys: Keys, clips: string[], rounds: number, warmup: number): Promise<EmergencyResult> {
  const samples: number[] = [];
  for (let r = 0; r < warmup + rounds; r++) {
    const media = await ctl.publishMedia(clips[r]!);
    const draft = ctl.envelope('alert', { title: 'bench', test: false, maxDurationSec: 1, audio: { kind: 'media', ...media } }, { all: true }, keys.office);
    await ctl.client.publishAsync(ctl.topics.prefetch(), JSON.stringify(draft), { qos: 1 });
    await waitPrepared(fleet, media.sha256);
    const env = ctl.cosign(draft, keys.deputy);
    const t0 = await publishAlert(ctl, env);
    await waitAcks(ctl, fleet.ids, env.id, 'completed', 60_000);
    const at = await waitFirstFrames(fleet, env.id);
    if (r >= warmup) samples.push(...at.map((a) => a - t0));
    await sleep(250);
  }
  return { samples, rounds };
}

/**
 * Preemption: a normal announce (music-10s) is on air at every station; an alert arrives at T0.
 * The preempted airing went off air when its last chunk was handed to the output: the daemon
 * logs that moment ("last frame on air", from the pacer), so latency = that − T0. (Before, this
 * was estimated as its first frame + the recorded WAV's duration.)
 */
export async function preemptionRounds(
  fleet: Fleet,
  ctl: TestController,
  keys: Keys,
  alertClip: { sha256: string; size: number },
  rounds: number,
  warmup: number,
): Promise<{ samples: number[]; estimated: number[] }> {
  const music = await ctl.publishMedia(fixture('music-10s.mp3'));
  const samples: number[] = [];
  const estimated: number[] = [];
  const pending: { announceId: string; t0: number }[] = [];
  for (let r = 0; r < warmup + rounds; r++) {
    const ann = ctl.envelope('announce', { title: 'music', audio: { kind: 'media', ...music } }, { all: true }, keys.office);
    await ctl.client.publishAsync(ctl.topics.allCmd(), JSON.stringify(ann), { qos: 1 });
    await waitAcks(ctl, fleet.ids, ann.id, 'started', 120_000);
    await sleep(800);
    const env = alertEnvelope(ctl, keys, alertClip);
    const t0 = await publishAlert(ctl, env);
    await waitAcks(ctl, fleet.ids, ann.id, 'preempted', 30_000);
    await waitAcks(ctl, fleet.ids, env.id, 'completed', 30_000);
    if (r >= warmup) pending.push({ announceId: ann.id, t0 });
    await sleep(250);
  }
  for (const { announceId, t0 } of pending) {
    for (const s of fleet.stations) {
      const last = await s.waitForLog((l) => l.msg === 'last frame on air' && l.key === announceId, 10_000);
      samples.push((last.at as number) - t0);
      // The old estimate, for comparison: first frame + the recorded WAV's duration.
      const first = s.firstFrames.get(announceId);
      const outDir = path.join(s.dir, 'out', 'main');
      const wav = readdirSync(outDir).find((f) => f.endsWith('.wav') && f.includes(announceId));
      if (first !== undefined && wav) estimated.push(first + (await readWavInfo(path.join(outDir, wav))).durationMs - t0);
    }
  }
  return { samples, estimated };
}

/**
 * Scheduled start: every station gets a signed schedule of `perStation` `at` items spaced 1 s
 * apart; stations are offset by 1000/N ms so they do not all fire in the same instant.
 */
export async function scheduledRun(
  fleet: Fleet,
  ctl: TestController,
  keys: Keys,
  clip: { sha256: string; size: number },
  perStation: number,
): Promise<{ errors: number[]; missing: number }> {
  const base = Math.ceil((Date.now() + 6000) / 1000) * 1000;
  const plan: { station: BenchStation; key: string; planned: number }[] = [];
  const stagger = Math.floor(1000 / fleet.stations.length);
  for (const [si, s] of fleet.stations.entries()) {
    const items = Array.from({ length: perStation }, (_, k) => {
      const planned = base + k * 1000 + si * stagger;
      const id = `bench-${k}`;
      plan.push({ station: s, key: `${id}-${Math.floor(planned / 1000)}`, planned });
      return { id, at: new Date(planned).toISOString(), title: `bench ${k}`, audio: { kind: 'media', ...clip } };
    });
    const env = ctl.envelope('schedule', { station: s.id, version: 1, tz: 'Asia/Ho_Chi_Minh', items }, { stations: [s.id] }, keys.office);
    await ctl.pushSchedule(s.id, env);
  }
  await sleep(Math.max(0, base + perStation * 1000 + 2500 - Date.now()));
  const errors: number[] = [];
  let missing = 0;
  for (const p of plan) {
    const at = p.station.firstFrames.get(p.key);
    if (at === undefined) missing++;
    else errors.push(at - p.planned);
  }
  return { errors, missing };
}

/** The naive baseline: N subscriber processes, each spawning ffmpeg per message. */
export async function naiveRounds(brokerUrl: string, clips: string[], rounds: number, warmup: number, width = STATION_COUNT): Promise<number[]> {
  const bin = ffmpegPath();
  const topic = 'bench/naive';
  const script = path.join(ROOT, 'dist/bench/naive-subscriber.js');
  const subs = Array.from({ length: width }, () => spawn(process.execPath, [script, brokerUrl, topic, bin], { stdio: ['ignore', 'pipe', 'inherit'] }));
  const results: { round: number; at: number }[] = [];
  await Promise.all(subs.map((p) => readSubscriber(p, 'naive', results)));
  const ctl = await TestController.connect(brokerUrl);
  const samples: number[] = [];
  try {
    for (let r = 0; r < warmup + rounds; r++) {
      const payload = JSON.stringify({ round: r, file: clips[r % clips.length] });
      const t0 = wallNow();
      await ctl.client.publishAsync(topic, payload, { qos: 1 });
      const deadline = Date.now() + 20_000;
      while (results.filter((x) => x.round === r).length < width) {
        if (Date.now() > deadline) throw new Error(`naive round ${r}: only ${results.filter((x) => x.round === r).length}/${width} answered`);
        await sleep(10);
      }
      if (r >= warmup) samples.push(...results.filter((x) => x.round === r).map((x) => x.at - t0));
      await sleep(400); // each ffmpeg decodes its 1 s clip to the end (~50x real time)
    }
  } finally {
    await ctl.close();
    subs.forEach((p) => p.kill('SIGTERM'));
  }
  return samples;
}

export { daemonDecodeArgs };

export async function withBroker<T>(fn: (b: MosquittoBroker) => Promise<T>, extraConfig?: string): Promise<T> {
  const broker = await startMosquitto(extraConfig ? { extraConfig } : {});
  try {
    return await fn(broker);
  } finally {
    await broker.stop();
  }
}

export function note(line: string): void {
  progress(line);
}

/** One untimed alert with the clip so every station fetches and caches it; waits until cached. */
export async function warmClip(fleet: Fleet, ctl: TestController, keys: Keys, clip: { sha256: string; size: number }): Promise<void> {
  const env = alertEnvelope(ctl, keys, clip);
  await publishAlert(ctl, env);
  await waitAcks(ctl, fleet.ids, env.id, 'completed', 60_000);
  await waitPrepared(fleet, clip.sha256);
  await sleep(250);
}
