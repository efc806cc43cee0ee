// Station idle footprint: one loa-station connected to a private Mosquitto, chimes configured,
// production default telemetry interval (30 s), nothing to play. RSS from /proc/<pid>/status
// sampled every second; CPU from utime+stime in /proc/<pid>/stat over the window.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startMosquitto } from '../support/mosquitto.js';
import { makeKey, writeStationConfig } from '../support/station.js';
import { CLK_TCK, cpuTicks, fixture, median, rssKb, sleep, spawnStation, wallNow } from './lib.js';

export interface IdleResult {
  windowMs: number;
  rssMaxMb: number;
  rssMedianMb: number;
  cpuPct: number;
  samples: number;
  startupPeakMb: number;
  settleMs: number;
}

export async function idleFootprint(windowMs: number, settleMs: number): Promise<IdleResult> {
  const broker = await startMosquitto();
  const dir = mkdtempSync(path.join(os.tmpdir(), 'loa-bench-idle-'));
  const key = makeKey('bench-office');
  const cfg = writeStationConfig({
    id: 'idle-ward',
    dir,
    brokerUrl: broker.url,
    keys: [key],
    chimes: { emergency: fixture('chime-emergency.wav'), priority: fixture('chime-priority.wav'), normal: fixture('chime-normal.wav') },
    extra: { telemetrySec: 30 },
  });
  const st = spawnStation('idle-ward', dir, cfg);
  const pid = st.proc.pid!;
  // RSS from spawn on, so the start-up peak (before the first full GC) is reported too.
  let startupPeak = 0;
  const early = setInterval(() => {
    try {
      startupPeak = Math.max(startupPeak, rssKb(pid));
    } catch {
      /* not yet / gone */
    }
  }, 250);
  try {
    await st.waitForLog((l) => l.msg === 'subscribed', 60_000);
    await sleep(settleMs);
    clearInterval(early);
    const rss: number[] = [];
    const c0 = cpuTicks(pid);
    const t0 = wallNow();
    while (wallNow() - t0 < windowMs) {
      rss.push(rssKb(pid));
      await sleep(1000);
    }
    const c1 = cpuTicks(pid);
    const elapsed = wallNow() - t0;
    return {
      windowMs: elapsed,
      rssMaxMb: Math.max(...rss) / 1024,
      rssMedianMb: median(rss) / 1024,
      cpuPct: (((c1 - c0) / CLK_TCK) * 1000 * 100) / elapsed,
      samples: rss.length,
      startupPeakMb: startupPeak / 1024,
      settleMs,
    };
  } finally {
    clearInterval(early);
    await st.stop();
    await broker.stop();
    if (!process.env.LOA_KEEP_TMP) rmSync(dir, { recursive: true, force: true });
  }
}
