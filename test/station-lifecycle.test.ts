import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { StationState, Telemetry, Topics } from '../protocol/index.js';
import { fixture } from '../support/audio.js';
import { type MosquittoBroker, startMosquitto } from '../support/mosquitto.js';
import { makeKey, startStation, TestController, writeStationConfig } from '../support/station.js';
import { tempDir } from '../support/tmp.js';

async function retained(url: string, topic: string): Promise<unknown> {
  const c = mqtt.connect(url, { clean: true });
  try {
    return await new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`no retained message on ${topic}`)), 5000);
      c.on('message', (_t, p) => {
        clearTimeout(t);
        resolve(JSON.parse(p.toString()));
      });
      c.subscribe(topic, { qos: 1 });
    });
  } finally {
    c.end(true);
  }
}

describe('station lifecycle: birth, telemetry, SIGTERM, SIGKILL', () => {
  let broker: MosquittoBroker;
  const key = makeKey('ward', ['announce', 'control']);
  const topics = new Topics();

  beforeAll(async () => {
    broker = await startMosquitto({ persistence: true });
  });
  afterAll(async () => {
    await broker?.stop();
  });

  test('birth is retained with an epoch per connection; telemetry flows; rebirth answered; SIGTERM says offline', async () => {
    const dir = tempDir('loa-life-');
    const config = writeStationConfig({ id: 'cua-dai', dir, brokerUrl: broker.url, keys: [key] });
    let station = startStation(config);
    await station.waitForLog(/"msg":"subscribed"/);
    const birth1 = StationState.parse(await retained(broker.url, topics.state('cua-dai')));
    expect(birth1.online).toBe(true);
    expect(birth1.zones).toEqual([{ id: 'main', name: 'Zone main' }]);

    const ctl = await TestController.connect(broker.url);
    const tel = await new Promise<Telemetry>((resolve) => {
      ctl.client.on('message', (t, p) => {
        if (t === topics.telemetry('cua-dai')) resolve(Telemetry.parse(JSON.parse(p.toString())));
      });
      void ctl.client.subscribeAsync(topics.telemetry('cua-dai'), { qos: 0 });
    });
    expect(tel.epoch).toBe(birth1.epoch);
    expect(tel.ffmpegOk).toBe(true);
    expect(tel.zones[0]).toMatchObject({ id: 'main', onAir: false });

    await station.stop();
    const gone = StationState.parse(await retained(broker.url, topics.state('cua-dai')));
    expect(gone.online).toBe(false);

    station = startStation(config);
    await station.waitForLog(/"msg":"subscribed"/);
    const birth2 = StationState.parse(await retained(broker.url, topics.state('cua-dai')));
    expect(birth2.online).toBe(true);
    expect(birth2.epoch).toBe(birth1.epoch + 1);

    // SIGKILL: the broker publishes the will, which names the epoch that connection had.
    await station.kill9();
    // The broker publishes the will when it notices the socket closed: wait for it.
    let will = StationState.parse(await retained(broker.url, topics.state('cua-dai')));
    for (let i = 0; i < 100 && will.online; i++) {
      await new Promise((r) => setTimeout(r, 50));
      will = StationState.parse(await retained(broker.url, topics.state('cua-dai')));
    }
    expect(will.online).toBe(false);
    expect(will.epoch).toBe(birth2.epoch);
    await ctl.close();
  });

  test('SIGKILL mid-playback: after restart the airing is acked failed (interrupted) and the outbox resumes', async () => {
    const dir = tempDir('loa-kill-');
    const config = writeStationConfig({ id: 'cam-thanh', dir, brokerUrl: broker.url, keys: [key] });
    let station = startStation(config);
    await station.waitForLog(/"msg":"subscribed"/);
    const ctl = await TestController.connect(broker.url);
    const media = await ctl.publishMedia(fixture('music-10s.mp3'));
    const env = ctl.envelope('announce', { audio: { kind: 'media', ...media } }, { stations: ['cam-thanh'] }, key);
    await ctl.send('cam-thanh', env);
    await ctl.waitForAck((a) => a.broadcastId === env.id && a.state === 'started', 30_000);
    await station.kill9();
    station = startStation(config);
    const failed = await ctl.waitForAck((a) => a.broadcastId === env.id && a.state === 'failed', 20_000);
    expect(failed.reason).toBe('interrupted');
    // The daemon is fully usable again.
    const again = ctl.envelope('control', { action: 'rebirth' }, { stations: ['cam-thanh'] }, key);
    await ctl.send('cam-thanh', again);
    await ctl.waitForAck((a) => a.commandId === again.id && a.state === 'received');
    await station.stop();
    await ctl.close();
  });
});
