// CI version of `npm run proof`'s hostile-input table: every case once against one real daemon.
// Each group of rows is its own test so a regression names what broke.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { HOSTILE_GROUPS, type HostileReport, hostile, RSS_BOUND_KIB } from '../support/proof/hostile.js';
import { cleanupTemp } from '../support/proof/lib.js';

let report: HostileReport;

beforeAll(async () => {
  report = await hostile({ reps: 1 });
}, 360_000);
afterAll(cleanupTemp);

describe('hostile input: rejected with a reason, nothing aired, daemon alive, memory bounded', () => {
  test.each(HOSTILE_GROUPS.map((g) => [g]))('%s', (group) => {
    const rows = report.rows.filter((r) => r.group === group);
    expect(rows.length).toBeGreaterThan(0);
    const failing = rows
      .filter((r) => r.verdict !== 'PASS')
      .map((r) => `${r.case} [${r.topic}]: expected ${r.expected}, got ${r.got}; played=${r.played} alive=${r.alive} rssΔ=${r.rssDeltaKiB} KiB`);
    expect(failing).toEqual([]);
  });

  test('every inbound topic is covered', () => {
    const topics = new Set(report.rows.map((r) => r.topic));
    for (const t of ['station/hs-target/cmd', 'group/hg/cmd', 'all/cmd', 'station/hs-target/schedule', 'central/receipt/hs-target', 'media/<sha>']) expect(topics).toContain(t);
  });

  test('the daemon stays within the memory bound over the whole run', () => {
    expect(report.rssEndKiB - report.rssStartKiB).toBeLessThan(RSS_BOUND_KIB);
  });
});
