// The draft prefetch hint (protocol/prefetch.ts), pure, at a fixed clock: what makes a station
// fetch a clip before an alert is approved, and everything that must not.
import { describe, expect, it } from 'vitest';
import { type SignedEnvelope, verifyPrefetch } from '../protocol/index.js';
import { BODIES, context, GROUP, mk, SHA, STATION, T0 } from './protocol-fixtures.js';

const ctx = (o: Partial<ReturnType<typeof context>> = {}) => {
  const { alertQuorum: _q, replay: _r, ...rest } = context(o);
  return rest;
};
const hint = (e: SignedEnvelope) => JSON.stringify(e);

describe('verifyPrefetch', () => {
  it('a live alert with one trusted signature is a hint for the stations it targets: fetch its clip', () => {
    const v = verifyPrefetch(hint(mk('alert')), ctx());
    expect(v).toEqual({ ok: true, id: expect.any(String), audio: { kind: 'media', sha256: SHA, size: 812_044 } });
    expect(verifyPrefetch(hint(mk('alert', { target: { groups: [GROUP] } })), ctx()).ok).toBe(true);
    expect(verifyPrefetch(hint(mk('alert', { target: { all: true } })), ctx()).ok).toBe(true);
  });

  it('the same hint replayed is still only a fetch (nothing is remembered, nothing is queued)', () => {
    const e = mk('alert');
    expect(verifyPrefetch(hint(e), ctx()).ok).toBe(true);
    expect(verifyPrefetch(hint(e), ctx()).ok).toBe(true);
  });

  it('refuses what is not a live alert with a clip', () => {
    expect(verifyPrefetch(hint(mk('announce')), ctx())).toMatchObject({ ok: false, detail: expect.stringMatching(/not a announce/) });
    expect(verifyPrefetch(hint(mk('alert', { body: { ...BODIES.alert, test: true } })), ctx())).toMatchObject({ ok: false, detail: expect.stringMatching(/test alert/) });
    const relay = { ...BODIES.alert, audio: { kind: 'stream', urls: ['https://radio.example.vn/a.mp3'], durationSec: 60 } };
    expect(verifyPrefetch(hint(mk('alert', { body: relay })), ctx())).toMatchObject({ ok: false, detail: expect.stringMatching(/relay/) });
  });

  it('refuses a forged, tampered, foreign, expired or future hint, and one for another station', () => {
    expect(verifyPrefetch(hint(mk('alert', { issuer: 'rogue' })), ctx())).toMatchObject({ ok: false, detail: expect.stringMatching(/^unknown_key/) });
    expect(verifyPrefetch(hint(mk('alert', { issuer: 'announcer' })), ctx())).toMatchObject({ ok: false, detail: expect.stringMatching(/^key_not_allowed/) });
    const e = mk('alert');
    const tampered = { ...e, body: { ...(e.body as object), title: 'Báo động giả' } };
    expect(verifyPrefetch(hint(tampered as SignedEnvelope), ctx())).toMatchObject({ ok: false, detail: expect.stringMatching(/^bad_signature/) });
    expect(verifyPrefetch(hint(mk('alert')), ctx({ now: T0 + 2 * 3600_000 }))).toMatchObject({ ok: false, detail: expect.stringMatching(/^expired/) });
    expect(verifyPrefetch(hint(mk('alert', { now: T0 + 3600_000 })), ctx())).toMatchObject({ ok: false, detail: expect.stringMatching(/^not_yet_valid/) });
    expect(verifyPrefetch(hint(mk('alert', { target: { stations: ['phuong-khac'] } })), ctx())).toMatchObject({ ok: false, detail: expect.stringMatching(/^wrong_target/) });
    expect(verifyPrefetch('{"not":"an envelope"}', ctx())).toMatchObject({ ok: false, detail: expect.stringMatching(/^invalid/) });
    expect(STATION).toBe('phuong-ben-nghe');
  });
});
