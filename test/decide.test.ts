import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type DecideInput,
  type Decision,
  decide,
  isQuietTime,
  type Job,
  localMinutesOf,
  nextWakeAt,
  type Playing,
  type Priority,
  quietWindowError,
} from '../daemon/playback/decide.js';

// 2026-01-05 10:00:00 +07:00 (Asia/Ho_Chi_Minh) = 03:00Z; local minutes 600.
const NOW = Date.UTC(2026, 0, 5, 3, 0, 0);
const LOCAL = 600;
const MIN = 60_000;
const NIGHT = [{ start: '22:00', end: '05:00' }];

function job(key: string, o: Partial<Job> = {}): Job {
  return {
    key,
    priority: 'normal',
    zones: ['a'],
    readyAt: NOW,
    enqueuedAt: NOW - 1000,
    policy: 'wait',
    maxDelayMs: 5 * MIN,
    mediaReady: true,
    ...o,
  };
}

function playing(key: string, o: Partial<Playing> = {}): Playing {
  return { key, priority: 'normal', zones: ['a'], startedAt: NOW - 30_000, policy: 'wait', ...o };
}

function input(o: Partial<DecideInput> = {}): DecideInput {
  return { now: NOW, queue: [], playing: [], quietHours: [], localMinutes: LOCAL, ...o };
}

const starts = (ds: Decision[]): string[] => ds.filter((d) => d.kind === 'start').map((d) => d.key);

describe('decide: table', () => {
  const cases: { name: string; in: Partial<DecideInput>; out: Decision[] }[] = [
    { name: 'empty queue, nothing to do', in: {}, out: [] },
    { name: 'a ready job on a free zone starts', in: { queue: [job('n1')] }, out: [{ kind: 'start', key: 'n1', zones: ['a'] }] },
    { name: 'a job before its readyAt waits', in: { queue: [job('n1', { readyAt: NOW + 1 })] }, out: [] },
    {
      name: 'emergency preempts a running normal item at once',
      in: { queue: [job('e1', { priority: 'emergency' })], playing: [playing('n0')] },
      out: [
        { kind: 'preempt', key: 'n0', by: 'e1', zones: ['a'] },
        { kind: 'start', key: 'e1', zones: ['a'] },
      ],
    },
    {
      name: 'emergency preempts a running priority item',
      in: { queue: [job('e1', { priority: 'emergency' })], playing: [playing('p0', { priority: 'priority' })] },
      out: [
        { kind: 'preempt', key: 'p0', by: 'e1', zones: ['a'] },
        { kind: 'start', key: 'e1', zones: ['a'] },
      ],
    },
    {
      name: 'emergency never preempts an emergency: the later one waits',
      in: { queue: [job('e2', { priority: 'emergency' })], playing: [playing('e1', { priority: 'emergency' })] },
      out: [],
    },
    {
      name: 'emergency with interrupt policy still waits for a running emergency',
      in: { queue: [job('e2', { priority: 'emergency', policy: 'interrupt' })], playing: [playing('e1', { priority: 'emergency' })] },
      out: [],
    },
    {
      name: 'emergency inside quiet hours plays; normal stays queued',
      in: { queue: [job('n1', { zones: ['b'] }), job('e1', { priority: 'emergency' })], quietHours: NIGHT, localMinutes: 23 * 60 },
      out: [{ kind: 'start', key: 'e1', zones: ['a'] }],
    },
    {
      name: 'priority job inside quiet hours stays queued',
      in: { queue: [job('p1', { priority: 'priority' })], quietHours: NIGHT, localMinutes: 2 * 60 },
      out: [],
    },
    {
      name: 'priority does not cut a running normal item (waits for the gap)',
      in: { queue: [job('p1', { priority: 'priority', policy: 'interrupt' })], playing: [playing('n0')] },
      out: [],
    },
    {
      name: 'priority goes before normal at the gap, even if the normal one was queued first',
      in: { queue: [job('n1', { enqueuedAt: NOW - 9000 }), job('p1', { priority: 'priority', enqueuedAt: NOW - 10 })] },
      out: [{ kind: 'start', key: 'p1', zones: ['a'] }],
    },
    {
      name: 'equal level, interrupt: preempts the running item',
      in: { queue: [job('n1', { policy: 'interrupt' })], playing: [playing('n0')] },
      out: [
        { kind: 'preempt', key: 'n0', by: 'n1', zones: ['a'] },
        { kind: 'start', key: 'n1', zones: ['a'] },
      ],
    },
    {
      name: 'equal level priority, interrupt: preempts',
      in: { queue: [job('p1', { priority: 'priority', policy: 'interrupt' })], playing: [playing('p0', { priority: 'priority' })] },
      out: [
        { kind: 'preempt', key: 'p0', by: 'p1', zones: ['a'] },
        { kind: 'start', key: 'p1', zones: ['a'] },
      ],
    },
    {
      name: 'equal level, wait: queues',
      in: { queue: [job('n1', { policy: 'wait' })], playing: [playing('n0')] },
      out: [],
    },
    {
      name: 'interrupt does not cut an item that started after it became eligible',
      in: { queue: [job('n2', { policy: 'interrupt', readyAt: NOW - 5000 })], playing: [playing('n1', { startedAt: NOW - 10 })] },
      out: [],
    },
    {
      name: 'normal interrupt never cuts a higher-level item',
      in: { queue: [job('n1', { policy: 'interrupt' })], playing: [playing('p0', { priority: 'priority' })] },
      out: [],
    },
    {
      name: 'past readyAt + maxDelayMs: missed max_delay',
      in: { queue: [job('n1', { readyAt: NOW - 5 * MIN - 1 })], playing: [playing('n0')] },
      out: [{ kind: 'missed', key: 'n1', reason: 'max_delay' }],
    },
    {
      name: 'exactly at the deadline it still starts',
      in: { queue: [job('n1', { readyAt: NOW - 5 * MIN })] },
      out: [{ kind: 'start', key: 'n1', zones: ['a'] }],
    },
    {
      name: 'deadline passing inside quiet hours: missed quiet_hours',
      in: { queue: [job('n1', { readyAt: NOW - 5 * MIN - 1 })], quietHours: NIGHT, localMinutes: 22 * 60 + 10 },
      out: [{ kind: 'missed', key: 'n1', reason: 'quiet_hours' }],
    },
    {
      name: 'an emergency past its deadline is missed max_delay even in quiet hours',
      in: {
        queue: [job('e2', { priority: 'emergency', readyAt: NOW - 5 * MIN - 1 })],
        playing: [playing('e1', { priority: 'emergency' })],
        quietHours: NIGHT,
        localMinutes: 23 * 60,
      },
      out: [{ kind: 'missed', key: 'e2', reason: 'max_delay' }],
    },
    {
      name: 'media not ready before the deadline: waits, no decision',
      in: { queue: [job('n1', { mediaReady: false, readyAt: NOW - MIN })] },
      out: [],
    },
    {
      name: 'media not ready past the deadline: fail media_not_ready',
      in: { queue: [job('n1', { mediaReady: false, readyAt: NOW - 6 * MIN })] },
      out: [{ kind: 'fail', key: 'n1', reason: 'media_not_ready' }],
    },
    {
      name: 'media not ready wins over quiet hours as the reason',
      in: { queue: [job('n1', { mediaReady: false, readyAt: NOW - 6 * MIN })], quietHours: NIGHT, localMinutes: 23 * 60 },
      out: [{ kind: 'fail', key: 'n1', reason: 'media_not_ready' }],
    },
    {
      name: 'a waiting job without media reserves nothing: another job uses the zone',
      in: { queue: [job('n1', { mediaReady: false, enqueuedAt: NOW - 9000 }), job('n2')] },
      out: [{ kind: 'start', key: 'n2', zones: ['a'] }],
    },
    {
      name: 'FIFO within a level by enqueuedAt',
      in: { queue: [job('n2', { enqueuedAt: NOW - 10 }), job('n1', { enqueuedAt: NOW - 20 }), job('n3', { enqueuedAt: NOW - 5 })] },
      out: [{ kind: 'start', key: 'n1', zones: ['a'] }],
    },
    {
      name: 'two emergencies on one zone queue FIFO',
      in: { queue: [job('e2', { priority: 'emergency', enqueuedAt: NOW - 10 }), job('e1', { priority: 'emergency', enqueuedAt: NOW - 20 })] },
      out: [{ kind: 'start', key: 'e1', zones: ['a'] }],
    },
    {
      name: 'independent zones start together',
      in: { queue: [job('n1'), job('n2', { zones: ['b'] }), job('e1', { priority: 'emergency', zones: ['c'] })] },
      out: [
        { kind: 'start', key: 'e1', zones: ['c'] },
        { kind: 'start', key: 'n1', zones: ['a'] },
        { kind: 'start', key: 'n2', zones: ['b'] },
      ],
    },
    {
      name: 'multi-zone: starts only when all its zones are free',
      in: { queue: [job('n1', { zones: ['a', 'b'] })], playing: [playing('n0', { zones: ['b'] })] },
      out: [],
    },
    {
      name: 'multi-zone: a waiting job reserves its free zones against later jobs',
      in: {
        queue: [job('n1', { zones: ['a', 'b'], enqueuedAt: NOW - 20 }), job('n2', { zones: ['a'], enqueuedAt: NOW - 10 })],
        playing: [playing('n0', { zones: ['b'] })],
      },
      out: [],
    },
    {
      name: 'multi-zone: a waiting priority job keeps a free zone from a normal job',
      in: {
        queue: [job('p1', { priority: 'priority', zones: ['a', 'b'] }), job('n2', { zones: ['a'], enqueuedAt: NOW - 99_000 })],
        playing: [playing('n0', { zones: ['b'] })],
      },
      out: [],
    },
    {
      name: "multi-zone: an equal-level interrupt job ignores a waiting job's reservation",
      in: {
        queue: [job('n1', { zones: ['a', 'b'], enqueuedAt: NOW - 20 }), job('n2', { zones: ['a'], policy: 'interrupt', enqueuedAt: NOW - 10 })],
        playing: [playing('n0', { zones: ['b'] })],
      },
      out: [{ kind: 'start', key: 'n2', zones: ['a'] }],
    },
    {
      name: 'multi-zone: a job that cannot start preempts nothing',
      in: {
        queue: [job('e2', { priority: 'emergency', zones: ['a', 'b'] })],
        playing: [playing('n0', { zones: ['a'] }), playing('e1', { priority: 'emergency', zones: ['b'] })],
      },
      out: [],
    },
    {
      name: 'multi-zone: a waiting emergency holds its free zone (no normal start there to be cut)',
      in: {
        queue: [job('e2', { priority: 'emergency', zones: ['a', 'b'] }), job('n1', { zones: ['b'], enqueuedAt: NOW - 99_000 })],
        playing: [playing('e1', { priority: 'emergency', zones: ['a'] })],
      },
      out: [],
    },
    {
      name: 'partial overlap: the whole running item is preempted and its other zone is reused',
      in: {
        queue: [job('e1', { priority: 'emergency', zones: ['a'] }), job('n1', { zones: ['b'], enqueuedAt: NOW - 5 })],
        playing: [playing('n0', { zones: ['a', 'b'] })],
      },
      out: [
        { kind: 'preempt', key: 'n0', by: 'e1', zones: ['a', 'b'] },
        { kind: 'start', key: 'e1', zones: ['a'] },
        { kind: 'start', key: 'n1', zones: ['b'] },
      ],
    },
    {
      name: 'emergency over two running items preempts both',
      in: {
        queue: [job('e1', { priority: 'emergency', zones: ['a', 'b'] })],
        playing: [playing('n0', { zones: ['a'] }), playing('p0', { priority: 'priority', zones: ['b'] })],
      },
      out: [
        { kind: 'preempt', key: 'n0', by: 'e1', zones: ['a'] },
        { kind: 'preempt', key: 'p0', by: 'e1', zones: ['b'] },
        { kind: 'start', key: 'e1', zones: ['a', 'b'] },
      ],
    },
    {
      name: 'stopped: normal waits, emergency still plays',
      in: { queue: [job('n1', { zones: ['b'] }), job('e1', { priority: 'emergency' })], stopped: true },
      out: [{ kind: 'start', key: 'e1', zones: ['a'] }],
    },
    {
      name: 'a queued key that is already playing is ignored',
      in: { queue: [job('n0')], playing: [playing('n0')] },
      out: [],
    },
    {
      name: 'duplicate zones are collapsed',
      in: { queue: [job('n1', { zones: ['a', 'a', 'b'] })] },
      out: [{ kind: 'start', key: 'n1', zones: ['a', 'b'] }],
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      expect(decide(input(c.in))).toEqual(c.out);
    });
  }
});

describe('decide: sequences with a fixed clock', () => {
  it('priority queued behind a running normal item starts first when the zone frees', () => {
    const queue = [job('n1', { enqueuedAt: NOW - 60_000 }), job('p1', { priority: 'priority', enqueuedAt: NOW - 1000 })];
    expect(decide(input({ queue, playing: [playing('n0')] }))).toEqual([]);
    // n0 finishes
    expect(starts(decide(input({ now: NOW + 10_000, localMinutes: LOCAL + 10 / 60, queue })))).toEqual(['p1']);
  });

  it('normal held by quiet hours starts when they end, or is missed if its deadline passes first', () => {
    const early = [{ start: '22:00', end: '10:02' }];
    const q = [job('n1', { maxDelayMs: 5 * MIN }), job('n2', { maxDelayMs: MIN, zones: ['b'] })];
    expect(decide(input({ queue: q, quietHours: early }))).toEqual([]);
    const wake = nextWakeAt(input({ queue: q, quietHours: early }));
    expect(wake).toBe(NOW + MIN + 1); // n2's deadline comes first
    expect(decide(input({ now: wake!, localMinutes: LOCAL + 1 + 1 / MIN, queue: q, quietHours: early }))).toEqual([{ kind: 'missed', key: 'n2', reason: 'quiet_hours' }]);
    const q2 = [q[0]!];
    const wake2 = nextWakeAt(input({ now: wake!, localMinutes: LOCAL + 1 + 1 / MIN, queue: q2, quietHours: early }));
    expect(wake2).toBe(NOW + 2 * MIN); // quiet hours end at 10:02
    expect(decide(input({ now: wake2!, localMinutes: LOCAL + 2, queue: q2, quietHours: early }))).toEqual([{ kind: 'start', key: 'n1', zones: ['a'] }]);
  });

  it('two interrupt items ready together do not cut each other', () => {
    const q = [job('n1', { policy: 'interrupt', enqueuedAt: NOW - 20 }), job('n2', { policy: 'interrupt', enqueuedAt: NOW - 10 })];
    expect(decide(input({ queue: q }))).toEqual([{ kind: 'start', key: 'n1', zones: ['a'] }]);
    expect(decide(input({ now: NOW + 5, queue: [q[1]!], playing: [playing('n1', { startedAt: NOW })] }))).toEqual([]);
    // A later interrupt that arrives while n1 plays cuts it.
    const n3 = job('n3', { policy: 'interrupt', enqueuedAt: NOW + 100, readyAt: NOW + 100 });
    expect(decide(input({ now: NOW + 100, queue: [q[1]!, n3], playing: [playing('n1', { startedAt: NOW })] }))).toEqual([
      { kind: 'preempt', key: 'n1', by: 'n3', zones: ['a'] },
      { kind: 'start', key: 'n3', zones: ['a'] },
    ]);
  });
});

describe('quiet hours', () => {
  const at = (hhmm: string): number => Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3));
  const table: [string, { start: string; end: string }[], boolean][] = [
    ['21:59', NIGHT, false],
    ['22:00', NIGHT, true],
    ['23:59', NIGHT, true],
    ['00:00', NIGHT, true],
    ['04:59', NIGHT, true],
    ['05:00', NIGHT, false],
    ['12:00', NIGHT, false],
    ['12:30', [{ start: '12:00', end: '13:00' }], true],
    ['13:00', [{ start: '12:00', end: '13:00' }], false],
    ['11:59', [{ start: '12:00', end: '13:00' }], false],
    ['03:00', [{ start: '12:00', end: '13:00' }, ...NIGHT], true],
    ['12:00', [{ start: '12:00', end: '12:00' }], false],
    ['12:00', [{ start: '25:00', end: '12:30' }], false],
  ];
  for (const [t, w, q] of table) {
    it(`${t} in ${JSON.stringify(w)} -> ${q}`, () => expect(isQuietTime(at(t), w)).toBe(q));
  }
  it('fractional minutes: 04:59:59.999 is quiet, 05:00:00.000 is not', () => {
    expect(isQuietTime(5 * 60 - 1 / MIN, NIGHT)).toBe(true);
    expect(isQuietTime(5 * 60, NIGHT)).toBe(false);
  });
  it('quietWindowError validates HH:MM', () => {
    expect(quietWindowError({ start: '22:00', end: '05:00' })).toBeUndefined();
    expect(quietWindowError({ start: '24:00', end: '05:00' })).toMatch(/start/);
    expect(quietWindowError({ start: '22:00', end: '5:00' })).toMatch(/end/);
  });
});

describe('localMinutesOf', () => {
  it('Asia/Ho_Chi_Minh is UTC+7', () => {
    expect(localMinutesOf(Date.UTC(2026, 0, 5, 22, 30), 'Asia/Ho_Chi_Minh')).toBe(5 * 60 + 30);
    expect(localMinutesOf(Date.UTC(2026, 0, 5, 17, 0), 'Asia/Ho_Chi_Minh')).toBe(0);
    expect(localMinutesOf(Date.UTC(2026, 0, 5, 16, 59, 59, 500), 'Asia/Ho_Chi_Minh')).toBeCloseTo(1440 - 0.5 / 60, 9);
  });
  it('Europe/Berlin follows DST', () => {
    expect(localMinutesOf(Date.UTC(2026, 0, 5, 12, 0), 'Europe/Berlin')).toBe(13 * 60);
    expect(localMinutesOf(Date.UTC(2026, 6, 5, 12, 0), 'Europe/Berlin')).toBe(14 * 60);
  });
  it('throws on an unknown zone', () => {
    expect(() => localMinutesOf(NOW, 'Mars/Olympus')).toThrow();
  });
});

describe('nextWakeAt', () => {
  it('undefined when nothing is queued', () => {
    expect(nextWakeAt(input({ quietHours: NIGHT }))).toBeUndefined();
  });
  it('the next readyAt', () => {
    expect(nextWakeAt(input({ queue: [job('n1', { readyAt: NOW + 7000 }), job('n2', { readyAt: NOW + 9000 })] }))).toBe(NOW + 7000);
  });
  it("the first millisecond past a waiting job's deadline", () => {
    expect(nextWakeAt(input({ queue: [job('n1', { readyAt: NOW - 1000, maxDelayMs: 5000 })], playing: [playing('n0')] }))).toBe(NOW + 4001);
  });
  it('the end of quiet hours (midnight-wrapping) for a held normal job', () => {
    const at0300 = 3 * 60;
    const q = [job('n1', { maxDelayMs: 10 * 3600_000 })];
    expect(nextWakeAt(input({ localMinutes: at0300, queue: q, quietHours: NIGHT }))).toBe(NOW + 2 * 3600_000);
  });
  it('the start of quiet hours too, as it changes what may start', () => {
    const q = [job('n1', { readyAt: NOW - 1000, maxDelayMs: 10 * 3600_000 })];
    expect(nextWakeAt(input({ localMinutes: 21 * 60 + 30, queue: q, quietHours: NIGHT, playing: [playing('n0')] }))).toBe(NOW + 30 * MIN);
  });
  it('quiet boundaries are ignored when only emergencies are queued', () => {
    const q = [job('e1', { priority: 'emergency', readyAt: NOW + 3 * 3600_000 })];
    expect(nextWakeAt(input({ localMinutes: 3 * 60, queue: q, quietHours: NIGHT }))).toBe(NOW + 3 * 3600_000);
  });
  it('a boundary exactly now is a day away (the state already reflects it)', () => {
    const q = [job('n1', { readyAt: NOW - 1000, maxDelayMs: 48 * 3600_000 })];
    expect(nextWakeAt(input({ localMinutes: 5 * 60, queue: q, quietHours: NIGHT, playing: [playing('n0')] }))).toBe(NOW + 17 * 3600_000);
  });
});

// ---- properties -------------------------------------------------------------------------------

const ZONES = ['a', 'b', 'c', 'd'];
const prio = fc.constantFrom<Priority>('normal', 'priority', 'emergency');
const zonesArb = fc.subarray(ZONES, { minLength: 1 });
const jobArb = (i: number) =>
  fc.record({
    key: fc.constant(`j${i}`),
    priority: prio,
    zones: zonesArb,
    readyAt: fc.integer({ min: NOW - 10 * MIN, max: NOW + 10 * MIN }),
    enqueuedAt: fc.integer({ min: NOW - 20 * MIN, max: NOW }),
    policy: fc.constantFrom<'interrupt' | 'wait'>('interrupt', 'wait'),
    maxDelayMs: fc.integer({ min: 0, max: 15 * MIN }),
    mediaReady: fc.boolean(),
  });
const windowArb = fc.record({
  start: fc.integer({ min: 0, max: 1439 }).map((m) => `${String(Math.floor(m / 60)).padStart(2, '0')}:${String(m % 60).padStart(2, '0')}`),
  end: fc.integer({ min: 0, max: 1439 }).map((m) => `${String(Math.floor(m / 60)).padStart(2, '0')}:${String(m % 60).padStart(2, '0')}`),
});

const inputArb: fc.Arbitrary<DecideInput> = fc
  .record({
    nJobs: fc.integer({ min: 0, max: 8 }),
    playingSpec: fc.array(fc.record({ priority: prio, zones: zonesArb, startedAt: fc.integer({ min: NOW - 20 * MIN, max: NOW }) }), { maxLength: 3 }),
    quietHours: fc.array(windowArb, { maxLength: 2 }),
    localMinutes: fc.integer({ min: 0, max: 1439 * MIN }).map((ms) => ms / MIN),
    stopped: fc.boolean(),
  })
  .chain(({ nJobs, playingSpec, quietHours, localMinutes, stopped }) =>
    fc.tuple(...Array.from({ length: nJobs }, (_, i) => jobArb(i))).map((queue) => {
      // Playing items never overlap each other (the engine's invariant).
      const used = new Set<string>();
      const play: Playing[] = [];
      playingSpec.forEach((p, i) => {
        const zones = p.zones.filter((z) => !used.has(z));
        if (zones.length === 0) return;
        zones.forEach((z) => used.add(z));
        play.push({ key: `p${i}`, priority: p.priority, zones, startedAt: p.startedAt });
      });
      return { now: NOW, queue, playing: play, quietHours, localMinutes, stopped } satisfies DecideInput;
    }),
  );

describe('decide: properties', () => {
  it('never double-books a zone, never preempts an emergency, never starts normal/priority in quiet hours', () => {
    fc.assert(
      fc.property(inputArb, (inp) => {
        const ds = decide(inp);
        const quiet = isQuietTime(inp.localMinutes, inp.quietHours);
        const jobs = new Map(inp.queue.map((j) => [j.key, j]));
        const plays = new Map(inp.playing.map((p) => [p.key, p]));
        const preempted = new Set(ds.filter((d) => d.kind === 'preempt').map((d) => d.key));
        const busy = new Set(inp.playing.filter((p) => !preempted.has(p.key)).flatMap((p) => p.zones));
        const startedZones = new Set<string>();
        const decided = new Set<string>();
        const startedKeys = new Set<string>();
        for (const d of ds) {
          if (d.kind === 'preempt') {
            const p = plays.get(d.key)!;
            expect(p).toBeDefined();
            expect(p.priority).not.toBe('emergency');
            continue;
          }
          expect(decided.has(d.key)).toBe(false);
          decided.add(d.key);
          const j = jobs.get(d.key)!;
          expect(j).toBeDefined();
          if (d.kind !== 'start') continue;
          startedKeys.add(d.key);
          expect(j.readyAt).toBeLessThanOrEqual(inp.now);
          expect(inp.now).toBeLessThanOrEqual(j.readyAt + j.maxDelayMs);
          expect(j.mediaReady).toBe(true);
          if (j.priority !== 'emergency') {
            expect(quiet).toBe(false);
            expect(inp.stopped).toBe(false);
          }
          for (const z of d.zones) {
            expect(startedZones.has(z)).toBe(false);
            expect(busy.has(z)).toBe(false);
            startedZones.add(z);
          }
        }
        for (const d of ds) {
          if (d.kind !== 'preempt') continue;
          expect(startedKeys.has(d.by)).toBe(true);
          const by = jobs.get(d.by)!;
          const victim = plays.get(d.key)!;
          // Preempt only lower levels, or equal level with interrupt.
          if (by.priority === victim.priority) expect(by.policy).toBe('interrupt');
          else expect(by.priority).toBe('emergency');
          expect(by.zones.some((z) => victim.zones.includes(z))).toBe(true);
        }
      }),
      { numRuns: 2000 },
    );
  });

  it('an eligible emergency with no emergency ahead of it on its zones starts now', () => {
    fc.assert(
      fc.property(inputArb, (inp) => {
        const ds = decide(inp);
        const started = new Set(ds.filter((d) => d.kind === 'start').map((d) => d.key));
        const emergencies = inp.queue
          .filter((j) => j.priority === 'emergency' && j.mediaReady && j.readyAt <= inp.now && inp.now <= j.readyAt + j.maxDelayMs)
          .sort((a, b) => a.enqueuedAt - b.enqueuedAt || a.readyAt - b.readyAt || (a.key < b.key ? -1 : 1));
        emergencies.forEach((e, i) => {
          const overlaps = (zs: string[]) => zs.some((z) => e.zones.includes(z));
          const blockedByPlaying = inp.playing.some((p) => p.priority === 'emergency' && overlaps(p.zones));
          const blockedByEarlier = emergencies.slice(0, i).some((o) => overlaps(o.zones));
          if (!blockedByPlaying && !blockedByEarlier) expect(started.has(e.key)).toBe(true);
        });
      }),
      { numRuns: 1000 },
    );
  });

  it('nextWakeAt: decide answers the same at every time before it', () => {
    fc.assert(
      fc.property(inputArb, fc.double({ min: 0, max: 1, noNaN: true }), (inp, frac) => {
        const wake = nextWakeAt(inp);
        if (wake !== undefined) expect(wake).toBeGreaterThan(inp.now);
        const horizon = wake ?? inp.now + 3 * 86_400_000;
        const at = (t: number): DecideInput => ({ ...inp, now: t, localMinutes: inp.localMinutes + (t - inp.now) / MIN });
        const base = decide(inp);
        const t = inp.now + Math.floor(frac * (horizon - inp.now - 1));
        expect(decide(at(t))).toEqual(base);
        expect(decide(at(horizon - 1))).toEqual(base);
      }),
      { numRuns: 1000 },
    );
  });

  it('the answer does not depend on queue order', () => {
    fc.assert(
      fc.property(inputArb, fc.integer(), (inp, seed) => {
        const shuffled = [...inp.queue].sort((a, b) => ((a.key.charCodeAt(1) * 31 + seed) % 7) - ((b.key.charCodeAt(1) * 31 + seed) % 7));
        const norm = (ds: Decision[]) => [...ds].map((d) => JSON.stringify(d)).sort();
        expect(norm(decide({ ...inp, queue: shuffled }))).toEqual(norm(decide(inp)));
      }),
      { numRuns: 500 },
    );
  });
});
