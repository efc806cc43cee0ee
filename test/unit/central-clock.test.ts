// What a station makes of central/state: when to re-send its unreceipted acks, and whether the
// collectors count as online (several collectors share one central/state; the last one to die
// leaves no will, so an online state is trusted only while heartbeats keep coming).
import { describe, expect, it } from 'vitest';
import { CENTRAL_STALE_MS, CentralClock } from '../../daemon/telemetry.js';

const AT = '2026-01-05T00:00:03.000Z';
const msg = (o: Record<string, unknown>) => Buffer.from(JSON.stringify({ v: 1, type: 'central-state', at: AT, ...o }));

function clock() {
  let mono = 1_000;
  const c = new CentralClock({ now: () => Date.parse(AT) + 250 }, () => mono);
  return { c, advance: (ms: number) => (mono += ms) };
}

describe('CentralClock', () => {
  it('a single collector (no view): re-send when it comes back online, not on every heartbeat', () => {
    const { c } = clock();
    expect(c.update(msg({ online: true }), false)).toBe(true);
    expect(c.update(msg({ online: true }), true)).toBe(false);
    expect(c.offsetMs).toBe(250);
    expect(c.update(msg({ online: false }), false)).toBe(false);
    expect(c.online).toBe(false);
    expect(c.update(msg({ online: true }), true)).toBe(true);
  });

  it('several collectors: a new view (one died or joined) makes the station re-send, the same view does not', () => {
    const { c } = clock();
    expect(c.update(msg({ online: true, collectors: 2, view: 'aaaaaaaaaaaaaaaa' }), false)).toBe(true);
    expect(c.update(msg({ online: true, collectors: 2, view: 'aaaaaaaaaaaaaaaa' }), true)).toBe(false);
    expect(c.update(msg({ online: true, collectors: 1, view: 'bbbbbbbbbbbbbbbb' }), true)).toBe(true);
    expect(c.online).toBe(true);
  });

  it('without heartbeats for CENTRAL_STALE_MS the collectors count as gone; the next one is a return (re-send)', () => {
    const { c, advance } = clock();
    c.update(msg({ online: true, collectors: 1, view: 'cccccccccccccccc' }), true);
    advance(CENTRAL_STALE_MS - 1);
    expect(c.online).toBe(true);
    advance(2);
    expect(c.online).toBe(false);
    // The same collector restarted within the window would carry a new view; here the same view after the window.
    expect(c.update(msg({ online: true, collectors: 1, view: 'cccccccccccccccc' }), true)).toBe(true);
    expect(c.online).toBe(true);
  });

  it('ignores what is not a central-state', () => {
    const { c } = clock();
    expect(c.update(Buffer.from('nope'), true)).toBe(false);
    expect(c.update(msg({ online: true, view: 'NOT-HEX' }), true)).toBe(false);
    expect(c.online).toBe(false);
  });
});
