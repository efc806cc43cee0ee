// Diagnostic, not part of `npm run bench`: runs chosen rows of the bench on their own and prints
// each as n · p50 · p95 · p99 · max, with the load average around it. For working on one row
// without the whole run; the figures in docs/performance.md come from `npm run bench`.
//   node dist/bench/diagnostics/rows.js cached,alone,preemption,uncached,naive,bare,alsa,floor,transcode,idle [rounds]
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startMosquitto } from '../../support/mosquitto.js';
import { TestController } from '../../support/station.js';
import { alsaRounds } from '../alsa.js';
import { bareFirstByte, plainDecodeArgs } from '../ffmpeg-first-byte.js';
import { cachedWithFloor, floorRatio, floorRounds, fmtRow } from '../floor.js';
import { idleFootprint } from '../idle.js';
import { dist, fixture, loadAvg, median, progress } from '../lib.js';
import { benchKeys, cachedRounds, makeClips, naiveRounds, preemptionRounds, STATION_COUNT, startFleet, uncachedRounds, warmClip } from '../stations.js';
import { makeTtsClip, transcodeBench } from '../transcode.js';

const want = new Set((process.argv[2] ?? 'cached').split(','));
const ROUNDS = Number(process.argv[3] ?? 20);
const WARMUP = 2;
const keys = benchKeys();
const work = mkdtempSync(path.join(os.tmpdir(), 'loa-rows-'));
const out: string[] = [];
const say = (line: string) => {
  out.push(line);
  progress(line);
};
const loadNote = (name: string, before: string) => `${name} (load ${before} → ${loadAvg()})`;

if (want.has('transcode')) {
  const tts = await makeTtsClip(work);
  for (const [label, file] of [
    ['music (music-10s.mp3)', fixture('music-10s.mp3')],
    ['spoken (speech-vi.wav)', fixture('speech-vi.wav')],
    ['TTS (espeak-ng vi)', tts],
  ] as const) {
    if (!file) {
      say(`transcode ${label}: skipped (no espeak-ng)`);
      continue;
    }
    const before = loadAvg();
    const r = await transcodeBench(file, 5);
    const p = median(r.prepareMs);
    const b = median(r.bareMs);
    say(
      `${loadNote(`transcode ${label}`, before)}: station median ${p.toFixed(0)} ms (${r.passes} ffmpeg runs, linear=${r.linear}, ${r.outputLufs.toFixed(1)} LUFS) vs bare two-pass median ${b.toFixed(0)} ms → ratio ${(p / b).toFixed(3)}; runs station ${r.prepareMs.map((x) => x.toFixed(0)).join(' ')} / bare ${r.bareMs.map((x) => x.toFixed(0)).join(' ')}`,
    );
  }
}

if (want.has('cached') || want.has('alone') || want.has('preemption') || want.has('floor')) {
  const broker = await startMosquitto();
  const ctl = await TestController.connect(broker.url);
  try {
    if (want.has('floor')) {
      const before = loadAvg();
      say(`${loadNote('floor alone', before)}: ${fmtRow(dist(await floorRounds(ctl, broker.url, ROUNDS, WARMUP)))}`);
    }
    const fleet = await startFleet(broker, keys, { chime: true, tag: 'rows' });
    try {
      const [short] = await makeClips(work, 1, 'short', 440, 0.5);
      const clip = await ctl.publishMedia(short!);
      await warmClip(fleet, ctl, keys, clip);
      if (want.has('cached')) {
        const before = loadAvg();
        const r = await cachedWithFloor(fleet, ctl, broker.url, keys, clip, ROUNDS, WARMUP);
        const d = dist(r.samples);
        const f = dist(r.floor);
        say(`${loadNote('emergency cached, 13 stations', before)}: ${fmtRow(d)}; ${floorRatio(d, f).text}`);
        say(`  floor (interleaved): ${fmtRow(f)}`);
      }
      if (want.has('alone')) {
        const before = loadAvg();
        const one = dist((await cachedRounds(fleet, ctl, keys, clip, ROUNDS, WARMUP, fleet.stations[0])).samples);
        say(`${loadNote('emergency cached, 1 station alone', before)}: ${fmtRow(one)}`);
      }
      if (want.has('preemption')) {
        const before = loadAvg();
        const r = await preemptionRounds(fleet, ctl, keys, clip, Math.max(4, Math.round(ROUNDS / 2.5)), 1);
        say(`${loadNote('preemption (last frame − T0)', before)}: ${fmtRow(dist(r.samples))}`);
        say(`  old estimate (first frame + WAV duration − T0): ${fmtRow(dist(r.estimated))}`);
      }
    } finally {
      await fleet.stop();
    }
  } finally {
    await ctl.close();
    await broker.stop();
  }
}

if (want.has('uncached') || want.has('naive') || want.has('bare')) {
  const clips = await makeClips(work, WARMUP + ROUNDS, 'uncached', 300);
  if (want.has('bare')) {
    const before = loadAvg();
    const r = await bareFirstByte(clips, { serial: 20, rounds: ROUNDS, width: STATION_COUNT });
    say(`${loadNote('bare ffmpeg (daemon args, loudnorm), 13 at once', before)}: ${fmtRow(dist(r.concurrent))}; one at a time ${fmtRow(dist(r.serial))}`);
    const before2 = loadAvg();
    const p = await bareFirstByte(clips, { serial: 20, rounds: ROUNDS, width: STATION_COUNT, args: plainDecodeArgs });
    say(`${loadNote('bare ffmpeg (no loudness filter), 13 at once', before2)}: ${fmtRow(dist(p.concurrent))}; one at a time ${fmtRow(dist(p.serial))}`);
  }
  const broker = await startMosquitto();
  const ctl = await TestController.connect(broker.url);
  try {
    if (want.has('uncached')) {
      const fleet = await startFleet(broker, keys, { chime: false, tag: 'rows-nochime' });
      try {
        const before = loadAvg();
        const r = await uncachedRounds(fleet, ctl, keys, clips, ROUNDS, WARMUP);
        say(`${loadNote('emergency uncached, 13 stations', before)}: ${fmtRow(dist(r.samples))}`);
        const dev = r.loudness.map((l) => Math.abs(l - -16));
        say(`  first-airing loudness: ${fmtRow(dist(r.loudness)).replace(/ ms$/, ' LUFS')}; |Δ target| max ${Math.max(...dev).toFixed(2)} LU`);
      } finally {
        await fleet.stop();
      }
    }
    if (want.has('naive')) {
      const before = loadAvg();
      say(`${loadNote('naive subscriber + ffmpeg, 13', before)}: ${fmtRow(dist(await naiveRounds(broker.url, clips, ROUNDS, WARMUP)))}`);
    }
  } finally {
    await ctl.close();
    await broker.stop();
  }
}

if (want.has('alsa')) {
  const broker = await startMosquitto();
  try {
    const before = loadAvg();
    const r = await alsaRounds(broker, keys, ROUNDS, WARMUP);
    say(`${loadNote('emergency cached at the ALSA layer, 13 stations', before)}: to alsa-lib ${fmtRow(dist(r.toAlsa))}`);
    say(`  to the alsa output's ffmpeg (daemon "first frame"): ${fmtRow(dist(r.toPipe))}; audio alsa-lib received per airing ${fmtRow(dist(r.receivedMs))}`);
  } finally {
    await broker.stop();
  }
}

if (want.has('idle')) {
  const before = loadAvg();
  const r = await idleFootprint(60_000, 15_000);
  say(
    `${loadNote('idle', before)}: RSS max ${r.rssMaxMb.toFixed(1)} MiB (median ${r.rssMedianMb.toFixed(1)}; start-up peak ${r.startupPeakMb.toFixed(1)}); CPU ${r.cpuPct.toFixed(2)} % over ${(r.windowMs / 1000).toFixed(0)} s`,
  );
}

rmSync(work, { recursive: true, force: true });
process.stdout.write(`${out.join('\n')}\n`);
