// Scope (who may see and address which station), per-station progress and the schedule
// review's flags: pure functions, fixed data and clocks.
import { describe, expect, test } from 'vitest';
import { progressFor } from '../../console/server/progress.js';
import { weekOf } from '../../console/server/routes/schedules.js';
import { OutOfScope, scopedTarget, scopeOf, visibleStations } from '../../console/server/scope.js';
import type { AckRow } from '../../controller-cli/central-store.js';
import type { Fleet } from '../../controller-cli/fleet.js';
import { ScheduleBody } from '../../protocol/index.js';

const fleet = {
  timezone: 'Asia/Ho_Chi_Minh',
  groups: [
    { id: 'dong', name: 'Đông' },
    { id: 'tay', name: 'Tây' },
  ],
  stations: [
    { id: 'a', name: 'A', groups: ['dong'], zones: [{ id: 'main', name: 'm' }] },
    { id: 'b', name: 'B', groups: ['dong'], zones: [{ id: 'main', name: 'm' }], quietHours: [{ start: '12:00', end: '13:30' }] },
    { id: 'c', name: 'C', groups: ['tay'], zones: [{ id: 'main', name: 'm' }] },
  ],
  stationDefaults: { quietHours: [{ start: '22:00', end: '05:00' }] },
} as unknown as Fleet;

const ward = { name: 'lan', role: 'ward' as const, stations: [], groups: ['dong'] };
const centre = { name: 'ops', role: 'operator' as const, stations: [], groups: [] };

describe('scope', () => {
  test('a ward user sees its group; the centre sees everything', () => {
    expect([...scopeOf(fleet, ward)]).toEqual(['a', 'b']);
    expect([...scopeOf(fleet, centre)]).toEqual(['a', 'b', 'c']);
    // A ward user with no scope sees nothing (never everything).
    expect(scopeOf(fleet, { ...ward, groups: [] }).size).toBe(0);
  });

  test('targets outside the scope are refused, by station, by group and mixed in', () => {
    expect(() => scopedTarget(fleet, ward, ['c'])).toThrow(OutOfScope);
    expect(() => scopedTarget(fleet, ward, ['tay'])).toThrow(OutOfScope);
    expect(() => scopedTarget(fleet, ward, ['a', 'c'])).toThrow(/c/);
    expect(() => scopedTarget(fleet, ward, ['no-such-station'])).toThrow(OutOfScope);
    expect(() => scopedTarget(fleet, ward, [])).toThrow(OutOfScope);
  });

  test('"all" is the whole fleet only for a user who sees it all; for a ward it is its own stations, by name', () => {
    expect(scopedTarget(fleet, centre, ['all'])).toEqual({ target: { all: true }, stations: ['a', 'b', 'c'] });
    expect(scopedTarget(fleet, ward, ['all'])).toEqual({ target: { stations: ['a', 'b'] }, stations: ['a', 'b'] });
    expect(scopedTarget(fleet, ward, ['dong'])).toEqual({ target: { groups: ['dong'] }, stations: ['a', 'b'] });
  });

  test('a broadcast to all shows a ward only its own stations', () => {
    expect(visibleStations(scopeOf(fleet, ward), ['a', 'b', 'c'])).toEqual(['a', 'b']);
    expect(visibleStations(scopeOf(fleet, ward), ['c'])).toEqual([]);
  });
});

const ack = (station: string, seq: number, state: string, commandId: string, extra: Partial<AckRow> = {}): AckRow =>
  ({
    station,
    seq,
    state,
    command_id: commandId,
    broadcast_id: 'alert-1',
    command_type: 'alert',
    item_id: null,
    planned_at: null,
    started_at: null,
    ended_at: null,
    at: `2026-12-01T00:00:0${seq}Z`,
    reason: null,
    test: 0,
    received_at: seq,
    ...extra,
  }) as AckRow;

describe('progress', () => {
  test('the last thing a station said about this broadcast, with every step', () => {
    const p = progressFor(
      ['a', 'b'],
      [ack('a', 1, 'received', 'alert-1'), ack('a', 2, 'started', 'alert-1'), ack('a', 3, 'cancelled', 'cancel-1', { command_type: 'cancel', reason: 'báo nhầm' })],
      'alert-1',
    );
    expect(p[0]).toMatchObject({ station: 'a', state: 'cancelled', reason: 'báo nhầm' });
    expect(p[0]!.steps.map((s) => s.state)).toEqual(['received', 'started', 'cancelled']);
    expect(p[1]).toMatchObject({ station: 'b', state: 'none', steps: [] });
  });

  test("a cancel's own receipt does not hide that the alert completed", () => {
    const p = progressFor(
      ['a'],
      [ack('a', 1, 'started', 'alert-1'), ack('a', 2, 'completed', 'alert-1'), ack('a', 3, 'received', 'cancel-1', { command_type: 'cancel' })],
      'alert-1',
    );
    expect(p[0]!.state).toBe('completed');
  });
});

describe('the coming week, flagged for a second look', () => {
  const body = (items: unknown[]) => ScheduleBody.parse({ station: 'b', version: 1, tz: 'Asia/Ho_Chi_Minh', items });
  const media = { kind: 'media', sha256: 'a'.repeat(64), size: 1 };
  // 2026-12-01 00:00 in Hội An (UTC+7).
  const from = Date.parse('2026-11-30T17:00:00Z');

  test('airings in quiet hours, before 05:30 and after 21:00 are flagged; the rest are not', () => {
    const week = weekOf(
      fleet,
      new Map([
        [
          'b',
          body([
            { id: 'sang', cron: '0 6 * * *', audio: media },
            { id: 'trua', cron: '0 12 * * *', audio: media },
            { id: 'som', cron: '0 5 * * *', audio: media },
            { id: 'toi', cron: '30 21 * * *', audio: media },
          ]),
        ],
      ]),
      from,
    );
    const flags = (id: string) => week.find((a) => a.itemId === id)!.flags;
    expect(week.filter((a) => a.itemId === 'sang')).toHaveLength(7);
    expect(flags('sang')).toEqual([]);
    expect(flags('trua')).toEqual(['quiet']); // station b's own quiet hours
    expect(flags('som')).toEqual(['early']);
    expect(flags('toi')).toEqual(['late']);
  });

  test("a station without its own quiet hours gets the fleet's default", () => {
    const week = weekOf(fleet, new Map([['a', { ...body([{ id: 'dem', cron: '30 23 * * *', audio: media }]), station: 'a' }]]), from);
    expect(week[0]!.flags).toEqual(['quiet', 'late']);
  });
});
