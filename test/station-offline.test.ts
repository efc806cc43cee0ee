import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { Cron } from 'croner';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { fixture, wavInfo } from '../support/audio.js';
import { type MosquittoBroker, startMosquitto } from '../support/mosquitto.js';
import { listWavs, makeKey, STATION_BIN, startStation, TestController, writeStationConfig } from '../support/station.js';
import { tempDir } from '../support/tmp.js';

async function until(pred: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!pred()) {
    if (Date.now() > end) throw new Error(`timed out: ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

// The schedule keeps playing with no broker at all; what passed while the box was off is `missed`.
describe('a station plays its schedule offline', () => {
  let broker: MosquittoBroker;
  const key = makeKey('centre', ['schedule', 'announce']);

  beforeAll(async () => {
    broker = await startMosquitto({ persistence: true });
  });
  afterAll(async () => {
    await broker?.stop();
  });

  test('cron fires with the broker down; an item passed while the daemon was down is acked missed; acks arrive later', async () => {
    const dir = tempDir('loa-offline-');
    const configPath = writeStationConfig({ id: 'cam-kim', dir, brokerUrl: broker.url, keys: [key], graceSec: 60 });
    let ctl = await TestController.connect(broker.url);
    const clip = await ctl.publishMedia(fixture('tone-3s.wav'));

    // 1. Online: the schedule arrives and its audio is prepared ahead of time.
    let station = startStation(configPath);
    await station.waitForLog(/"msg":"subscribed"/);
    const schedule = ctl.envelope(
      'schedule',
      {
        station: 'cam-kim',
        version: 1,
        tz: 'Asia/Ho_Chi_Minh',
        items: [{ id: 'morning', title: 'Chương trình sáng', cron: '30 5 * * *', audio: { kind: 'media', ...clip } }],
      },
      { stations: ['cam-kim'] },
      key,
    );
    await ctl.pushSchedule('cam-kim', schedule);
    await ctl.waitForAck((a) => a.state === 'applied' && a.scheduleVersion === 1);
    const cacheDir = path.join(dir, 'data', 'cache');
    await until(() => existsSync(cacheDir) && readdirSync(cacheDir).some((f) => f.startsWith(`${clip.sha256}.`) && f.endsWith('.wav')), 30_000, 'media prepared');
    await station.stop();
    await ctl.close();

    // 2. No broker at all; the box's clock reads 4 s before the next 05:30 in Hội An.
    await broker.kill9();
    const fire = new Cron('30 5 * * *', { timezone: 'Asia/Ho_Chi_Minh', paused: true }).nextRun(new Date(Date.now() + 10_000))!.getTime();
    station = startStation(configPath, { LOA_TEST_HOOKS: '1', LOA_CLOCK_START: new Date(fire - 4000).toISOString() });
    await until(() => listWavs(path.join(dir, 'out', 'main')).length === 1, 20_000, 'the 05:30 item aired');
    await station.waitForLog(/"msg":"first frame on air"/);
    await until(
      () => {
        const log = JSON.parse(execFileSync(process.execPath, [STATION_BIN, 'log', '--config', configPath, '--json']).toString()) as { outcome: string }[];
        return log.some((r) => r.outcome === 'completed');
      },
      15_000,
      'as-run says completed',
    );
    const [wav] = listWavs(path.join(dir, 'out', 'main'));
    expect(Math.abs((await wavInfo(wav!)).durationMs - 3000)).toBeLessThan(150);
    await station.stop();

    // 3. The box stays off across the next day's 05:30 and comes back 10 minutes later.
    await broker.restart();
    ctl = await TestController.connect(broker.url);
    station = startStation(configPath, { LOA_TEST_HOOKS: '1', LOA_CLOCK_START: new Date(fire + 86_400_000 + 600_000).toISOString() });
    const missed = await ctl.waitForAck((a) => a.state === 'missed' && a.itemId === 'morning');
    expect(missed.reason).toBe('grace_exceeded');
    expect(missed.plannedAt).toBe(new Date(fire + 86_400_000).toISOString());
    // The offline airing's acks were kept in the outbox and arrive now, marked historical.
    const completed = await ctl.waitForAck((a) => a.state === 'completed' && a.itemId === 'morning');
    expect(completed.historical).toBe(true);
    expect(completed.plannedAt).toBe(new Date(fire).toISOString());
    expect(listWavs(path.join(dir, 'out', 'main'))).toHaveLength(1);
    await station.stop();
    await ctl.close();
  });
});
