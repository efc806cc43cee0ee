import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { SignedEnvelope } from '../protocol/index.js';
import { fixture } from '../support/audio.js';
import { type MosquittoBroker, startMosquitto } from '../support/mosquitto.js';
import { listWavs, makeKey, type StationProcess, TestController } from '../support/station.js';
import { launchStation } from '../support/station-fixture.js';

// Every bad command is rejected with its reason, nothing plays, and the daemon stays up.
describe('a station rejects what it must not play', () => {
  let broker: MosquittoBroker;
  let ctl: TestController;
  let station: StationProcess;
  let dir: string;
  let media: { sha256: string; size: number };
  const ward = makeKey('ward', ['announce', 'schedule']);
  const official = makeKey('official', ['alert']);
  const deputy = makeKey('deputy', ['alert']);
  const stranger = makeKey('stranger', ['announce', 'alert']);
  const target = { stations: ['tan-an'] };

  beforeAll(async () => {
    broker = await startMosquitto();
    ({ dir, station } = await launchStation({ id: 'tan-an', brokerUrl: broker.url, keys: [ward, official, deputy] }));
    ctl = await TestController.connect(broker.url);
    media = await ctl.publishMedia(fixture('tone-3s.wav'));
  });
  afterAll(async () => {
    await ctl?.close();
    await station?.stop();
    await broker?.stop();
  });

  const announce = (key = ward, opts: Parameters<TestController['envelope']>[4] = {}, t: object = target) =>
    ctl.envelope('announce', { audio: { kind: 'media', ...media } }, t as never, key, opts);

  async function expectRejected(payload: SignedEnvelope | string | Buffer, reason: string, id?: string): Promise<void> {
    const before = ctl.acks.length;
    await ctl.send('tan-an', payload);
    const ack = await ctl.waitForAck((a) => ctl.acks.indexOf(a) >= before && a.state === 'rejected', 10_000);
    expect(ack.reason).toBe(reason);
    expect(ack.detail).toBeTruthy();
    if (id) expect(ack.commandId).toBe(id);
  }

  type Case = readonly [string, () => SignedEnvelope | string | Buffer, string];
  test.each<Case>([
    ['malformed JSON', () => '{"v":1,', 'invalid'],
    ['invalid UTF-8', () => Buffer.from([0x7b, 0xff, 0xfe, 0x7d]), 'invalid'],
    ['unknown field', () => JSON.stringify({ ...announce(), extra: 1 }), 'invalid'],
    ['id with ../', () => JSON.stringify({ ...announce(), id: '../etc' }), 'invalid'],
    ['unknown key', () => announce(stranger), 'unknown_key'],
    ['expired', () => announce(ward, { now: Date.now() - 7200_000, ttlMs: 3600_000 }), 'expired'],
    ['future-dated', () => announce(ward, { now: Date.now() + 3600_000 }), 'not_yet_valid'],
    ['wrong target', () => announce(ward, {}, { stations: ['cam-an'] }), 'wrong_target'],
    ['key not allowed for alert', () => ctl.envelope('alert', { test: false, audio: { kind: 'media', ...media } }, target, { ...ward, allow: ['alert'] }), 'key_not_allowed'],
    ['single-signed live alert', () => ctl.envelope('alert', { test: false, audio: { kind: 'media', ...media } }, target, official), 'quorum_not_met'],
  ])('%s', async (_name, make, reason) => {
    await expectRejected(make(), reason);
  });

  test('forged: a trusted issuer id signed by another key', async () => {
    const env = ctl.envelope('announce', { audio: { kind: 'media', ...media } }, target, { ...stranger, id: 'ward' });
    await expectRejected(env, 'bad_signature', env.id);
  });

  test('tampered body after signing', async () => {
    const env = announce();
    await expectRejected({ ...env, body: { ...(env.body as object), priority: 'priority' } }, 'bad_signature', env.id);
  });

  test('replayed command', async () => {
    const env = ctl.envelope('announce', { zones: ['main'], volume: 0, audio: { kind: 'media', ...media } }, target, ward);
    await ctl.send('tan-an', env);
    await ctl.waitForAck((a) => a.broadcastId === env.id && a.state === 'completed', 20_000);
    await expectRejected(env, 'replayed', env.id);
  });

  test('schedule version downgrade', async () => {
    const body = (version: number) => ({ station: 'tan-an', version, items: [] });
    await ctl.pushSchedule('tan-an', ctl.envelope('schedule', body(5), target, ward));
    await ctl.waitForAck((a) => a.state === 'applied' && a.scheduleVersion === 5);
    const old = ctl.envelope('schedule', body(4), target, ward);
    await ctl.pushSchedule('tan-an', old);
    const ack = await ctl.waitForAck((a) => a.commandId === old.id);
    expect(ack.state).toBe('rejected');
    expect(ack.reason).toBe('stale_version');
  });

  test("corrupt audio: failed with ffmpeg's reason, nothing aired", async () => {
    const bad = await ctl.publishMedia(fixture('corrupt.mp3'));
    const env = ctl.envelope('announce', { audio: { kind: 'media', ...bad } }, target, ward);
    await ctl.send('tan-an', env);
    const ack = await ctl.waitForAck((a) => a.broadcastId === env.id && a.state === 'failed', 30_000);
    expect(ack.reason).toBe('transcode_failed');
    expect(ack.detail!.length).toBeGreaterThan(10);
  });

  test('after all that, only the one valid announcement aired and the daemon is alive', async () => {
    expect(station.proc.exitCode).toBeNull();
    expect(listWavs(path.join(dir, 'out', 'main'))).toHaveLength(1);
    const env = announce();
    await ctl.send('tan-an', env);
    await ctl.waitForAck((a) => a.broadcastId === env.id && a.state === 'started', 20_000);
  });
});
