import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { Ack, Topics } from '../protocol/index.js';
import { fixture } from '../support/audio.js';
import { type MosquittoBroker, startMosquitto } from '../support/mosquitto.js';
import { makeKey, type StationProcess, startStation, TestController, writeStationConfig } from '../support/station.js';
import { tempDir } from '../support/tmp.js';

// Acks survive a broker crash: they wait in the station's SQLite outbox, not in memory.
describe('broker killed during playback', () => {
  let broker: MosquittoBroker;
  let station: StationProcess;
  const key = makeKey('ward', ['announce']);

  beforeAll(async () => {
    broker = await startMosquitto({ persistence: true });
  });
  afterAll(async () => {
    await station?.stop();
    await broker?.stop();
  });

  test('every ack arrives after the restart, none twice after dedupe by id', async () => {
    // A durable subscriber standing in for the collector: persistent session, QoS 1.
    const topics = new Topics();
    const received: Ack[] = [];
    const sub = mqtt.connect(broker.url, { clientId: 'durable-collector', clean: false, reconnectPeriod: 200 });
    sub.on('message', (_t, p) => received.push(Ack.parse(JSON.parse(p.toString()))));
    await new Promise((r) => sub.once('connect', r));
    await sub.subscribeAsync(topics.allAcks(), { qos: 1 });

    const dir = tempDir('loa-brokerkill-');
    station = startStation(writeStationConfig({ id: 'cam-ha', dir, brokerUrl: broker.url, keys: [key] }));
    await station.waitForLog(/"msg":"subscribed"/);
    const ctl = await TestController.connect(broker.url);
    const media = await ctl.publishMedia(fixture('music-10s.mp3'));
    const env = ctl.envelope('announce', { audio: { kind: 'media', ...media } }, { stations: ['cam-ha'] }, key);
    await ctl.send('cam-ha', env);
    await ctl.waitForAck((a) => a.broadcastId === env.id && a.state === 'started', 30_000);
    await ctl.close();

    await broker.kill9();
    await new Promise((r) => setTimeout(r, 3000));
    await broker.restart();

    const deadline = Date.now() + 40_000;
    while (!received.some((a) => a.broadcastId === env.id && a.state === 'completed')) {
      if (Date.now() > deadline) throw new Error(`completed never arrived: ${received.map((a) => a.state).join(',')}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    // Acks of one broadcast can arrive in any order after the restart: wait for all four.
    const want = ['completed', 'received', 'scheduled', 'started'];
    while (want.some((s) => !received.some((a) => a.broadcastId === env.id && a.state === s))) {
      if (Date.now() > deadline) throw new Error(`acks never arrived: ${received.map((a) => a.state).join(',')}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    sub.end(true);

    const byId = new Map(received.map((a) => [a.id, a]));
    const states = [...byId.values()]
      .filter((a) => a.broadcastId === env.id)
      .map((a) => a.state)
      .sort();
    expect(states).toEqual(['completed', 'received', 'scheduled', 'started']);
    // Seqs are contiguous: nothing the station emitted is missing.
    const seqs = [...byId.values()].map((a) => a.seq).sort((x, y) => x - y);
    expect(seqs).toEqual(Array.from({ length: seqs.length }, (_, i) => seqs[0]! + i));
    expect(station.proc.exitCode).toBeNull();
  });
});
