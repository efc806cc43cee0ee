// Hostile input for verifyCommand: random JSON, random bytes and mutated valid envelopes.
// Invariants: no exception escapes; a rejection carries a reason from REJECT_REASONS; an
// acceptance of a mutated envelope is only possible when the mutation did not change what
// was signed (same signed bytes, same signers, same signature bytes).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { REJECT_REASONS, type SignedEnvelope, signedBytes, verifyCommand } from '../protocol/index.js';
import { context, mk } from './protocol-fixtures.js';

const VALID: SignedEnvelope[] = [
  mk('schedule'),
  mk('announce'),
  mk('alert', { cosign: ['ops2'] }),
  mk('alert', { body: { test: true, title: 'Thử còi', audio: { kind: 'stream', urls: ['https://x.vn/a.mp3'], durationSec: 30 } } }),
  mk('cancel'),
  mk('control'),
  mk('control', { body: { action: 'stop' } }),
];
const CTX = context();

function check(raw: string | Buffer, original?: SignedEnvelope): void {
  let r: ReturnType<typeof verifyCommand>;
  try {
    r = verifyCommand(raw, CTX);
  } catch (e) {
    throw new Error(`verifyCommand threw: ${(e as Error).message}`);
  }
  if (!r.ok) {
    expect(REJECT_REASONS).toContain(r.reason);
    expect(typeof r.detail).toBe('string');
    return;
  }
  // Accepted: it must be a no-op mutation of a valid envelope.
  expect(original, 'random input accepted').toBeDefined();
  const text = typeof raw === 'string' ? raw : raw.toString('utf8');
  const got = JSON.parse(text) as SignedEnvelope;
  expect(signedBytes(got).equals(signedBytes(original!))).toBe(true);
  const sigBytes = (e: SignedEnvelope) => e.sigs.map((s) => `${s.key}:${Buffer.from(s.sig, 'base64').toString('hex')}`);
  for (const s of sigBytes(got)) expect(sigBytes(original!)).toContain(s);
}

// ---- mutation machinery -------------------------------------------------------------------------

type Path = (string | number)[];

function paths(v: unknown, prefix: Path = [], out: Path[] = []): Path[] {
  out.push(prefix);
  if (Array.isArray(v)) v.forEach((x, i) => paths(x, [...prefix, i], out));
  else if (v !== null && typeof v === 'object') for (const [k, x] of Object.entries(v)) paths(x, [...prefix, k], out);
  return out;
}

function setAt(root: unknown, path: Path, f: (old: unknown) => unknown): unknown {
  if (path.length === 0) return f(root);
  const [head, ...rest] = path;
  if (Array.isArray(root)) {
    const copy = [...root];
    copy[head as number] = setAt(copy[head as number], rest, f);
    return copy;
  }
  const obj = { ...(root as Record<string, unknown>) };
  obj[head as string] = setAt(obj[head as string], rest, f);
  return obj;
}

const DELETE = Symbol('delete');
function prune(v: unknown): unknown {
  if (Array.isArray(v)) return v.filter((x) => x !== DELETE).map(prune);
  if (v !== null && typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) if (x !== DELETE) out[k] = prune(x);
    return out;
  }
  return v;
}

const weird = fc.oneof(
  fc.constantFrom<unknown>(null, true, false, 0, -1, 1.5, 2 ** 53, -0, '', 'x', [], {}, '2026-01-05T00:00:00Z', 'emergency', 'all'),
  fc.string({ maxLength: 20 }),
  fc.integer(),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.jsonValue({ maxDepth: 3 }),
);

function deepNest(depth: number): unknown {
  let v: unknown = 'x';
  for (let i = 0; i < depth; i++) v = i % 2 ? [v] : { a: v };
  return v;
}

type Mutation =
  | { kind: 'replace'; pick: number; value: unknown }
  | { kind: 'delete'; pick: number }
  | { kind: 'addField'; pick: number; key: string; value: unknown }
  | { kind: 'flipChar'; pick: number; at: number }
  | { kind: 'shiftChar'; pick: number; at: number }
  | { kind: 'numberNudge'; pick: number; delta: number }
  | { kind: 'deep'; pick: number; depth: number }
  | { kind: 'huge'; pick: number; size: number }
  | { kind: 'typeSwap'; pick: number };

const mutationArb: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant('replace' as const), pick: fc.nat(), value: weird }),
  fc.record({ kind: fc.constant('delete' as const), pick: fc.nat() }),
  fc.record({
    kind: fc.constant('addField' as const),
    pick: fc.nat(),
    key: fc.oneof(fc.string({ maxLength: 8 }), fc.constantFrom('__proto__', 'constructor', 'sigs', 'body', 'v')),
    value: weird,
  }),
  fc.record({ kind: fc.constant('flipChar' as const), pick: fc.nat(), at: fc.nat() }),
  // Keeps the character class (letter -> letter, digit -> digit): the result usually still
  // passes the schema, so it exercises the signature check rather than the parser.
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('shiftChar' as const), pick: fc.nat(), at: fc.nat() }) },
  fc.record({ kind: fc.constant('numberNudge' as const), pick: fc.nat(), delta: fc.constantFrom(1, -1, 0.5, 1e9, -1e15) }),
  fc.record({ kind: fc.constant('deep' as const), pick: fc.nat(), depth: fc.integer({ min: 20, max: 200 }) }),
  fc.record({ kind: fc.constant('huge' as const), pick: fc.nat(), size: fc.constantFrom(5000, 5000, 70_000, 70_000, 1_100_000) }),
  fc.record({ kind: fc.constant('typeSwap' as const), pick: fc.nat() }),
);

function applyMutation(env: SignedEnvelope, m: Mutation): unknown {
  const all = paths(env);
  const path = all[m.pick % all.length]!;
  switch (m.kind) {
    case 'replace':
      return setAt(env, path, () => m.value);
    case 'delete':
      return prune(setAt(env, path, () => DELETE));
    case 'addField':
      return setAt(env, path, (old) => {
        if (old === null || typeof old !== 'object' || Array.isArray(old)) return old;
        const copy = { ...(old as Record<string, unknown>) };
        Object.defineProperty(copy, m.key, { value: m.value, enumerable: true, writable: true, configurable: true });
        return copy;
      });
    case 'flipChar':
      return setAt(env, path, (old) => {
        if (typeof old !== 'string' || old.length === 0) return old;
        const i = m.at % old.length;
        return old.slice(0, i) + String.fromCharCode(old.charCodeAt(i) ^ 1) + old.slice(i + 1);
      });
    case 'shiftChar':
      return setAt(env, path, (old) => {
        if (typeof old !== 'string' || old.length === 0) return old;
        const i = m.at % old.length;
        const c = old[i]!;
        const next = /[a-y]/.test(c) || /[A-Y]/.test(c) || /[0-8]/.test(c) ? String.fromCharCode(c.charCodeAt(0) + 1) : c === 'z' ? 'a' : c === 'Z' ? 'A' : c === '9' ? '0' : c;
        return old.slice(0, i) + next + old.slice(i + 1);
      });
    case 'numberNudge':
      return setAt(env, path, (old) => (typeof old === 'number' ? old + m.delta : old));
    case 'deep':
      return setAt(env, path, () => deepNest(m.depth));
    case 'huge':
      return setAt(env, path, () => 'A'.repeat(m.size));
    case 'typeSwap':
      return setAt(env, path, (old) =>
        typeof old === 'number'
          ? String(old)
          : typeof old === 'string'
            ? Number.isNaN(Number(old))
              ? [old]
              : Number(old)
            : typeof old === 'boolean'
              ? old
                ? 1
                : 0
              : Array.isArray(old)
                ? { ...old }
                : old === null
                  ? 0
                  : [old],
      );
  }
}

/** Byte-level damage applied after serialisation. */
type ByteDamage = { kind: 'none' } | { kind: 'flip'; at: number; bit: number } | { kind: 'insert'; at: number; bytes: Uint8Array } | { kind: 'truncate'; at: number };
const byteDamageArb: fc.Arbitrary<ByteDamage> = fc.oneof(
  { weight: 9, arbitrary: fc.constant({ kind: 'none' as const }) },
  fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), bit: fc.integer({ min: 0, max: 7 }) }),
  fc.record({
    kind: fc.constant('insert' as const),
    at: fc.nat(),
    // Invalid UTF-8: lone continuation bytes, overlongs, surrogates, truncated sequences.
    bytes: fc.oneof(
      fc.constantFrom(
        Uint8Array.of(0x80),
        Uint8Array.of(0xc0, 0xaf),
        Uint8Array.of(0xed, 0xa0, 0x80),
        Uint8Array.of(0xf4, 0x90, 0x80, 0x80),
        Uint8Array.of(0xe2, 0x82),
        Uint8Array.of(0xff),
      ),
      fc.uint8Array({ minLength: 1, maxLength: 4 }),
    ),
  }),
  fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
);

function damage(buf: Buffer, d: ByteDamage): Buffer {
  switch (d.kind) {
    case 'none':
      return buf;
    case 'flip': {
      const copy = Buffer.from(buf);
      const i = d.at % copy.length;
      copy[i] = copy[i]! ^ (1 << d.bit);
      return copy;
    }
    case 'insert': {
      const i = d.at % (buf.length + 1);
      return Buffer.concat([buf.subarray(0, i), Buffer.from(d.bytes), buf.subarray(i)]);
    }
    case 'truncate':
      return buf.subarray(0, d.at % buf.length);
  }
}

describe('verifyCommand under hostile input (fast-check)', () => {
  it('valid fixtures are accepted (control)', () => {
    for (const env of VALID) expect(verifyCommand(JSON.stringify(env), CTX).ok).toBe(true);
  });

  it('mutated valid envelopes: never throws, never accepts a real change (5,000 runs)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: VALID.length - 1 }),
        fc.array(mutationArb, { minLength: 1, maxLength: 2 }),
        byteDamageArb,
        fc.boolean(),
        (which, mutations, bytes, asBuffer) => {
          const original = VALID[which]!;
          let v: unknown = original;
          for (const m of mutations) v = applyMutation(v as SignedEnvelope, m);
          let text: string;
          try {
            text = JSON.stringify(v);
          } catch {
            return; // not serialisable (cannot happen with JSON values, kept for safety)
          }
          if (text === undefined) return;
          const buf = damage(Buffer.from(text, 'utf8'), bytes);
          check(asBuffer || bytes.kind !== 'none' ? buf : text, original);
        },
      ),
      { numRuns: 5000 },
    );
  });

  it('random JSON documents and random bytes are rejected with a known reason (5,000 runs)', () => {
    const envelopeLike = fc.record(
      {
        v: fc.oneof(fc.constant(1), weird),
        id: fc.oneof(fc.constant('cmd-1'), weird),
        type: fc.oneof(fc.constantFrom('schedule', 'announce', 'alert', 'cancel', 'control', 'ack'), weird),
        issuer: fc.oneof(fc.constant('central'), weird),
        seq: fc.oneof(fc.nat(), weird),
        issuedAt: fc.oneof(fc.constant('2026-01-05T00:00:00.000Z'), weird),
        expiresAt: fc.oneof(fc.constant('2026-01-05T01:00:00.000Z'), weird),
        target: fc.oneof(fc.constant({ all: true }), weird),
        body: weird,
        sigs: fc.oneof(fc.constant([{ key: 'central', sig: 'A'.repeat(86) + '==' }]), weird),
      },
      { requiredKeys: [] },
    );
    fc.assert(
      fc.property(
        fc.oneof(
          fc.json({ maxDepth: 6 }),
          envelopeLike.map((o) => JSON.stringify(o)),
          fc.string({ unit: 'binary', maxLength: 200 }),
          fc.uint8Array({ maxLength: 300 }).map((a) => Buffer.from(a)),
          fc.integer({ min: 1, max: 100 }).map((n) => '{"a":'.repeat(n) + '1' + '}'.repeat(n)),
        ),
        (raw) => check(raw),
      ),
      { numRuns: 5000 },
    );
  });
});
