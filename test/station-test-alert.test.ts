// Test alerts and who may stop an emergency, on a real station: a test alert (one signature)
// can never sound or act like an emergency, and one key can never silence a live alert.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { fixture, measureLoudness, wavInfo } from '../support/audio.js';
import { type MosquittoBroker, startMosquitto } from '../support/mosquitto.js';
import { listWavs, makeKey, type StationProcess, TestController } from '../support/station.js';
import { launchStation } from '../support/station-fixture.js';

/** Dominant frequency of the first `seconds` of a mono s16le WAV, from zero crossings (pure tones). */
function leadingHz(file: string, seconds: number): number {
  const b = readFileSync(file);
  const rate = b.readUInt32LE(24);
  const n = Math.min(Math.floor(rate * seconds), Math.floor((b.length - 44) / 2));
  let crossings = 0;
  let prev = 0;
  for (let i = 0; i < n; i++) {
    const s = b.readInt16LE(44 + i * 2);
    if (s !== 0) {
      if (prev !== 0 && Math.sign(s) !== Math.sign(prev)) crossings++;
      prev = s;
    }
  }
  return crossings / 2 / (n / rate);
}

describe('test alerts and emergency cancellation on a real station', () => {
  let broker: MosquittoBroker;
  let ctl: TestController;
  let station: StationProcess;
  let out: string;
  const official = makeKey('official', ['alert', 'cancel', 'control']);
  const deputy = makeKey('deputy', ['alert', 'cancel']);
  const target = { stations: ['cam-ha'] };

  beforeAll(async () => {
    broker = await startMosquitto();
    const launched = await launchStation({
      id: 'cam-ha',
      brokerUrl: broker.url,
      keys: [official, deputy],
      alertQuorum: 2,
      chimes: { emergency: fixture('chime-emergency.wav') },
      extra: { testAlerts: { maxDurationSec: 6, maxVolume: 50 } },
    });
    station = launched.station;
    out = path.join(launched.dir, 'out', 'main');
    ctl = await TestController.connect(broker.url);
  });
  afterAll(async () => {
    await ctl?.close();
    await station?.stop();
    await broker?.stop();
  });

  const newWav = async (before: string[], timeoutMs = 20_000) => {
    const end = Date.now() + timeoutMs;
    for (;;) {
      const now = listWavs(out).filter((f) => !before.includes(f));
      if (now.length) return now[0]!;
      if (Date.now() > end) throw new Error('no new recording');
      await new Promise((r) => setTimeout(r, 100));
    }
  };

  test("a test alert: priority level, the station's own preamble first, at most the fleet's length and volume", async () => {
    const music = await ctl.publishMedia(fixture('music-10s.mp3'));
    const before = listWavs(out);
    const alert = ctl.envelope('alert', { title: 'Diễn tập', test: true, audio: { kind: 'media', ...music } }, target, official);
    await ctl.send('cam-ha', alert);
    const done = await ctl.waitForAck((a) => a.broadcastId === alert.id && (a.state === 'completed' || a.state === 'failed'), 40_000);
    expect(done.state).toBe('completed');
    const started = ctl.acks.find((a) => a.broadcastId === alert.id && a.state === 'started')!;
    expect({ priority: started.priority, test: started.test }).toEqual({ priority: 'priority', test: true });
    const wav = await newWav(before);
    // 4.9 s of preamble + 10 s of music, cut at the fleet's 6 s.
    expect(Math.abs((await wavInfo(wav)).durationMs - 6000)).toBeLessThan(100);
    // The preamble opens with a 440 Hz beep; the music (150-300 Hz over noise) does not.
    expect(Math.abs(leadingHz(wav, 0.2) - 440)).toBeLessThan(30);
    // Prepared to -16 LUFS, played at volume 50 (-25 dB), not at the zone's 100.
    expect((await measureLoudness(wav)).integratedLufs).toBeLessThan(-35);
  }, 60_000);

  test('a live alert cuts a test alert on air', async () => {
    const music = await ctl.publishMedia(fixture('music-10s.mp3'));
    const tone = await ctl.publishMedia(fixture('tone-3s.wav'));
    const drill = ctl.envelope('alert', { title: 'Diễn tập 2', test: true, audio: { kind: 'media', ...music } }, target, official);
    await ctl.send('cam-ha', drill);
    await ctl.waitForAck((a) => a.broadcastId === drill.id && a.state === 'started', 30_000);
    const live = ctl.cosign(ctl.envelope('alert', { title: 'Bão', test: false, audio: { kind: 'media', ...tone } }, target, official), deputy);
    await ctl.send('cam-ha', live);
    const cut = await ctl.waitForAck((a) => a.broadcastId === drill.id && a.state === 'preempted', 20_000);
    expect(cut.reason).toContain(live.id);
    const liveStarted = await ctl.waitForAck((a) => a.broadcastId === live.id && a.state === 'started', 20_000);
    expect(liveStarted.priority).toBe('emergency');
    await ctl.waitForAck((a) => a.broadcastId === live.id && a.state === 'completed', 30_000);
  }, 60_000);

  test('stop holds a test alert until resume; a live alert still plays under stop', async () => {
    const tone = await ctl.publishMedia(fixture('tone-3s.wav'));
    const stop = ctl.envelope('control', { action: 'stop' }, target, official);
    await ctl.send('cam-ha', stop);
    await ctl.waitForAck((a) => a.commandId === stop.id && a.state === 'received');
    const drill = ctl.envelope('alert', { title: 'Diễn tập 3', test: true, audio: { kind: 'media', ...tone } }, target, official);
    await ctl.send('cam-ha', drill);
    await ctl.waitForAck((a) => a.broadcastId === drill.id && a.state === 'scheduled');
    const live = ctl.cosign(ctl.envelope('alert', { title: 'Lũ', test: false, audio: { kind: 'media', ...tone } }, target, official), deputy);
    await ctl.send('cam-ha', live);
    await ctl.waitForAck((a) => a.broadcastId === live.id && a.state === 'completed', 30_000);
    expect(ctl.acks.some((a) => a.broadcastId === drill.id && a.state === 'started')).toBe(false);
    const resume = ctl.envelope('control', { action: 'resume' }, target, official);
    await ctl.send('cam-ha', resume);
    await ctl.waitForAck((a) => a.broadcastId === drill.id && a.state === 'started', 20_000);
    await ctl.waitForAck((a) => a.broadcastId === drill.id && a.state === 'completed', 30_000);
  }, 90_000);

  test('one key cannot cancel a live alert; the same cancel with a second key stops it', async () => {
    const music = await ctl.publishMedia(fixture('music-10s.mp3'));
    const live = ctl.cosign(ctl.envelope('alert', { title: 'Cháy rừng', test: false, audio: { kind: 'media', ...music } }, target, official), deputy);
    await ctl.send('cam-ha', live);
    await ctl.waitForAck((a) => a.broadcastId === live.id && a.state === 'started', 20_000);
    const alone = ctl.envelope('cancel', { broadcastId: live.id }, target, official);
    await ctl.send('cam-ha', alone);
    const refused = await ctl.waitForAck((a) => a.commandId === alone.id && a.state === 'rejected');
    expect(refused.reason).toBe('quorum_not_met');
    const both = ctl.cosign(ctl.envelope('cancel', { broadcastId: live.id }, target, official), deputy);
    await ctl.send('cam-ha', both);
    await ctl.waitForAck((a) => a.broadcastId === live.id && a.state === 'cancelled', 20_000);
  }, 60_000);
});
