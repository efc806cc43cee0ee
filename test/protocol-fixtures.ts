// Shared fixtures for the protocol suites: throwaway keys, a trust store, a replay memory and
// one valid example of every message type at a fixed clock.
import {
  cosignEnvelope,
  generateKeyPair,
  type KeyPair,
  makeEnvelope,
  type ReplayView,
  type SignedEnvelope,
  type SignedType,
  signEnvelope,
  type Target,
  type TrustedKey,
  trustedKey,
  type VerifyContext,
} from '../protocol/index.js';

/** 2026-01-05 07:00 +07:00 (a Monday). */
export const T0 = Date.UTC(2026, 0, 5, 0, 0, 0);
export const SHA = 'a3f1c2d4e5b6978812340abcdef0123456789abcdef0123456789abcdef01234';
export const STATION = 'phuong-ben-nghe';
export const GROUP = 'quan-1';

export const KEYS: Record<'central' | 'ops2' | 'announcer' | 'rogue', KeyPair> = {
  central: generateKeyPair(),
  ops2: generateKeyPair(),
  announcer: generateKeyPair(),
  rogue: generateKeyPair(),
};

const ALL: SignedType[] = ['schedule', 'announce', 'alert', 'cancel', 'control'];

/** `rogue` is deliberately not trusted. */
export function trustStore(): Map<string, TrustedKey> {
  return new Map<string, TrustedKey>([
    ['central', trustedKey('central', KEYS.central.publicKey, ALL)],
    ['ops2', trustedKey('ops2', KEYS.ops2.publicKey, ['alert', 'cancel'])],
    ['announcer', trustedKey('announcer', KEYS.announcer.publicKey, ['announce', 'cancel'])],
  ]);
}

export class MemoryReplay implements ReplayView {
  ids = new Set<string>();
  seqs = new Map<string, number>();
  seenId(id: string): boolean {
    return this.ids.has(id);
  }
  highestSeq(issuer: string): number | undefined {
    return this.seqs.get(issuer);
  }
  accept(env: { id: string; issuer: string; seq: number }): void {
    this.ids.add(env.id);
    this.seqs.set(env.issuer, Math.max(env.seq, this.seqs.get(env.issuer) ?? 0));
  }
}

export function context(o: Partial<VerifyContext> = {}): VerifyContext {
  return {
    station: { id: STATION, groups: [GROUP] },
    keys: trustStore(),
    now: T0 + 1000,
    alertQuorum: 2,
    clockSkewMs: 60_000,
    replay: new MemoryReplay(),
    ...o,
  };
}

export const BODIES = {
  schedule: {
    station: STATION,
    version: 7,
    tz: 'Asia/Ho_Chi_Minh',
    items: [
      {
        id: 'morning-news',
        cron: '30 5 * * *',
        title: 'Bản tin sáng',
        zones: ['zone-1', 'zone-2'],
        volume: 70,
        chime: true,
        policy: 'wait',
        maxDelaySec: 600,
        audio: { kind: 'stream', urls: ['https://radio.example.vn/vov1.mp3'], durationSec: 1800 },
      },
      {
        id: 'vaccination-day',
        at: '2026-01-10T08:00:00+07:00',
        priority: 'priority',
        title: 'Tiêm chủng',
        audio: { kind: 'media', sha256: SHA, size: 812_044 },
      },
    ],
  },
  announce: {
    title: 'Cắt điện khu phố 3',
    priority: 'priority',
    zones: ['zone-1'],
    chime: true,
    repeat: 2,
    gapSec: 30,
    policy: 'interrupt',
    maxDelaySec: 300,
    audio: { kind: 'media', sha256: SHA, size: 812_044, tts: { text: 'Thông báo cắt điện', voice: 'vi-female' } },
  },
  alert: {
    title: 'Bão số 9: sơ tán',
    test: false,
    repeat: 3,
    gapSec: 60,
    audio: { kind: 'media', sha256: SHA, size: 812_044 },
  },
  cancel: { broadcastId: 'ann-20260105000000-0a1b2c3d', reason: 'sent to the wrong ward' },
  control: { action: 'volume', zone: 'zone-1', volume: 55 },
} as const;

export interface MkOptions {
  id?: string;
  issuer?: keyof typeof KEYS;
  signWith?: keyof typeof KEYS;
  seq?: number;
  now?: number;
  ttlMs?: number;
  target?: Target;
  body?: unknown;
  cosign?: (keyof typeof KEYS)[];
}

let counter = 0;
export function mk(type: SignedType, o: MkOptions = {}): SignedEnvelope {
  const issuer = o.issuer ?? 'central';
  const env = makeEnvelope({
    id: o.id ?? `${type}-${++counter}`,
    type,
    issuer,
    seq: o.seq ?? T0 + counter,
    now: o.now ?? T0,
    ttlMs: o.ttlMs ?? 3600_000,
    target: o.target ?? { stations: [STATION] },
    body: o.body ?? BODIES[type],
  });
  let signed = signEnvelope(env, KEYS[o.signWith ?? issuer].privateKeyPem);
  for (const k of o.cosign ?? []) signed = cosignEnvelope(signed, k, KEYS[k].privateKeyPem);
  return signed;
}

/** Non-signed messages (station -> central, central -> station). */
export const UNSIGNED_EXAMPLES = {
  ack: {
    v: 1,
    type: 'ack',
    id: `${STATION}:5f0c6a2e9b1d4c70:42`,
    station: STATION,
    db: '5f0c6a2e9b1d4c70',
    seq: 42,
    epoch: 3,
    state: 'completed',
    commandId: 'alert-1',
    commandType: 'alert',
    broadcastId: 'alert-1',
    priority: 'emergency',
    zones: ['zone-1', 'zone-2'],
    plannedAt: '2026-01-05T00:00:00.000Z',
    startedAt: '2026-01-05T00:00:00.350Z',
    endedAt: '2026-01-05T00:03:10.000Z',
    at: '2026-01-05T00:03:10.000Z',
    sha256: SHA,
    test: false,
    historical: false,
  },
  state: {
    v: 1,
    type: 'state',
    station: STATION,
    online: true,
    epoch: 3,
    at: '2026-01-05T00:00:00.000Z',
    software: 'loa-station/0.1.0',
    name: 'Phường Bến Nghé',
    groups: [GROUP],
    zones: [{ id: 'zone-1', name: 'Chợ' }],
    scheduleVersion: 7,
  },
  telemetry: {
    v: 1,
    type: 'telemetry',
    station: STATION,
    epoch: 3,
    at: '2026-01-05T00:01:00.000Z',
    nowPlaying: [{ zone: 'zone-1', broadcastId: 'morning-news-1767565800', itemId: 'morning-news', priority: 'normal', title: 'Bản tin sáng', since: '2026-01-04T22:30:00.000Z' }],
    queue: 1,
    zones: [{ id: 'zone-1', onAir: true, volume: 70 }],
    diskFreeBytes: 12_000_000_000,
    cacheBytes: 48_000_000,
    ffmpegOk: true,
    scheduleVersion: 7,
    outboxDepth: 0,
  },
  receipt: { v: 1, type: 'receipt', station: STATION, db: '5f0c6a2e9b1d4c70', seqs: [40, 41, 42] },
  'central-state': { v: 1, type: 'central-state', online: true, at: '2026-01-05T00:00:00.000Z' },
} as const;
