// Simulated stations for the scale bench: one process holds `count` light MQTT clients, each
// one station. Like a real station, each has its own persistent session (client id = station
// id), a retained birth state and a will, subscribes to its cmd, all/cmd, central/state and its
// receipts; it verifies every command (Ed25519, target, expiry, replay) with protocol/verify.ts
// and acks `received`, `scheduled`, `started` and, `airMs` later, `completed`. Acks stay in an
// in-memory outbox until a receipt names them, and the whole outbox goes again when
// central/state comes (back) online or its view changes, as daemon/telemetry.ts decides.
// No audio, no SQLite: what is measured is the broker, the collectors and the database.
//   node sim-stations.js <brokerUrl> <firstIndex> <count> <keysJson> [airMs]
// Prints `ready` when every client is connected and subscribed; on stdin, `report` prints one
// JSON line (outbox sizes, ack lags publish → receipt); `reset` clears the lag samples.
import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import mqtt, { type MqttClient } from 'mqtt';
import { type Ack, CentralState, Receipt, Topics, type TrustedKey, trustedKey, verifyCommand } from '../protocol/index.js';
import { simStationId } from './lib.js';

const [url, first, count, keysJson, air] = process.argv.slice(2);
const FIRST = Number(first);
const N = Number(count);
const AIR_MS = Number(air ?? 2000);
const T = new Topics();
const wall = () => performance.timeOrigin + performance.now();
const keys = new Map<string, TrustedKey>(
  (JSON.parse(keysJson!) as { id: string; publicKey: string; allow: string[] }[]).map((k) => [k.id, trustedKey(k.id, k.publicKey, k.allow as TrustedKey['allow'])]),
);

interface Pending {
  payload: string;
  sentAt: number;
  state: Ack['state'];
}

interface Sim {
  id: string;
  db: string;
  seq: number;
  client: MqttClient;
  outbox: Map<number, Pending>;
  seen: Set<string>;
  highest: Map<string, number>;
  online: boolean;
  view: string | undefined;
}

const sims: Sim[] = [];
let lags: number[] = [];
let lastCompletedReceipt = 0;
let rejected = 0;
let resends = 0;

function ack(s: Sim, state: Ack['state'], cmd: { id: string; type: Ack['commandType'] }, extra: Partial<Ack> = {}): void {
  const seq = ++s.seq;
  const a: Ack = {
    v: 1,
    type: 'ack',
    id: `${s.id}:${s.db}:${seq}`,
    station: s.id,
    db: s.db,
    seq,
    epoch: 1,
    state,
    commandId: cmd.id,
    ...(cmd.type ? { commandType: cmd.type } : {}),
    broadcastId: cmd.id,
    priority: 'normal',
    zones: ['main'],
    at: new Date().toISOString(),
    historical: false,
    ...extra,
  };
  const payload = JSON.stringify(a);
  s.outbox.set(seq, { payload, sentAt: wall(), state });
  s.client.publish(T.ack(s.id), payload, { qos: 1 });
}

function onCommand(s: Sim, payload: Buffer): void {
  const r = verifyCommand(payload, {
    station: { id: s.id, groups: [] },
    keys,
    now: Date.now(),
    alertQuorum: 2,
    clockSkewMs: 300_000,
    replay: { seenId: (id) => s.seen.has(id), highestSeq: (issuer) => s.highest.get(issuer) },
  });
  if (!r.ok) {
    rejected++;
    return;
  }
  const c = r.command;
  s.seen.add(c.id);
  s.highest.set(c.issuer, Math.max(c.seq, s.highest.get(c.issuer) ?? 0));
  const cmd = { id: c.id, type: c.type };
  ack(s, 'received', cmd);
  ack(s, 'scheduled', cmd);
  const startedAt = new Date().toISOString();
  ack(s, 'started', cmd, { startedAt });
  setTimeout(() => ack(s, 'completed', cmd, { startedAt, endedAt: new Date().toISOString() }), AIR_MS);
}

function onReceipt(s: Sim, payload: Buffer): void {
  const r = Receipt.safeParse(JSON.parse(payload.toString('utf8')));
  if (!r.success || r.data.db !== s.db) return;
  const now = wall();
  for (const seq of r.data.seqs) {
    const p = s.outbox.get(seq);
    if (!p) continue;
    s.outbox.delete(seq);
    lags.push(now - p.sentAt);
    if (p.state === 'completed') lastCompletedReceipt = Math.max(lastCompletedReceipt, now);
  }
}

function onCentral(s: Sim, payload: Buffer): void {
  let c: ReturnType<typeof CentralState.safeParse>;
  try {
    c = CentralState.safeParse(JSON.parse(payload.toString('utf8')));
  } catch {
    return;
  }
  if (!c.success) return;
  const viewChanged = c.data.view !== undefined && s.view !== undefined && c.data.view !== s.view;
  if (c.data.view !== undefined) s.view = c.data.view;
  const cameOnline = c.data.online && !s.online;
  s.online = c.data.online;
  if (c.data.online && (cameOnline || viewChanged) && s.outbox.size > 0) {
    resends++;
    for (const p of s.outbox.values()) s.client.publish(T.ack(s.id), p.payload, { qos: 1 });
  }
}

async function start(i: number): Promise<Sim> {
  const id = simStationId(i);
  const client = mqtt.connect(url!, {
    clientId: id,
    clean: false,
    protocolVersion: 4,
    keepalive: 60,
    reconnectPeriod: 2000,
    writeCache: false,
    will: { topic: T.state(id), payload: Buffer.from(JSON.stringify({ v: 1, type: 'state', station: id, online: false, epoch: 2 })), qos: 1, retain: true },
  });
  const s: Sim = { id, db: randomBytes(8).toString('hex'), seq: 0, client, outbox: new Map(), seen: new Set(), highest: new Map(), online: false, view: undefined };
  client.on('message', (topic, payload) => {
    const parsed = T.parse(topic);
    if (!parsed) return;
    if (parsed.kind === 'receipt') onReceipt(s, payload);
    else if (parsed.kind === 'central-state') onCentral(s, payload);
    else if (parsed.kind === 'cmd' || parsed.kind === 'all-cmd') onCommand(s, payload);
  });
  client.on('error', () => undefined);
  await new Promise<void>((resolve, reject) => {
    client.once('connect', () => resolve());
    client.once('error', reject);
  });
  await client.subscribeAsync([T.stationCmd(id), T.allCmd(), T.centralState(), T.receipt(id)], { qos: 1 });
  await client.publishAsync(T.state(id), JSON.stringify({ v: 1, type: 'state', station: id, online: true, epoch: 1, db: s.db }), { qos: 1, retain: true });
  return s;
}

async function main(): Promise<void> {
  // In waves: 10,000 SYNs at once would overflow the broker's listen backlog.
  const WAVE = 100;
  for (let i = 0; i < N; i += WAVE) {
    const wave = await Promise.all(Array.from({ length: Math.min(WAVE, N - i) }, (_, k) => start(FIRST + i + k)));
    sims.push(...wave);
  }
  process.stdout.write('ready\n');
  const rl = createInterface({ input: process.stdin });
  rl.on('line', (line) => {
    if (line === 'reset') {
      lags = [];
      lastCompletedReceipt = 0;
      rejected = 0;
      resends = 0;
      process.stdout.write('{"reset":true}\n');
    } else if (line === 'report') {
      const outbox = sims.reduce((n, s) => n + s.outbox.size, 0);
      const acks = sims.reduce((n, s) => n + s.seq, 0);
      process.stdout.write(`${JSON.stringify({ outbox, acks, lags, lastCompletedReceipt, rejected, resends, connected: sims.filter((s) => s.client.connected).length })}\n`);
    } else if (line === 'quit') {
      for (const s of sims) s.client.end(true);
      process.exit(0);
    }
  });
}

main().catch((e) => {
  process.stderr.write(`sim-stations: ${(e as Error).stack}\n`);
  process.exit(1);
});
