// Emergency time-to-air at the ALSA layer: 13 `loa-station` processes whose zone output is
// `alsa` (ffmpeg's alsa muxer, as on a ward box), no sound card. The bench writes an ALSA
// configuration (ALSA_CONFIG_PATH) in which each station's device is alsa-lib's `file` PCM
// plugin over a null slave:
//   pcm.loa_ward-01 { type file; slave.pcm { type null }; file "<dir>/ward-01.raw"; format raw }
// alsa-lib creates that file while ffmpeg sets the device up, immediately before ffmpeg's first
// snd_pcm_writei() (measured on this machine: within a millisecond of ffmpeg's own record of
// handing the first packet to its muxer). The file's contents lag (the plugin writes them only
// once a whole ALSA buffer is queued, and at close), so its creation, seen with inotify
// (fs.watch) by the bench, is the time the first frame reached alsa-lib.
import { mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, unlinkSync, watch, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { MosquittoBroker } from '../support/mosquitto.js';
import { TestController, writeStationConfig } from '../support/station.js';
import { type BenchStation, fixture, progress, sleep, spawnStation, wallNow } from './lib.js';
import { alertEnvelope, type Keys, publishAlert, STATION_COUNT, waitAcks, waitFirstFrames } from './stations.js';

/** An ALSA configuration with one `file`-plugin device per station, nothing else. */
export function alsaFileConfig(devices: { name: string; file: string }[]): string {
  return devices.map((d) => `pcm.${JSON.stringify(d.name)} {\n  type file\n  slave.pcm { type null }\n  file ${JSON.stringify(d.file)}\n  format raw\n}\n`).join('\n');
}

export interface AlsaResult {
  /** publish → first frame handed to alsa-lib (its file plugin created the file). */
  toAlsa: number[];
  /** publish → first chunk handed to the alsa output's ffmpeg (the daemon's "first frame on air"). */
  toPipe: number[];
  /** Per station and round: ms of audio alsa-lib received (file size / 96 bytes per ms). */
  receivedMs: number[];
}

/**
 * `rounds` emergencies (after `warmup`) with the cached emergency chime on `count` stations with
 * `alsa` outputs. Each round waits until every station acked `completed` before the next.
 */
export async function alsaRounds(broker: MosquittoBroker, keys: Keys, rounds: number, warmup: number, count = STATION_COUNT): Promise<AlsaResult> {
  const root = mkdtempSync(path.join(os.tmpdir(), 'loa-bench-alsa-'));
  const rawDir = path.join(root, 'alsa');
  mkdirSync(rawDir);
  const ids = Array.from({ length: count }, (_, i) => `ward-${String(i + 1).padStart(2, '0')}`);
  const asoundrc = path.join(root, 'asound.conf');
  writeFileSync(asoundrc, alsaFileConfig(ids.map((id) => ({ name: `loa_${id}`, file: path.join(rawDir, `${id}.raw`) }))));
  const stations: BenchStation[] = [];
  const ctl = await TestController.connect(broker.url);
  // Creation times of each station's file, per round (armed after the previous round's files are gone).
  let armed = false;
  const created = new Map<string, number>();
  const watcher = watch(rawDir, (_event, name) => {
    const t = wallNow();
    if (!armed || typeof name !== 'string' || !name.endsWith('.raw')) return;
    const id = name.slice(0, -4);
    if (!created.has(id)) created.set(id, t);
  });
  try {
    for (const id of ids) {
      const dir = path.join(root, id);
      const cfg = writeStationConfig({
        id,
        dir,
        brokerUrl: broker.url,
        keys: [keys.office, keys.deputy],
        alertQuorum: 2,
        chimes: { emergency: fixture('chime-emergency.wav') },
        extra: { zones: [{ id: 'main', name: 'Zone main', output: { type: 'alsa', device: `loa_${id}` }, defaultVolume: 100, maxVolume: 100 }] },
      });
      stations.push(spawnStation(id, dir, cfg, { ALSA_CONFIG_PATH: asoundrc }));
    }
    await Promise.all(stations.map((s) => s.waitForLog((l) => l.msg === 'subscribed', 60_000)));
    const clip = await ctl.publishMedia(fixture('tone-3s.wav'));
    const fleet = { stations, ids, stop: async () => {} };
    const toAlsa: number[] = [];
    const toPipe: number[] = [];
    const receivedMs: number[] = [];
    for (let r = 0; r < warmup + rounds; r++) {
      for (const f of readdirSync(rawDir)) unlinkSync(path.join(rawDir, f));
      await sleep(100); // let the deletions' own events pass before arming
      created.clear();
      armed = true;
      const env = alertEnvelope(ctl, keys, clip);
      const t0 = await publishAlert(ctl, env);
      await waitAcks(ctl, ids, env.id, 'completed', 60_000);
      const first = await waitFirstFrames(fleet, env.id);
      armed = false;
      const missing = ids.filter((id) => !created.has(id));
      if (missing.length) throw new Error(`round ${r}: alsa-lib never created the file of ${missing.join(', ')}`);
      if (r >= warmup) {
        toPipe.push(...first.map((a) => a - t0));
        toAlsa.push(...ids.map((id) => created.get(id)! - t0));
        receivedMs.push(...ids.map((id) => statSync(path.join(rawDir, `${id}.raw`)).size / 96));
      }
      await sleep(250);
    }
    return { toAlsa, toPipe, receivedMs };
  } finally {
    watcher.close();
    await ctl.close();
    await Promise.all(stations.map((s) => s.stop()));
    if (!process.env.LOA_KEEP_TMP) rmSync(root, { recursive: true, force: true });
    else progress(`alsa bench files kept in ${root}`);
  }
}
