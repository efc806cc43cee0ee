// Playout with a scripted zone output (the test ends playbacks by hand) and audio that is always
// ready: the policy and the decision carried out, with their acks, in milliseconds.
import { describe, expect, it } from 'vitest';
import type { ZoneConfig } from '../../daemon/config.js';
import { AckOutbox } from '../../daemon/outbox.js';
import { Playout } from '../../daemon/playout.js';
import { type JobRow, StationStore } from '../../daemon/store.js';
import { readyAudio, ScriptedOutput } from './doubles.js';

const media = { kind: 'media' as const, sha256: 'c'.repeat(64), size: 100 };
const zone: ZoneConfig = { id: 'main', name: 'Main', output: { type: 'null' }, defaultVolume: 90, maxVolume: 95 };
const tick = () => new Promise((r) => setTimeout(r, 5));

function setup() {
  const store = new StationStore(':memory:');
  const clock = { now: () => Date.now() };
  const output = new ScriptedOutput();
  const playout = new Playout({
    store,
    outbox: new AckOutbox(store, 'st-a', clock),
    clock,
    zones: [zone],
    outputs: new Map([['main', output]]),
    audio: readyAudio,
    timezone: 'Asia/Ho_Chi_Minh',
    quietHours: [],
    testAlerts: { maxDurationMs: 120_000, maxVolume: 50 },
    stallMs: 30_000,
    log: () => {},
  });
  playout.start();
  const job = (key: string, o: Partial<JobRow> & { test?: boolean } = {}): JobRow => {
    const now = Date.now();
    const { test, ...rest } = o;
    return {
      key,
      commandId: key,
      commandType: 'announce',
      priority: 'normal',
      zones: ['main'],
      readyAt: now,
      enqueuedAt: now,
      state: 'pending',
      spec: { title: key, audio: media, chime: false, repeat: 1, gapSec: 0, policy: 'wait', maxDelaySec: 300, ...(test !== undefined ? { test } : {}) },
      ...rest,
    };
  };
  const acks = (key: string) =>
    store
      .outbox()
      .filter((r) => r.ack.broadcastId === key)
      .map((r) => r.ack.state);
  return { store, output, playout, job, acks };
}

describe('Playout', () => {
  it('an emergency preempts a normal item on air: preempted ack for it, started for the emergency', async () => {
    const { output, playout, job, acks } = setup();
    playout.enqueue(job('music'));
    await tick();
    playout.enqueue(job('storm', { commandType: 'alert', priority: 'emergency', test: false }));
    await tick();
    expect(output.plays.map((p) => p.req.label)).toEqual(['main-music', 'main-storm']);
    expect(output.plays[0]!.stopped).toBe(0); // cut, no fade
    expect(acks('music')).toEqual(['started', 'preempted']);
    expect(acks('storm')).toEqual(['started']);
    expect(output.plays[1]!.volume).toBe(95); // the zone's maximum
    await playout.shutdown(0);
  });

  it('a test alert plays at the fleet test volume and length, and follows operator volume', async () => {
    const { output, playout, job } = setup();
    playout.enqueue(job('drill', { commandType: 'alert', priority: 'priority', test: true }));
    await tick();
    expect(output.plays[0]!.req.volume).toBe(50);
    expect(output.plays[0]!.req.maxDurationMs).toBe(120_000);
    playout.setVolume('main', 20);
    expect(output.plays[0]!.volume).toBe(20);
    await playout.shutdown(0);
  });

  it('stop holds everything but emergencies until resume, even across a restart of playout', async () => {
    const { store, output, playout, job, acks } = setup();
    playout.stopAll('stopped by office');
    playout.enqueue(job('news'));
    playout.enqueue(job('storm', { commandType: 'alert', priority: 'emergency', test: false }));
    await tick();
    expect(output.plays.map((p) => p.req.label)).toEqual(['main-storm']);
    expect(store.getMeta('stopped')).toBe('1');
    output.plays[0]!.end();
    await tick();
    expect(acks('news')).toEqual([]);
    playout.resume();
    await tick();
    expect(output.plays.map((p) => p.req.label)).toEqual(['main-storm', 'main-news']);
    await playout.shutdown(0);
  });

  it('a playback that fails with a coded reason is acked failed with that code', async () => {
    const { output, playout, job, store } = setup();
    playout.enqueue(job('ghost'));
    await tick();
    output.plays[0]!.end({ outcome: 'failed', reason: 'live PCM stream failed: no_audio: no audio arrived for 30 s' });
    await tick();
    const failed = store.outbox().find((r) => r.ack.broadcastId === 'ghost' && r.ack.state === 'failed')!;
    expect(failed.ack.reason).toBe('no_audio');
    await playout.shutdown(0);
  });

  it('failJobsFor fails every queued job waiting for a clip that cannot be had, with its reason', async () => {
    const { playout, job, store } = setup();
    playout.stopAll('hold');
    playout.enqueue(job('a'));
    playout.enqueue(job('b'));
    playout.failJobsFor(media.sha256, 'disk_full', 'no room');
    expect(
      store
        .outbox()
        .filter((r) => r.ack.state === 'failed')
        .map((r) => [r.ack.broadcastId, r.ack.reason]),
    ).toEqual([
      ['a', 'disk_full'],
      ['b', 'disk_full'],
    ]);
    await playout.shutdown(0);
  });
});
