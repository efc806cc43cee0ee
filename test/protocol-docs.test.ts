// docs/protocol.md is generated from real code; this keeps it honest. Every ```json block must
// parse with the schema of its type, every signed example must verify with the documented
// test keys, and the documented signed bytes must be what signing.ts signs.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import {
  Ack,
  BODY_SCHEMAS,
  CentralState,
  CollectorState,
  EnvelopeShape,
  publicKeyFromRaw,
  Receipt,
  SIGNED_TYPES,
  type SignedEnvelope,
  type SignedType,
  StationState,
  signedBytes,
  Telemetry,
  type TrustedKey,
  trustedKey,
  verifyCommand,
} from '../protocol/index.js';

const doc = readFileSync(fileURLToPath(new URL('../docs/protocol.md', import.meta.url)), 'utf8');
const blocks = [...doc.matchAll(/```json\n([\s\S]*?)\n```/g)].map((m) => m[1]!);
const parsed = blocks.map((b) => JSON.parse(b) as Record<string, unknown>);
const keysBlock = parsed.find((p) => 'loaTestKeys' in p) as { loaTestKeys: Record<string, string> } | undefined;
const UNSIGNED = { ack: Ack, state: StationState, telemetry: Telemetry, receipt: Receipt, 'central-state': CentralState, 'collector-state': CollectorState } as const;

describe('docs/protocol.md examples', () => {
  it('has a JSON example of every message type', () => {
    const types = new Set(parsed.map((p) => p.type).filter((t) => t !== undefined));
    for (const t of [...SIGNED_TYPES, ...Object.keys(UNSIGNED)]) expect(types, `missing example of ${t}`).toContain(t);
    expect(keysBlock).toBeDefined();
  });

  it.each(blocks.map((b, i) => [i, (parsed[i]!.type as string | undefined) ?? 'keys', b] as const))('block %i (%s) parses with its schema', (i, _t, _b) => {
    const value = parsed[i]!;
    if ('loaTestKeys' in value) {
      for (const k of Object.values(keysBlock!.loaTestKeys)) expect(() => publicKeyFromRaw(k)).not.toThrow();
      return;
    }
    const type = value.type as string;
    if ((SIGNED_TYPES as readonly string[]).includes(type)) {
      const env = EnvelopeShape.parse(value);
      const body = BODY_SCHEMAS[env.type].safeParse(env.body);
      expect(body.success, JSON.stringify(body.error?.issues)).toBe(true);
      return;
    }
    const schema = UNSIGNED[type as keyof typeof UNSIGNED];
    expect(schema, `no schema for type ${type}`).toBeDefined();
    const r = schema.safeParse(value);
    expect(r.success, JSON.stringify(r.error?.issues)).toBe(true);
  });

  it('every signed example verifies with the documented keys (as station phuong-ben-nghe, quorum 2)', () => {
    const allow: Record<string, SignedType[]> = { central: [...SIGNED_TYPES], 'ops-2': ['alert', 'cancel'] };
    const keys = new Map<string, TrustedKey>(Object.entries(keysBlock!.loaTestKeys).map(([id, raw]) => [id, trustedKey(id, raw, allow[id] ?? [])]));
    const signed = parsed.filter((p) => (SIGNED_TYPES as readonly string[]).includes(p.type as string)) as unknown as SignedEnvelope[];
    expect(signed.length).toBeGreaterThanOrEqual(SIGNED_TYPES.length);
    for (const env of signed) {
      const r = verifyCommand(JSON.stringify(env), {
        station: { id: 'phuong-ben-nghe', groups: ['quan-1'] },
        keys,
        now: Date.parse(env.issuedAt) + 1000,
        alertQuorum: 2,
        clockSkewMs: 60_000,
        replay: { seenId: () => false, highestSeq: () => undefined },
      });
      expect(r.ok ? 'ok' : `${r.reason}: ${r.detail}`, env.id).toBe('ok');
    }
  });

  it('the documented signed bytes are what signing.ts signs for the cancel example', () => {
    const m = /<!-- signed-bytes:cancel -->\n```text\n([\s\S]*?)\n```/.exec(doc);
    expect(m).not.toBeNull();
    const cancel = parsed.find((p) => p.type === 'cancel') as unknown as SignedEnvelope;
    expect(signedBytes(cancel).toString('utf8')).toBe(m![1]);
  });

  it('every reject reason is documented', async () => {
    const { REJECT_REASONS } = await import('../protocol/index.js');
    for (const r of REJECT_REASONS) expect(doc).toContain(`\`${r}\``);
  });
});
