// Inbound against a real in-memory store: verify, store with acks in one transaction, then
// emit; a store that refuses writes throws (no PUBACK) and nothing is half-stored.
import { describe, expect, it } from 'vitest';
import { StationEventBus, type StationEvents } from '../../daemon/events.js';
import { Inbound } from '../../daemon/inbound.js';
import { AckOutbox } from '../../daemon/outbox.js';
import { StationStore, StoreFailure } from '../../daemon/store.js';
import { cosignEnvelope, generateKeyPair, makeEnvelope, type SignedType, signEnvelope, trustedKey } from '../../protocol/index.js';

const T0 = Date.UTC(2026, 11, 1, 1, 0, 0);
const office = generateKeyPair();
const duty = generateKeyPair();
const keys = new Map([
  ['office', trustedKey('office', office.publicKey, ['announce', 'alert', 'cancel', 'control'])],
  ['duty', trustedKey('duty', duty.publicKey, ['alert', 'cancel'])],
]);
const media = { kind: 'media', sha256: 'a'.repeat(64), size: 100 };
let n = 0;
function env(type: SignedType, body: unknown, o: { now?: number; cosign?: boolean } = {}) {
  const now = o.now ?? T0;
  const e = signEnvelope(
    makeEnvelope({ id: `${type}-${++n}`, type, issuer: 'office', seq: now + n, now, ttlMs: 3600_000, target: { stations: ['st-a'] }, body }),
    office.privateKeyPem,
  );
  return o.cosign ? cosignEnvelope(e, 'duty', duty.privateKeyPem) : e;
}

function setup(now = T0) {
  const clock = { now: () => now };
  const store = new StationStore(':memory:');
  const events = new StationEventBus();
  const seen: { event: keyof StationEvents; payload: unknown }[] = [];
  for (const e of ['job-added', 'cancel-requested', 'control-requested', 'schedule-applied'] as const) events.on(e, (p) => seen.push({ event: e, payload: p }));
  const outbox = new AckOutbox(store, 'st-a', clock);
  const inbound = new Inbound({
    store,
    outbox,
    clock,
    zones: ['main'],
    events,
    log: () => {},
    context: () => ({ station: { id: 'st-a', groups: [] }, keys, alertQuorum: 2, clockSkewMs: 60_000 }),
  });
  const acks = () => store.outbox().map((r) => `${r.ack.state}${r.ack.reason ? `:${r.ack.reason}` : ''}`);
  const settle = () => new Promise((r) => queueMicrotask(() => r(undefined)));
  return { store, inbound, seen, acks, settle };
}

describe('Inbound', () => {
  it('stores a live alert with its received and scheduled acks, then emits job-added at emergency level', async () => {
    const { inbound, seen, acks, settle } = setup();
    inbound.handle('t', Buffer.from(JSON.stringify(env('alert', { test: false, audio: media }, { cosign: true }))));
    await settle();
    expect(acks()).toEqual(['received', 'scheduled']);
    expect(seen.map((s) => s.event)).toEqual(['job-added']);
    expect((seen[0]!.payload as { job: { priority: string } }).job.priority).toBe('emergency');
  });

  it('a test alert is a priority job with the interrupt-free policy; nothing waits on a quorum', async () => {
    const { inbound, seen, settle } = setup();
    inbound.handle('t', Buffer.from(JSON.stringify(env('alert', { test: true, audio: media }))));
    await settle();
    const job = (seen[0]!.payload as { job: { priority: string; spec: { policy: string; test: boolean; chime: boolean } } }).job;
    expect({ priority: job.priority, policy: job.spec.policy, test: job.spec.test, chime: job.spec.chime }).toEqual({
      priority: 'priority',
      policy: 'wait',
      test: true,
      chime: false,
    });
  });

  it('a store that refuses writes throws StoreFailure and keeps nothing (the caller withholds the PUBACK)', async () => {
    const { store, inbound, seen, settle } = setup();
    store.db.pragma('query_only = 1');
    const alert = env('alert', { test: false, audio: media }, { cosign: true });
    expect(() => inbound.handle('t', Buffer.from(JSON.stringify(alert)))).toThrow(StoreFailure);
    await settle();
    expect(seen).toEqual([]);
    store.db.pragma('query_only = 0');
    expect(store.seenId(alert.id)).toBe(false);
    expect(store.outboxDepth()).toBe(0);
    // Redelivered once the store works again: stored exactly once.
    inbound.handle('t', Buffer.from(JSON.stringify(alert)));
    await settle();
    expect(store.seenId(alert.id)).toBe(true);
    expect(seen).toHaveLength(1);
  });

  it('a cancel of a live alert with one key is rejected quorum_not_met; with two keys it is emitted', async () => {
    const { inbound, seen, acks, settle } = setup();
    const alert = env('alert', { test: false, audio: media }, { cosign: true });
    inbound.handle('t', Buffer.from(JSON.stringify(alert)));
    inbound.handle('t', Buffer.from(JSON.stringify(env('cancel', { broadcastId: alert.id }))));
    inbound.handle('t', Buffer.from(JSON.stringify(env('cancel', { broadcastId: alert.id }, { cosign: true }))));
    await settle();
    expect(acks()).toEqual(['received', 'scheduled', 'rejected:quorum_not_met', 'received']);
    expect(seen.map((s) => s.event)).toEqual(['job-added', 'cancel-requested']);
  });

  it('a command from ahead of this clock is rejected not_yet_valid and held; processed once the clock allows', async () => {
    let now = T0 - 3600_000;
    const clock = { now: () => now };
    const store = new StationStore(':memory:');
    const events = new StationEventBus();
    const added: unknown[] = [];
    events.on('job-added', (p) => added.push(p));
    const inbound = new Inbound({
      store,
      outbox: new AckOutbox(store, 'st-a', clock),
      clock,
      zones: ['main'],
      events,
      log: () => {},
      context: () => ({ station: { id: 'st-a', groups: [] }, keys, alertQuorum: 2, clockSkewMs: 60_000 }),
    });
    inbound.handle('t', Buffer.from(JSON.stringify(env('announce', { audio: media }))));
    expect(store.heldCount()).toBe(1);
    expect(store.outbox()[0]!.ack).toMatchObject({ state: 'rejected', reason: 'not_yet_valid' });
    inbound.recheckHeld();
    expect(store.heldCount()).toBe(1);
    now = T0 + 1000;
    inbound.recheckHeld();
    await new Promise((r) => queueMicrotask(() => r(undefined)));
    expect(store.heldCount()).toBe(0);
    expect(added).toHaveLength(1);
    expect(store.outbox().map((r) => r.ack.state)).toEqual(['rejected', 'received', 'scheduled']);
  });
});
