import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { fixture, measureLoudness, volumeStats, wavInfo } from '../support/audio.js';
import { type MosquittoBroker, startMosquitto } from '../support/mosquitto.js';
import { listWavs, makeKey, type StationProcess, TestController } from '../support/station.js';
import { launchStation } from '../support/station-fixture.js';

// One real mosquitto, one real loa-station with two `file` zones, real ffmpeg.
describe('loa-station plays a signed announcement', () => {
  let broker: MosquittoBroker;
  let ctl: TestController;
  let station: StationProcess;
  let dir: string;
  const ward = makeKey('ward-staff', ['announce', 'cancel', 'control']);

  beforeAll(async () => {
    broker = await startMosquitto();
    ({ dir, station } = await launchStation({ id: 'minh-an', brokerUrl: broker.url, keys: [ward], zones: ['market', 'school'] }));
    ctl = await TestController.connect(broker.url);
  });

  afterAll(async () => {
    await ctl?.close();
    await station?.stop();
    await broker?.stop();
  });

  test('one WAV per zone, duration within 5%, loudness within 1 LU of -16 LUFS, volume measurable', async () => {
    const media = await ctl.publishMedia(fixture('speech-vi.wav'));
    const source = await wavInfo(fixture('speech-vi.wav'));
    const loud = ctl.envelope('announce', { title: 'Họp tổ dân phố', zones: ['market'], audio: { kind: 'media', ...media } }, { stations: ['minh-an'] }, ward);
    await ctl.send('minh-an', loud);
    const done = await ctl.waitForAck((a) => a.broadcastId === loud.id && a.state === 'completed', 30_000);
    expect(done.zones).toEqual(['market']);
    const states = ctl.acks.filter((a) => a.broadcastId === loud.id || a.commandId === loud.id).map((a) => a.state);
    expect(states).toEqual(['received', 'scheduled', 'started', 'completed']);

    const wavs = listWavs(path.join(dir, 'out', 'market'));
    expect(wavs).toHaveLength(1);
    expect(listWavs(path.join(dir, 'out', 'school'))).toHaveLength(0);
    const info = await wavInfo(wavs[0]!);
    expect(info.sampleRate).toBe(48000);
    expect(Math.abs(info.durationMs - source.durationMs) / source.durationMs).toBeLessThan(0.05);
    const lufs = await measureLoudness(wavs[0]!);
    expect(Math.abs(lufs.integratedLufs - -16)).toBeLessThan(1);

    // Same clip at volume 50 (-25 dB) on the other zone: measurably quieter.
    const quiet = ctl.envelope('announce', { zones: ['school'], volume: 50, audio: { kind: 'media', ...media } }, { stations: ['minh-an'] }, ward);
    await ctl.send('minh-an', quiet);
    await ctl.waitForAck((a) => a.broadcastId === quiet.id && a.state === 'completed', 30_000);
    const [quietWav] = listWavs(path.join(dir, 'out', 'school'));
    const a = await volumeStats(wavs[0]!);
    const b = await volumeStats(quietWav!);
    expect(a.meanDb - b.meanDb).toBeGreaterThan(20);
    expect(a.meanDb - b.meanDb).toBeLessThan(30);
  });
});
