import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { type AedesBroker, startAedes } from '../support/aedes.js';
import { fixture } from '../support/audio.js';
import { listWavs, makeKey, type StationProcess, TestController } from '../support/station.js';
import { launchStation } from '../support/station-fixture.js';

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
