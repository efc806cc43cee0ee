import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import path from 'node:path';
import { startAedes, type AedesBroker } from './harness/aedes.js';
import { fixture } from './harness/audio.js';
import { TestController, listWavs, makeKey, type StationProcess } from './harness/station.js';
import { launchStation } from './harness/station-fixture.js';

// The embedded broker (what `npm run demo` uses) carries the same protocol.
describe('loa-station over the embedded Aedes broker', () => {
  let broker: AedesBroker;
  let station: StationProcess;
  let ctl: TestController;
  let dir: string;
  const key = makeKey('ward', ['announce']);

  beforeAll(async () => {
    broker = await startAedes();
    ({ dir, station } = await launchStation({ id: 'tan-hiep', brokerUrl: broker.url, keys: [key], groups: ['tan-hiep'] }));
    ctl = await TestController.connect(broker.url);
  });
  afterAll(async () => {
    await ctl?.close();
    await station?.stop();
    await broker?.stop();
  });

  test('a group announcement fetched over media/<sha256> airs', async () => {
    const media = await ctl.publishMedia(fixture('tone-3s.wav'));
    const env = ctl.envelope('announce', { audio: { kind: 'media', ...media } }, { groups: ['tan-hiep'] }, key);
    await ctl.client.publishAsync(ctl.topics.groupCmd('tan-hiep'), JSON.stringify(env), { qos: 1 });
    await ctl.waitForAck((a) => a.broadcastId === env.id && a.state === 'completed', 30_000);
    expect(listWavs(path.join(dir, 'out', 'main'))).toHaveLength(1);
  });
});
