import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  Ack,
  BODY_SCHEMAS,
  CentralState,
  canonicalBytes,
  canonicalJson,
  checkSignature,
  cosignEnvelope,
  cronError,
  DEFAULT_TOPIC_ROOT,
  EnvelopeShape,
  generateKeyPair,
  matchesTarget,
  newCommandId,
  occurrenceId,
  parseEnvelope,
  publicKeyError,
  publicKeyFromRaw,
  publicKeyOfPrivate,
  REJECT_REASONS,
  Receipt,
  type RejectReason,
  repeatedPublicKeys,
  SEQ_WINDOW,
  type SignedEnvelope,
  type SignedType,
  StationState,
  signatureFor,
  signedBytes,
  Telemetry,
  Topics,
  trustedKey,
  verifyCommand,
} from '../protocol/index.js';
import { BODIES, context, GROUP, KEYS, MemoryReplay, mk, SHA, STATION, T0, UNSIGNED_EXAMPLES } from './protocol-fixtures.js';

const SIGNED: SignedType[] = ['schedule', 'announce', 'alert', 'cancel', 'control'];
const json = (v: unknown): string => JSON.stringify(v);

function reject(raw: string | Buffer, ctx = context()): { reason: RejectReason; detail: string } {
  const r = verifyCommand(raw, ctx);
  if (r.ok) throw new Error('expected a rejection, got acceptance');
  return { reason: r.reason, detail: r.detail };
}

// ---- round trips ------------------------------------------------------------------------------

describe('every message type round-trips through its schema and canonical JSON', () => {
  for (const type of SIGNED) {
    it(`${type} (signed)`, () => {
      const env = mk(type, type === 'alert' ? { cosign: ['ops2'] } : {});
      const wire = canonicalJson(env);
      const back = JSON.parse(wire) as unknown;
      const shape = EnvelopeShape.parse(back);
      expect(canonicalJson(shape)).toBe(wire);
      const body = BODY_SCHEMAS[type].parse(shape.body);
      // Re-parsing the parsed body is a fixed point (defaults applied once).
      expect(BODY_SCHEMAS[type].parse(JSON.parse(canonicalJson(body)))).toEqual(body);
      const r = verifyCommand(wire, context());
      expect(r.ok).toBe(true);
      if (r.ok) {
        expect(r.command.type).toBe(type);
        expect(r.command.body).toEqual(body);
      }
      // Non-canonical wire form (pretty-printed, keys in producer order) verifies too.
      expect(verifyCommand(JSON.stringify(env, null, 2), context()).ok).toBe(true);
    });
  }

  const unsigned = [
    ['ack', Ack],
    ['state', StationState],
    ['telemetry', Telemetry],
    ['receipt', Receipt],
    ['central-state', CentralState],
  ] as const;
  for (const [name, schema] of unsigned) {
    it(`${name} (unsigned)`, () => {
      const example = UNSIGNED_EXAMPLES[name];
      const parsed = schema.parse(JSON.parse(canonicalJson(example)));
      expect(parsed).toEqual(example);
      expect(canonicalJson(schema.parse(JSON.parse(canonicalJson(parsed))))).toBe(canonicalJson(example));
    });
  }

  it('body defaults are applied by the schema, not required on the wire', () => {
    const body = BODY_SCHEMAS.announce.parse({ audio: { kind: 'media', sha256: SHA, size: 1 } });
    expect(body).toMatchObject({ title: '', priority: 'normal', chime: false, repeat: 1, gapSec: 0, policy: 'wait', maxDelaySec: 300 });
  });

  it('the will-style state (online false, no extras) parses', () => {
    expect(StationState.safeParse({ v: 1, type: 'state', station: STATION, online: false, epoch: 3 }).success).toBe(true);
  });

  it('schemas reject unknown fields and wrong versions', () => {
    expect(Ack.safeParse({ ...UNSIGNED_EXAMPLES.ack, extra: 1 }).success).toBe(false);
    expect(Receipt.safeParse({ ...UNSIGNED_EXAMPLES.receipt, v: 2 }).success).toBe(false);
    expect(EnvelopeShape.safeParse({ ...mk('cancel'), v: 2 }).success).toBe(false);
    expect(EnvelopeShape.safeParse({ ...mk('cancel'), sigs: [] }).success).toBe(false);
  });

  it('schedule: an item needs exactly one of cron or at, item ids are unique', () => {
    const audio = { kind: 'stream', urls: ['http://x.vn/a'], durationSec: 60 };
    const base = { station: STATION, version: 1, items: [] as unknown[] };
    expect(BODY_SCHEMAS.schedule.safeParse({ ...base, items: [{ id: 'a', audio }] }).success).toBe(false);
    expect(BODY_SCHEMAS.schedule.safeParse({ ...base, items: [{ id: 'a', cron: '* * * * *', at: '2026-01-01T00:00:00Z', audio }] }).success).toBe(false);
    expect(
      BODY_SCHEMAS.schedule.safeParse({
        ...base,
        items: [
          { id: 'a', cron: '* * * * *', audio },
          { id: 'a', cron: '0 * * * *', audio },
        ],
      }).success,
    ).toBe(false);
    expect(BODY_SCHEMAS.schedule.safeParse({ ...base, items: [{ id: 'a', cron: '* * * * *', audio }] }).success).toBe(true);
    // Items are never emergency: emergencies only travel as signed alerts.
    expect(BODY_SCHEMAS.schedule.safeParse({ ...base, items: [{ id: 'a', cron: '* * * * *', priority: 'emergency', audio }] }).success).toBe(false);
    expect(BODY_SCHEMAS.announce.safeParse({ priority: 'emergency', audio }).success).toBe(false);
  });

  it('media refs are capped at 16 MiB and need a lowercase sha256', () => {
    const ok = { kind: 'media', sha256: SHA, size: 16 * 1024 * 1024 };
    expect(BODY_SCHEMAS.alert.safeParse({ test: true, audio: ok }).success).toBe(true);
    expect(BODY_SCHEMAS.alert.safeParse({ test: true, audio: { ...ok, size: 16 * 1024 * 1024 + 1 } }).success).toBe(false);
    expect(BODY_SCHEMAS.alert.safeParse({ test: true, audio: { ...ok, sha256: SHA.toUpperCase() } }).success).toBe(false);
  });

  it('occurrence ids fit in an Id even for a 48-char item id', () => {
    const id = occurrenceId('x'.repeat(48), Date.UTC(2286, 0, 1));
    expect(id.length).toBeLessThanOrEqual(64);
    expect(/^[a-z0-9-]{1,64}$/.test(id)).toBe(true);
  });

  it('newCommandId is an Id', () => {
    expect(newCommandId('alert', T0)).toMatch(/^alert-20260105000000-[0-9a-f]{8}$/);
  });
});

// ---- canonical JSON ---------------------------------------------------------------------------

function shuffleKeys(v: unknown, rnd: () => number): unknown {
  if (Array.isArray(v)) return v.map((x) => shuffleKeys(x, rnd));
  if (v !== null && typeof v === 'object') {
    const entries = Object.entries(v as Record<string, unknown>);
    for (let i = entries.length - 1; i > 0; i--) {
      const j = Math.floor(rnd() * (i + 1));
      [entries[i], entries[j]] = [entries[j]!, entries[i]!];
    }
    const out: Record<string, unknown> = {};
    for (const [k, x] of entries) Object.defineProperty(out, k, { value: shuffleKeys(x, rnd), enumerable: true, writable: true, configurable: true });
    return out;
  }
  return v;
}

describe('canonical JSON', () => {
  it('is stable under key reordering (fast-check)', () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 6 }), fc.integer(), (value, seed) => {
        let s = seed >>> 0 || 1;
        const rnd = () => {
          s = (s * 1103515245 + 12345) >>> 0;
          return s / 2 ** 32;
        };
        const a = canonicalJson(value);
        expect(canonicalJson(shuffleKeys(value, rnd))).toBe(a);
        // Idempotent through a parse.
        expect(canonicalJson(JSON.parse(a))).toBe(a);
      }),
      { numRuns: 500 },
    );
  });

  it('sorts keys by UTF-16 code units, no whitespace', () => {
    expect(canonicalJson({ b: 1, a: [true, null, 'x'], B: { d: 2.5, c: -0 }, é: 1, '': 0 })).toBe('{"":0,"B":{"c":0,"d":2.5},"a":[true,null,"x"],"b":1,"é":1}');
    expect(canonicalJson({ '\u{1F600}': 1, '\uFFFF': 2 })).toBe('{"\u{1F600}":1,"\uFFFF":2}');
  });

  it('drops undefined members, rejects non-finite numbers, functions and deep nesting', () => {
    expect(canonicalJson({ a: undefined, b: 1 })).toBe('{"b":1}');
    expect(() => canonicalJson({ a: Infinity })).toThrow(/non-finite/);
    expect(() => canonicalJson(NaN)).toThrow();
    expect(() => canonicalJson(() => 1)).toThrow();
    let deep: unknown = 1;
    for (let i = 0; i < 70; i++) deep = [deep];
    expect(() => canonicalJson(deep)).toThrow(/deeper/);
  });

  it('canonicalBytes is the UTF-8 of canonicalJson', () => {
    expect(canonicalBytes({ t: 'Bão' }).equals(Buffer.from('{"t":"Bão"}', 'utf8'))).toBe(true);
  });
});

// ---- signing ----------------------------------------------------------------------------------

describe('signing', () => {
  it('signs the domain prefix followed by the canonical unsigned envelope', () => {
    const env = mk('cancel');
    const { sigs: _s, ...unsigned } = env;
    expect(signedBytes(env).toString('utf8')).toBe('loa/v1 signed envelope\n' + canonicalJson(unsigned));
    expect(signedBytes(env).equals(signedBytes(unsigned))).toBe(true);
  });

  it('a signature by another key fails', () => {
    const env = mk('announce', { signWith: 'rogue' });
    expect(checkSignature(env, env.sigs[0]!, publicKeyFromRaw(KEYS.central.publicKey))).toBe(false);
    expect(reject(json(env)).reason).toBe('bad_signature');
    // ... even when that other key is itself trusted.
    const env2 = mk('announce', { signWith: 'announcer' });
    expect(reject(json(env2)).reason).toBe('bad_signature');
  });

  it('keys round-trip through raw base64', () => {
    const k = generateKeyPair();
    expect(Buffer.from(k.publicKey, 'base64')).toHaveLength(32);
    expect(publicKeyOfPrivate(k.privateKeyPem)).toBe(k.publicKey);
    expect(() => publicKeyFromRaw(Buffer.alloc(31).toString('base64'))).toThrow(/32-byte/);
  });

  it('cosigning with the same key twice throws', () => {
    const env = mk('alert');
    expect(() => cosignEnvelope(env, 'central', KEYS.central.privateKeyPem)).toThrow(/already signed/);
  });

  it('the signature covers every field: changing any one breaks it', () => {
    const env = mk('announce');
    const changes: Partial<SignedEnvelope>[] = [
      { id: 'announce-other' },
      { seq: env.seq + 1 },
      { issuedAt: '2026-01-05T00:00:00.001Z' },
      { expiresAt: '2026-01-06T00:00:00.000Z' },
      { target: { all: true } },
      { body: { ...(env.body as object), volume: 100 } },
    ];
    for (const c of changes) expect(reject(json({ ...env, ...c })).reason).toBe('bad_signature');
  });

  // BUG (protocol/signing.ts): base64 signatures are decoded leniently, so the 4 unused low bits
  // of the last base64 character can be changed and the message still verifies. The sig string
  // is then not unique for a command (malleable encoding). Harmless for the id-based replay
  // memory, but anything that dedupes or hashes raw payloads sees two "different" valid
  // messages. Fix in checkSignature(): decode, and return false unless
  // `bytes.length === 64 && bytes.toString('base64') === sig.sig`.
  it('rejects a non-canonical base64 encoding of a valid signature', () => {
    const env = mk('cancel');
    const s = env.sigs[0]!.sig;
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
    const twin = s.slice(0, 85) + alphabet[alphabet.indexOf(s[85]!) ^ 1]! + '==';
    expect(twin).not.toBe(s);
    expect(Buffer.from(twin, 'base64').equals(Buffer.from(s, 'base64'))).toBe(true);
    expect(verifyCommand(json({ ...env, sigs: [{ key: 'central', sig: twin }] }), context()).ok).toBe(false);
  });
});

// ---- verification: every reason ----------------------------------------------------------------

describe('verifyCommand: every reject reason is produced', () => {
  const produced = new Set<RejectReason>();
  const expectReason = (raw: string | Buffer, reason: RejectReason, ctx = context()): string => {
    const r = reject(raw, ctx);
    expect(r.reason).toBe(reason);
    produced.add(r.reason);
    return r.detail;
  };

  it('bad_signature: tampered body', () => {
    const env = mk('announce');
    expectReason(json({ ...env, body: { ...(env.body as object), title: 'forged' } }), 'bad_signature');
  });
  it("bad_signature: first signature is not the issuer's", () => {
    const env = mk('cancel');
    const d = expectReason(json({ ...env, sigs: [signatureFor(env, 'ops2', KEYS.ops2.privateKeyPem)] }), 'bad_signature');
    expect(d).toMatch(/issuer/);
  });
  it('bad_signature: a forged cosignature', () => {
    const env = mk('alert');
    const forged = { key: 'ops2', sig: signatureFor(env, 'ops2', KEYS.rogue.privateKeyPem).sig };
    expectReason(json({ ...env, sigs: [...env.sigs, forged] }), 'bad_signature');
  });
  it('unknown_key', () => {
    expectReason(json(mk('announce', { issuer: 'rogue' })), 'unknown_key');
  });
  it('key_not_allowed: announcer may not sign an alert', () => {
    const d = expectReason(json(mk('alert', { issuer: 'announcer', body: { test: true, audio: { kind: 'media', sha256: SHA, size: 1 } } })), 'key_not_allowed');
    expect(d).toMatch(/may not sign alert/);
  });
  it('key_not_allowed: a cosigner not allowed alerts', () => {
    expectReason(json(mk('alert', { cosign: ['announcer'] })), 'key_not_allowed');
  });
  it('expired (beyond the clock skew)', () => {
    const env = mk('announce', { ttlMs: 60_000 });
    expect(verifyCommand(json(env), context({ now: T0 + 60_000 + 59_999 })).ok).toBe(true);
    expectReason(json(env), 'expired', context({ now: T0 + 60_000 + 60_000 }));
  });
  it('not_yet_valid (beyond the clock skew)', () => {
    const env = mk('announce', { now: T0 + 120_000 });
    expect(verifyCommand(json(env), context({ now: T0 + 60_000 })).ok).toBe(true);
    expectReason(json(env), 'not_yet_valid', context({ now: T0 + 59_999 }));
  });
  it('replayed', () => {
    const env = mk('announce');
    const replay = new MemoryReplay();
    expect(verifyCommand(json(env), context({ replay })).ok).toBe(true);
    replay.accept(env);
    expectReason(json(env), 'replayed', context({ replay }));
  });
  it('schedules are not replay-checked by id (their guard is the version, at apply time)', () => {
    const env = mk('schedule');
    const replay = new MemoryReplay();
    replay.accept(env);
    expect(verifyCommand(json(env), context({ replay })).ok).toBe(true);
  });
  it('stale_seq: more than SEQ_WINDOW below the highest seq', () => {
    const replay = new MemoryReplay();
    const env = mk('announce', { seq: 1_000_000 });
    replay.seqs.set('central', 1_000_000 + SEQ_WINDOW);
    expect(verifyCommand(json(env), context({ replay })).ok).toBe(true);
    replay.seqs.set('central', 1_000_000 + SEQ_WINDOW + 1);
    expectReason(json(env), 'stale_seq', context({ replay }));
  });
  it('wrong_target: another station, another group', () => {
    expectReason(json(mk('announce', { target: { stations: ['other-ward'] } })), 'wrong_target');
    expectReason(json(mk('announce', { target: { groups: ['quan-3'] } })), 'wrong_target');
    expect(verifyCommand(json(mk('announce', { target: { groups: [GROUP] } })), context()).ok).toBe(true);
    expect(verifyCommand(json(mk('announce', { target: { all: true } })), context()).ok).toBe(true);
  });
  it('wrong_target: a schedule for another station, even if addressed to all', () => {
    const body = { station: 'other-ward', version: 1, items: [] };
    const d = expectReason(json(mk('schedule', { target: { all: true }, body })), 'wrong_target');
    expect(d).toMatch(/other-ward/);
  });
  it('invalid: with the zod path and message', () => {
    const body = { title: 'x', test: true, zones: ['Zone 1'], audio: { kind: 'media', sha256: SHA, size: 1 } };
    const d = expectReason(json(mk('alert', { body })), 'invalid');
    expect(d).toBe('body.zones.0: expected an id of [a-z0-9-]{1,64}');
    const d2 = expectReason(json({ ...mk('cancel'), id: 'Bad/../id' }), 'invalid');
    expect(d2).toBe('id: expected an id of [a-z0-9-]{1,64}');
    const d3 = expectReason(json({ ...mk('cancel'), extra: true }), 'invalid');
    expect(d3).toMatch(/^\(root\): Unrecognized key/);
  });
  it('invalid: malformed JSON, not UTF-8, too large, too deep, expiresAt before issuedAt, double signature', () => {
    expect(expectReason('{"v":1', 'invalid')).toMatch(/malformed JSON/);
    expect(expectReason(Buffer.from([0x7b, 0xff, 0xfe, 0x7d]), 'invalid')).toMatch(/UTF-8/);
    expect(expectReason('"' + 'x'.repeat(1024 * 1024) + '"', 'invalid')).toMatch(/exceeds/);
    expect(expectReason('['.repeat(40) + ']'.repeat(40), 'invalid')).toMatch(/deeper/);
    expect(expectReason(json(mk('announce', { ttlMs: 0 })), 'invalid')).toMatch(/expiresAt/);
    const env = mk('cancel');
    expect(expectReason(json({ ...env, sigs: [env.sigs[0], env.sigs[0]] }), 'invalid')).toMatch(/signed twice/);
    expect(expectReason('null', 'invalid')).toMatch(/\(root\)/);
  });
  it('quorum_not_met: a single-signed live alert with quorum 2', () => {
    const d = expectReason(json(mk('alert')), 'quorum_not_met');
    expect(d).toMatch(/needs signatures by 2 different keys, it has 1/);
  });
  it('a double-signed live alert is accepted, with both signers', () => {
    const r = verifyCommand(json(mk('alert', { cosign: ['ops2'] })), context());
    expect(r.ok).toBe(true);
    if (r.ok) expect(r.signers).toEqual(['central', 'ops2']);
  });
  it('a test alert with one signature is accepted', () => {
    const r = verifyCommand(json(mk('alert', { body: { test: true, audio: { kind: 'media', sha256: SHA, size: 1 } } })), context());
    expect(r.ok).toBe(true);
  });
  it('quorum 3 needs three distinct signers', () => {
    expect(reject(json(mk('alert', { cosign: ['ops2'] })), context({ alertQuorum: 3 })).reason).toBe('quorum_not_met');
  });
  it('rejections carry the id/type/issuer when known', () => {
    const r = verifyCommand(json(mk('announce', { id: 'ann-1', issuer: 'rogue' })), context());
    expect(r).toMatchObject({ ok: false, reason: 'unknown_key', id: 'ann-1', type: 'announce', issuer: 'rogue' });
  });
  it('covers all of REJECT_REASONS', () => {
    expect([...produced].sort()).toEqual([...REJECT_REASONS].sort());
  });
});

describe('parseEnvelope', () => {
  it('accepts strings and buffers', () => {
    const env = mk('control');
    expect(parseEnvelope(json(env)).ok).toBe(true);
    expect(parseEnvelope(Buffer.from(json(env))).ok).toBe(true);
  });
  it('matchesTarget', () => {
    const st = { id: 'a', groups: ['g'] };
    expect(matchesTarget({ all: true }, st)).toBe(true);
    expect(matchesTarget({ stations: ['a'] }, st)).toBe(true);
    expect(matchesTarget({ groups: ['g'] }, st)).toBe(true);
    expect(matchesTarget({ stations: ['b'], groups: ['h'] }, st)).toBe(false);
    expect(matchesTarget({ all: false, stations: ['b'] }, st)).toBe(false);
  });
});

// ---- topics -----------------------------------------------------------------------------------

describe('topics', () => {
  const t = new Topics();
  it('build/parse round-trip', () => {
    expect(t.root).toBe(DEFAULT_TOPIC_ROOT);
    const table: [string, unknown][] = [
      [t.stationCmd('s-1'), { kind: 'cmd', station: 's-1' }],
      [t.schedule('s-1'), { kind: 'schedule', station: 's-1' }],
      [t.state('s-1'), { kind: 'state', station: 's-1' }],
      [t.telemetry('s-1'), { kind: 'telemetry', station: 's-1' }],
      [t.ack('s-1'), { kind: 'ack', station: 's-1' }],
      [t.groupCmd('g1'), { kind: 'group-cmd', group: 'g1' }],
      [t.allCmd(), { kind: 'all-cmd' }],
      [t.media(SHA), { kind: 'media', sha256: SHA }],
      [t.centralState(), { kind: 'central-state' }],
      [t.receipt('s-1'), { kind: 'receipt', station: 's-1' }],
    ];
    for (const [topic, parsed] of table) expect(t.parse(topic)).toEqual(parsed);
    expect(t.stationCmd('s-1')).toBe('loa/v1/station/s-1/cmd');
    expect(t.media(SHA)).toBe(`loa/v1/media/${SHA}`);
    expect(t.receipt('s-1')).toBe('loa/v1/central/receipt/s-1');
  });
  it('round-trips random valid ids (fast-check)', () => {
    const idArb = fc.string({ unit: fc.constantFrom(...'abcdefghijklmnopqrstuvwxyz0123456789-'.split('')), minLength: 1, maxLength: 64 });
    fc.assert(
      fc.property(idArb, (id) => {
        expect(t.parse(t.stationCmd(id))).toEqual({ kind: 'cmd', station: id });
        expect(t.parse(t.groupCmd(id))).toEqual({ kind: 'group-cmd', group: id });
      }),
      { numRuns: 300 },
    );
  });
  const bad = ['../etc', 'a/../b', 'a+', '+', '#', 'a#', 'a\u0000b', 'Ward', 'ABC', 'x'.repeat(65), '', 'a b', 'a/b', 'ä'];
  for (const id of bad) {
    it(`rejects id ${JSON.stringify(id).slice(0, 24)}`, () => {
      expect(() => t.stationCmd(id)).toThrow(/invalid station id/);
      expect(() => t.groupCmd(id)).toThrow(/invalid group id/);
      expect(() => t.receipt(id)).toThrow();
      expect(t.parse(`loa/v1/station/${id}/cmd`)).toBeUndefined();
      expect(t.parse(`loa/v1/group/${id}/cmd`)).toBeUndefined();
      expect(t.parse(`loa/v1/central/receipt/${id}`)).toBeUndefined();
    });
  }
  it('64-char id is accepted', () => {
    expect(t.parse(t.stationCmd('x'.repeat(64)))).toEqual({ kind: 'cmd', station: 'x'.repeat(64) });
  });
  it('rejects bad media hashes and foreign or malformed topics', () => {
    expect(() => t.media(SHA.toUpperCase())).toThrow();
    expect(() => t.media('abc')).toThrow();
    for (const topic of [
      'loa/v2/station/s/cmd',
      'loa/v1/station/s/cmd/extra',
      'loa/v1/station/s/other',
      'loa/v1/station/+/state',
      'loa/v1/#',
      'loa/v1/media/' + SHA.slice(1),
      'loa/v1/central/receipt',
      'loa/v1/all/cmd/x',
      'loa/v1',
      'x/loa/v1/all/cmd',
    ]) {
      expect(t.parse(topic)).toBeUndefined();
    }
  });
  it('wildcards and subscriptions', () => {
    expect(t.allStates()).toBe('loa/v1/station/+/state');
    expect(t.allTelemetry()).toBe('loa/v1/station/+/telemetry');
    expect(t.allAcks()).toBe('loa/v1/station/+/ack');
    expect(t.stationSubscriptions('s-1', ['g1'])).toEqual([
      'loa/v1/station/s-1/cmd',
      'loa/v1/station/s-1/schedule',
      'loa/v1/group/g1/cmd',
      'loa/v1/all/cmd',
      'loa/v1/central/state',
      'loa/v1/central/receipt/s-1',
      'loa/v1/central/prefetch',
    ]);
    expect(t.parse('loa/v1/central/prefetch')).toEqual({ kind: 'prefetch' });
  });
  it('custom roots are validated', () => {
    expect(new Topics('tinh/loa').stationCmd('s')).toBe('tinh/loa/station/s/cmd');
    for (const r of ['', '/loa', 'loa/', 'loa/+', 'loa/#', 'a//b']) expect(() => new Topics(r)).toThrow(/invalid topic root/);
  });
});

describe('STATION fixture sanity', () => {
  it('uses the real station id pattern', () => {
    expect(new Topics().stationCmd(STATION)).toContain(STATION);
  });
});

describe('insider cases: one credential must not meet a quorum or pin the replay window', () => {
  it('the same public key registered under two ids counts once toward the quorum', () => {
    const keys = new Map([
      ['central', trustedKey('central', KEYS.central.publicKey, ['schedule', 'announce', 'alert', 'cancel', 'control'])],
      ['central-too', trustedKey('central-too', KEYS.central.publicKey, ['alert', 'cancel'])],
    ]);
    const env = mk('alert');
    const twice = cosignEnvelope(env, 'central-too', KEYS.central.privateKeyPem);
    const r = verifyCommand(json(twice), context({ keys }));
    expect(r).toMatchObject({ ok: false, reason: 'quorum_not_met' });
    if (!r.ok) expect(r.detail).toMatch(/1 key\(s\) under 2 names/);
  });
  it('repeatedPublicKeys finds a key listed twice, whatever the ids', () => {
    expect(repeatedPublicKeys([{ publicKey: KEYS.central.publicKey }, { publicKey: KEYS.ops2.publicKey }, { publicKey: KEYS.central.publicKey }])).toEqual([2]);
  });
  it('only the canonical base64 of a public key is accepted: one key, one spelling', () => {
    const k = KEYS.central.publicKey;
    expect(publicKeyError(k)).toBeUndefined();
    const raw = Buffer.from(k, 'base64');
    // The 43rd character carries 2 unused low bits: flipping one spells the same 32 bytes differently.
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
    const sameBytes = `${k.slice(0, 42)}${alphabet[alphabet.indexOf(k[42]!) ^ 1]}=`;
    expect(Buffer.from(sameBytes, 'base64').equals(raw)).toBe(true);
    const variants = [sameBytes, k.replace(/=$/, ''), `${k}\n`, ` ${k}`, k.replace(/\+/g, '-').replace(/\//g, '_') + (/[+/]/.test(k) ? '' : '\t')];
    for (const variant of variants) expect(publicKeyError(variant), JSON.stringify(variant)).toBeDefined();
  });
  it('a command valid for more than 7 days is invalid; a schedule may be valid for 400 days', () => {
    expect(reject(json(mk('announce', { ttlMs: 7 * 86_400_000 + 1 }))).detail).toMatch(/at most 7 days/);
    expect(reject(json(mk('alert', { ttlMs: 30 * 86_400_000, cosign: ['ops2'] }))).detail).toMatch(/at most 7 days/);
    expect(verifyCommand(json(mk('schedule', { ttlMs: 399 * 86_400_000 })), context()).ok).toBe(true);
    expect(reject(json(mk('schedule', { ttlMs: 401 * 86_400_000 }))).detail).toMatch(/at most 400 days/);
  });
  it('a seq far ahead of its issue time is invalid, so one message cannot make later ones stale', () => {
    expect(reject(json(mk('control', { seq: 9_000_000_000_000_000 }))).detail).toMatch(/seq: .* ahead of issuedAt/);
    expect(verifyCommand(json(mk('control', { seq: T0 + 3_500_000 })), context()).ok).toBe(true);
  });
  it('sub-minute cron (a seconds field) is refused', () => {
    expect(cronError('*/10 * * * * *', 'Asia/Ho_Chi_Minh')).toMatch(/5 fields/);
    expect(cronError('30 5 * * *', 'Asia/Ho_Chi_Minh')).toBeUndefined();
    const body = { ...BODIES.schedule, items: [{ ...BODIES.schedule.items[0], cron: '* * * * * *' }] };
    expect(reject(json(mk('schedule', { body }))).detail).toMatch(/items\.0\.cron: expected 5 fields/);
  });
  it('relay URLs: only the relay schemes of the protocol parse; file: never does', () => {
    const stream = (url: string) => ({ ...BODIES.schedule, items: [{ ...BODIES.schedule.items[0], audio: { kind: 'stream', urls: [url], durationSec: 60 } }] });
    expect(verifyCommand(json(mk('schedule', { body: stream('rtsp://cam.example.vn/live') })), context()).ok).toBe(true);
    expect(reject(json(mk('schedule', { body: stream('file:///etc/passwd') }))).reason).toBe('invalid');
    expect(reject(json(mk('schedule', { body: stream('concat:/a|/b') }))).reason).toBe('invalid');
  });
});
