// The physical floor under every time-to-air row: 13 minimal subscriber processes
// (bench/floor-subscriber.ts) that write a cached PCM frame to a WAV the moment an MQTT message
// arrives, with no verification and no durability. Absolute milliseconds on a shared 2-core
// machine move with its load; the ratio of a row to this floor, measured in the same run
// (interleaved round by round with the stations), mostly does not.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { TestController } from '../support/station.js';
import { type Dist, dist, fixture, ROOT, readSubscriber, sleep, wallNow } from './lib.js';
import { alertEnvelope, type EmergencyResult, type Fleet, type Keys, publishAlert, STATION_COUNT, waitAcks, waitFirstFrames } from './stations.js';

const FLOOR_TOPIC = 'bench/floor';

export interface FloorFleet {
  /** One message to every subscriber; resolves with each one's publish → frame written (ms). */
  round(payload?: object): Promise<number[]>;
  stop(): Promise<void>;
}

/** Starts `width` floor subscribers on the broker (its anonymous bench listener). */
export async function startFloor(ctl: TestController, brokerUrl: string, width = STATION_COUNT): Promise<FloorFleet> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'loa-bench-floor-'));
  const script = path.join(ROOT, 'dist/bench/floor-subscriber.js');
  const results: { round: number; at: number }[] = [];
  const subs: ChildProcess[] = [];
  await Promise.all(
    Array.from({ length: width }, (_, i) => {
      const p = spawn(process.execPath, [script, brokerUrl, FLOOR_TOPIC, path.join(dir, `sub-${i}`), fixture('chime-emergency.wav')], { stdio: ['ignore', 'pipe', 'inherit'] });
      subs.push(p);
      return readSubscriber(p, 'floor', results);
    }),
  );
  let next = 0;
  return {
    async round(payload = {}) {
      const round = next++;
      const body = JSON.stringify({ ...payload, round });
      const t0 = wallNow();
      await ctl.client.publishAsync(FLOOR_TOPIC, body, { qos: 1 });
      const deadline = Date.now() + 20_000;
      while (results.filter((x) => x.round === round).length < width) {
        if (Date.now() > deadline) throw new Error(`floor round ${round}: only ${results.filter((x) => x.round === round).length}/${width} answered`);
        await sleep(5);
      }
      return results.filter((x) => x.round === round).map((x) => x.at - t0);
    },
    async stop() {
      await Promise.all(
        subs.map(
          (p) =>
            new Promise<void>((resolve) => {
              if (p.exitCode !== null || p.signalCode !== null) return resolve();
              p.once('exit', () => resolve());
              p.kill('SIGTERM');
            }),
        ),
      );
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** The floor alone: `rounds` messages (after `warmup`), each to every subscriber. */
export async function floorRounds(ctl: TestController, brokerUrl: string, rounds: number, warmup: number, width = STATION_COUNT): Promise<number[]> {
  const floor = await startFloor(ctl, brokerUrl, width);
  const samples: number[] = [];
  try {
    for (let r = 0; r < warmup + rounds; r++) {
      const s = await floor.round();
      if (r >= warmup) samples.push(...s);
      await sleep(250);
    }
  } finally {
    await floor.stop();
  }
  return samples;
}

/**
 * The cached-chime emergency row and the floor, interleaved round by round on the same broker
 * and machine: an alert to every station (wait until all completed), then the floor message
 * (the same signed alert as its payload, so both parse a message of the same size).
 */
export async function cachedWithFloor(
  fleet: Fleet,
  ctl: TestController,
  brokerUrl: string,
  keys: Keys,
  clip: { sha256: string; size: number },
  rounds: number,
  warmup: number,
): Promise<EmergencyResult & { floor: number[] }> {
  const floor = await startFloor(ctl, brokerUrl, fleet.stations.length);
  const samples: number[] = [];
  const floorSamples: number[] = [];
  try {
    for (let r = 0; r < warmup + rounds; r++) {
      const env = alertEnvelope(ctl, keys, clip);
      const t0 = await publishAlert(ctl, env);
      await waitAcks(ctl, fleet.ids, env.id, 'completed', r < warmup ? 60_000 : 30_000);
      const at = await waitFirstFrames(fleet, env.id);
      await sleep(250);
      const f = await floor.round({ alert: env });
      if (r >= warmup) {
        samples.push(...at.map((a) => a - t0));
        floorSamples.push(...f);
      }
      await sleep(250);
    }
  } finally {
    await floor.stop();
  }
  return { samples, rounds, floor: floorSamples };
}

/** "n · p50 · p95 · p99 · max" in ms, the form every row states. */
export function fmtRow(d: Dist): string {
  return `n=${d.n} · p50 ${d.p50.toFixed(1)} · p95 ${d.p95.toFixed(1)} · p99 ${d.p99.toFixed(1)} · max ${d.max.toFixed(1)} ms`;
}

/** A row's ratio to the floor measured beside it (p50 and p99). */
export function floorRatio(row: Dist, floor: Dist): { p50: number; p99: number; text: string } {
  const p50 = row.p50 / floor.p50;
  const p99 = row.p99 / floor.p99;
  return { p50, p99, text: `× floor: p50 ${p50.toFixed(2)} · p99 **${p99.toFixed(2)}**` };
}

export { dist };
