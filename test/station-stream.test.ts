import { readFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { fixture, wavInfo } from '../support/audio.js';
import { type MosquittoBroker, startMosquitto } from '../support/mosquitto.js';
import { listWavs, makeKey, type StationProcess, TestController } from '../support/station.js';
import { launchStation } from '../support/station-fixture.js';

// Live relay of the national radio: the first URL is down, the second serves audio.
describe('live relay (stream) with URL fallback', () => {
  let broker: MosquittoBroker;
  let server: http.Server;
  let base: string;
  let station: StationProcess;
  let ctl: TestController;
  let dir: string;
  const key = makeKey('centre', ['announce']);

  beforeAll(async () => {
    const mp3 = readFileSync(fixture('music-10s.mp3'));
    server = http.createServer((req, res) => {
      if (req.url === '/vov1.mp3') {
        res.writeHead(200, { 'content-type': 'audio/mpeg' });
        res.end(mp3);
      } else {
        res.writeHead(404);
        res.end();
      }
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    broker = await startMosquitto();
    ({ dir, station } = await launchStation({ id: 'cam-chau', brokerUrl: broker.url, keys: [key] }));
    ctl = await TestController.connect(broker.url);
  });
  afterAll(async () => {
    await ctl?.close();
    await station?.stop();
    await broker?.stop();
    server?.close();
  });

  test('plays for the item duration from the first URL that works and reports it', async () => {
    const urls = [`${base}/down.mp3`, `${base}/vov1.mp3`];
    const env = ctl.envelope('announce', { audio: { kind: 'stream', urls, durationSec: 4 } }, { stations: ['cam-chau'] }, key);
    await ctl.send('cam-chau', env);
    const started = await ctl.waitForAck((a) => a.broadcastId === env.id && a.state === 'started', 30_000);
    expect(started.url).toBe(urls[1]);
    const done = await ctl.waitForAck((a) => a.broadcastId === env.id && a.state === 'completed', 30_000);
    expect(done.url).toBe(urls[1]);
    const [wav] = listWavs(path.join(dir, 'out', 'main'));
    expect(Math.abs((await wavInfo(wav!)).durationMs - 4000)).toBeLessThan(250);
  });

  test("no URL works: failed with each URL's reason, nothing aired", async () => {
    const before = listWavs(path.join(dir, 'out', 'main')).length;
    const env = ctl.envelope('announce', { audio: { kind: 'stream', urls: [`${base}/a.mp3`, `${base}/b.mp3`], durationSec: 4 } }, { stations: ['cam-chau'] }, key);
    await ctl.send('cam-chau', env);
    const failed = await ctl.waitForAck((a) => a.broadcastId === env.id && a.state === 'failed', 30_000);
    expect(failed.detail).toContain('a.mp3');
    expect(failed.detail).toContain('b.mp3');
    expect(listWavs(path.join(dir, 'out', 'main')).length).toBe(before);
  });
});
