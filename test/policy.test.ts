// The playback policy (daemon/playback/policy.ts), table by table: what each kind of broadcast
// may do on air. Pure functions, no clock, no I/O.
import { describe, expect, it } from 'vitest';
import { type DecideInput, decide, type Job } from '../daemon/playback/decide.js';
import {
  type BroadcastKind,
  cancelVerdict,
  exemptFromStopAndQuiet,
  followsOperatorVolume,
  type KindInput,
  kindOf,
  leadFor,
  levelOf,
  maxDurationMs,
  mayAirWithoutLead,
  reairAfterRestart,
  volumeFor,
} from '../daemon/playback/policy.js';

const TESTS = { maxDurationMs: 120_000, maxVolume: 80 };

describe('kind and level', () => {
  it.each<[KindInput, BroadcastKind, string]>([
    [{ commandType: 'alert', test: false }, 'live-alert', 'emergency'],
    [{ commandType: 'alert', test: true }, 'test-alert', 'priority'],
    [{ commandType: 'announce', priority: 'normal' }, 'announce', 'normal'],
    [{ commandType: 'announce', priority: 'priority' }, 'announce', 'priority'],
    [{ commandType: 'schedule', priority: 'priority' }, 'schedule', 'priority'],
    [{ commandType: 'schedule' }, 'schedule', 'normal'],
  ])('%j is a %s at level %s', (input, kind, level) => {
    expect(kindOf(input)).toBe(kind);
    expect(levelOf(input)).toBe(level);
  });
});

describe('exemptions: only a live emergency ignores stop, quiet hours and operator volume', () => {
  it.each([
    ['emergency', true],
    ['priority', false],
    ['normal', false],
  ] as const)('%s: exempt %s', (level, exempt) => {
    expect(exemptFromStopAndQuiet(level)).toBe(exempt);
    expect(followsOperatorVolume(level)).toBe(!exempt);
    expect(reairAfterRestart(level)).toBe(exempt);
  });
});

describe('volume', () => {
  it.each<[BroadcastKind, number | undefined, number, number, number]>([
    // kind, requested, zone volume, zone max, expected
    ['live-alert', 10, 40, 95, 95],
    ['test-alert', 100, 100, 100, 80],
    ['test-alert', undefined, 60, 100, 60],
    ['test-alert', undefined, 100, 70, 70],
    ['announce', 90, 50, 85, 85],
    ['announce', undefined, 50, 85, 50],
    ['schedule', 30, 90, 100, 30],
  ])('%s requested %s at zone volume %s (max %s) plays at %s', (kind, requested, zoneVolume, zoneMax, expected) => {
    expect(volumeFor({ kind, zoneMax, zoneVolume, requested }, TESTS)).toBe(expected);
  });
});

describe('length', () => {
  it.each<[BroadcastKind, number | undefined, number | undefined]>([
    ['test-alert', undefined, 120_000],
    ['test-alert', 600, 120_000],
    ['test-alert', 30, 30_000],
    ['live-alert', undefined, undefined],
    ['announce', 600, 600_000],
  ])('%s asking %s s is bounded to %s ms', (kind, requested, expected) => {
    expect(maxDurationMs(kind, requested, TESTS)).toBe(expected);
  });
});

describe('what leads the airing', () => {
  it('a test alert always leads with the station preamble, never a chime, and never airs without it', () => {
    expect(leadFor('test-alert', 'priority', true)).toEqual({ kind: 'test-preamble' });
    expect(leadFor('test-alert', 'priority', false)).toEqual({ kind: 'test-preamble' });
    expect(mayAirWithoutLead('test-alert')).toBe(false);
  });
  it('a live alert leads with the emergency chime; others only when they ask', () => {
    expect(leadFor('live-alert', 'emergency', false)).toEqual({ kind: 'chime', level: 'emergency' });
    expect(leadFor('announce', 'priority', true)).toEqual({ kind: 'chime', level: 'priority' });
    expect(leadFor('schedule', 'normal', false)).toEqual({ kind: 'none' });
    expect(mayAirWithoutLead('live-alert')).toBe(true);
  });
});

describe('who may cancel', () => {
  it.each([
    // target level, alert keys on the cancel, quorum, allowed
    ['emergency', 1, 2, false],
    ['emergency', 2, 2, true],
    ['emergency', 0, 1, false],
    ['priority', 0, 2, true],
    ['normal', 0, 2, true],
    [undefined, 0, 2, true],
  ] as const)('cancel of %s with %s alert key(s), quorum %s: %s', (targetLevel, alertKeys, alertQuorum, ok) => {
    expect(cancelVerdict({ targetLevel, alertKeys, alertQuorum }).ok).toBe(ok);
  });
});

describe('through the decision: a live alert always cuts a test alert; a test alert never cuts anything', () => {
  const job = (key: string, k: KindInput, over: Partial<Job> = {}): Job => ({
    key,
    priority: levelOf(k),
    zones: ['main'],
    readyAt: 0,
    enqueuedAt: 0,
    policy: 'wait',
    maxDelayMs: 60_000,
    mediaReady: true,
    ...over,
  });
  const base = (over: Partial<DecideInput>): DecideInput => ({ now: 1000, queue: [], playing: [], quietHours: [], localMinutes: 600, ...over });

  it('a live alert preempts a test alert on air', () => {
    const d = decide(
      base({
        queue: [job('live', { commandType: 'alert', test: false })],
        playing: [{ key: 'test', priority: levelOf({ commandType: 'alert', test: true }), zones: ['main'], startedAt: 0 }],
      }),
    );
    expect(d).toEqual([
      { kind: 'preempt', key: 'test', by: 'live', zones: ['main'] },
      { kind: 'start', key: 'live', zones: ['main'] },
    ]);
  });
  it('a test alert does not cut a normal programme, and waits for the gap', () => {
    const d = decide(base({ queue: [job('test', { commandType: 'alert', test: true })], playing: [{ key: 'music', priority: 'normal', zones: ['main'], startedAt: 0 }] }));
    expect(d).toEqual([]);
  });
  it('a test alert respects stop and quiet hours; a live alert does not', () => {
    const test = job('test', { commandType: 'alert', test: true });
    const live = job('live', { commandType: 'alert', test: false }, { zones: ['b'] });
    expect(decide(base({ queue: [test, live], stopped: true }))).toEqual([{ kind: 'start', key: 'live', zones: ['b'] }]);
    expect(decide(base({ queue: [test, live], quietHours: [{ start: '09:00', end: '11:00' }] }))).toEqual([{ kind: 'start', key: 'live', zones: ['b'] }]);
  });
  it('a queued live alert starts before a queued test alert that came first', () => {
    const d = decide(
      base({ queue: [job('test', { commandType: 'alert', test: true }, { enqueuedAt: 0 }), job('live', { commandType: 'alert', test: false }, { enqueuedAt: 5 })] }),
    );
    expect(d[0]).toEqual({ kind: 'start', key: 'live', zones: ['main'] });
  });
  it('under stop a due item that outlives its window is missed with reason stopped', () => {
    const d = decide(base({ now: 100_000, queue: [job('news', { commandType: 'schedule' }, { maxDelayMs: 60_000 })], stopped: true }));
    expect(d).toEqual([{ kind: 'missed', key: 'news', reason: 'stopped' }]);
  });
});
