import type { MqttClient } from 'mqtt';
import { t } from '../io/i18n.js';
import { publishAsync } from '../io/mqtt.js';
import { Ack, type CentralState, PROTOCOL_VERSION, type Receipt, StationState, Telemetry } from '../protocol/index.js';
import { connectCentral } from './central-connection.js';
import { CentralDb } from './central-db.js';
import type { Fleet } from './fleet.js';
import { mediaGc } from './media-gc.js';

export interface CollectorOptions {
  clientId?: string;
  tickMs?: number;
  verbose?: boolean;
  /** central/state heartbeat period: stations measure their clock offset from it. */
  heartbeatMs?: number;
  /** Daily maintenance (media gc, retention); off in short-lived tests. */
  maintenanceMs?: number;
}

type Inbound = { kind: 'ack'; value: Ack; at: number } | { kind: 'state'; value: StationState; at: number } | { kind: 'telemetry'; value: Telemetry; at: number };

const MAX_SEQS_PER_RECEIPT = 10_000;
export const HEARTBEAT_MS = 15_000;
const DAY_MS = 86_400_000;

function centralState(online: boolean): string {
  const s: CentralState = { v: PROTOCOL_VERSION, type: 'central-state', online, at: new Date().toISOString() };
  return JSON.stringify(s);
}

/**
 * The central collector. Persistent session (clean: false) so acks queue at the broker while we
 * are down; rows are written in one transaction per tick (synchronous=FULL), and receipts,
 * which let a station drop acks from its outbox, are sent only after that transaction committed.
 */
export class Collector {
  private pending: Inbound[] = [];
  private timers: NodeJS.Timeout[] = [];
  private flushing = false;
  private client?: MqttClient;
  private stopped = false;
  readonly stats = { acks: 0, duplicates: 0, conflicts: 0, states: 0, telemetry: 0, invalid: 0, receipts: 0 };

  constructor(
    private readonly fleet: Fleet,
    private readonly db: CentralDb,
    private readonly opts: CollectorOptions = {},
  ) {}

  async start(): Promise<void> {
    const T = this.fleet.topics;
    const client = await connectCentral(this.fleet, {
      clientId: this.opts.clientId ?? this.fleet.broker.clientId,
      clean: false,
      will: { topic: T.centralState(), payload: Buffer.from(centralState(false)), qos: 1, retain: true },
      onMessage: (topic, payload) => this.onMessage(topic, payload),
    });
    this.client = client;
    const announceOnline = () => void publishAsync(client, T.centralState(), centralState(true), { qos: 1, retain: true }).catch(() => undefined);
    client.on('connect', () => {
      this.log(t('collect.connected', { urls: this.fleet.broker.urls.join(', ') }));
      announceOnline();
    });
    client.on('offline', () => this.log(t('collect.offline')));
    await client.subscribeAsync([T.allStates(), T.allTelemetry(), T.allAcks()], { qos: 1 });
    announceOnline();
    this.log(t('collect.connected', { urls: this.fleet.broker.urls.join(', ') }));
    this.timers.push(setInterval(() => void this.flush(), this.opts.tickMs ?? 200));
    // A fresh timestamp every heartbeat: stations measure their clock against it.
    this.timers.push(setInterval(() => client.connected && announceOnline(), this.opts.heartbeatMs ?? HEARTBEAT_MS));
    const maintenance = this.opts.maintenanceMs ?? DAY_MS;
    if (maintenance > 0) {
      this.timers.push(setTimeout(() => void this.maintenance(), Math.min(maintenance, 60_000)));
      this.timers.push(setInterval(() => void this.maintenance(), maintenance));
    }
  }

  private log(line: string): void {
    process.stderr.write(`${new Date().toISOString()} ${line}\n`);
  }

  private onMessage(topic: string, payload: Buffer): void {
    const parsed = this.fleet.topics.parse(topic);
    if (!parsed || !('station' in parsed)) return;
    const at = Date.now();
    let json: unknown;
    try {
      json = JSON.parse(payload.toString('utf8'));
    } catch {
      this.stats.invalid++;
      return;
    }
    // A message must come from the topic of the station it names (the ACL makes that the sender).
    const named = (json as { station?: unknown })?.station;
    if (named !== parsed.station) {
      this.stats.invalid++;
      return;
    }
    const schema = parsed.kind === 'ack' ? Ack : parsed.kind === 'state' ? StationState : parsed.kind === 'telemetry' ? Telemetry : undefined;
    if (!schema) return;
    const r = schema.safeParse(json);
    if (!r.success) {
      this.stats.invalid++;
      if (this.opts.verbose) this.log(t('collect.invalid', { topic, reason: r.error.issues[0]?.message ?? '' }));
      return;
    }
    this.pending.push({ kind: parsed.kind, value: r.data, at } as Inbound);
  }

  /** Write everything received since the last tick in one transaction, then send receipts. */
  async flush(): Promise<void> {
    if (this.flushing || this.pending.length === 0) return;
    this.flushing = true;
    const batch = this.pending;
    this.pending = [];
    try {
      // Receipts per station store: a station reset (new db id) is numbered separately.
      const seqs = new Map<string, { station: string; db: string; seqs: number[] }>();
      const conflicts: Ack[] = [];
      this.db.transaction(() => {
        for (const m of batch) {
          if (m.kind === 'ack') {
            const w = this.db.writeAck(m.value, m.at);
            if (w === 'duplicate') this.stats.duplicates++;
            if (w === 'conflict') conflicts.push(m.value);
            const key = `${m.value.station}|${m.value.db}`;
            let entry = seqs.get(key);
            if (!entry) {
              entry = { station: m.value.station, db: m.value.db, seqs: [] };
              seqs.set(key, entry);
            }
            entry.seqs.push(m.value.seq);
          } else if (m.kind === 'state') this.db.writeState(m.value, m.at);
          else this.db.writeTelemetry(m.value, m.at);
        }
      });
      for (const m of batch) this.stats[m.kind === 'ack' ? 'acks' : m.kind === 'state' ? 'states' : 'telemetry']++;
      this.stats.conflicts += conflicts.length;
      // A conflict is kept (ack_conflicts) and receipted: both versions are stored, nothing is
      // lost, and `loa stations` shows the station's conflict count for someone to look at.
      for (const c of conflicts) this.log(t('collect.conflict', { station: c.station, seq: c.seq, db: c.db }));
      if (this.opts.verbose) this.log(t('collect.batch', { count: batch.length }));
      const client = this.client;
      if (!client) return;
      for (const { station, db, seqs: list } of seqs.values()) {
        const unique = [...new Set(list)].sort((a, b) => a - b);
        for (let i = 0; i < unique.length; i += MAX_SEQS_PER_RECEIPT) {
          const receipt: Receipt = { v: PROTOCOL_VERSION, type: 'receipt', station, db, seqs: unique.slice(i, i + MAX_SEQS_PER_RECEIPT) };
          // QoS 1 but not awaited: a lost receipt only means the station re-sends, which is idempotent.
          client.publish(this.fleet.topics.receipt(station), JSON.stringify(receipt), { qos: 1 });
          this.stats.receipts++;
        }
      }
    } catch (e) {
      // Put the batch back: nothing was committed, so no receipt went out either.
      this.pending = batch.concat(this.pending);
      this.log(t('collect.writeFailed', { reason: (e as Error).message }));
    } finally {
      this.flushing = false;
    }
  }

  /** Daily: clear retained media nothing references, and prune beyond the fleet's retention. */
  async maintenance(): Promise<void> {
    const client = this.client;
    if (!client?.connected || this.stopped) return;
    try {
      const gc = await mediaGc(this.fleet, this.db, client);
      const pruned = this.db.prune(Date.now() - this.fleet.retention.days * DAY_MS);
      this.log(t('collect.maintenance', { cleared: gc.cleared.length, kept: gc.kept, pruned: JSON.stringify(pruned) }));
    } catch (e) {
      this.log(t('collect.maintenanceFailed', { reason: (e as Error).message }));
    }
  }

  /**
   * Stop promptly, connected or not: flush what was received, say offline if the broker is
   * there (bounded wait), and close. A collector whose broker is unreachable must still exit
   * on SIGTERM within seconds, not when systemd loses patience.
   */
  async stop(): Promise<void> {
    this.stopped = true;
    for (const timer of this.timers) clearInterval(timer);
    await this.flush();
    const client = this.client;
    if (!client) return;
    if (client.connected) {
      await Promise.race([
        publishAsync(client, this.fleet.topics.centralState(), centralState(false), { qos: 1, retain: true }).catch(() => undefined),
        new Promise((r) => setTimeout(r, 2000)),
      ]);
      await Promise.race([new Promise<void>((resolve) => client.end(false, {}, () => resolve())), new Promise((r) => setTimeout(r, 2000))]);
    }
    client.end(true);
  }
}

export async function runCollector(fleet: Fleet, opts: CollectorOptions): Promise<number> {
  const db = new CentralDb(fleet.database);
  // Signals first: a collector still waiting for an unreachable broker must stop at once too.
  let stopping: (() => void) | undefined;
  const stopped = new Promise<void>((resolve) => (stopping = resolve));
  process.once('SIGINT', () => stopping!());
  process.once('SIGTERM', () => stopping!());
  const collector = new Collector(fleet, db, opts);
  const started = collector.start().then(
    () => true,
    (e: Error) => {
      process.stderr.write(`loa: ${e.message}\n`);
      return false;
    },
  );
  const first = await Promise.race([started, stopped.then(() => 'signal' as const)]);
  if (first === false) {
    db.close();
    return 1;
  }
  if (first !== 'signal') await stopped;
  await collector.stop();
  db.close();
  process.stderr.write(t('collect.stopped', { ...collector.stats }) + '\n');
  return 0;
}
