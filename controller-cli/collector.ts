import type { MqttClient } from 'mqtt';
import { publishAsync } from '../io/mqtt.js';
import { Ack, CentralState, PROTOCOL_VERSION, StationState, Telemetry, type Receipt } from '../protocol/index.js';
import { t } from '../io/i18n.js';
import { CentralDb } from './central-db.js';
import { connectCentral } from './central-connection.js';
import type { Fleet } from './fleet.js';

export interface CollectorOptions {
  clientId?: string;
  tickMs?: number;
  verbose?: boolean;
}

type Inbound =
  | { kind: 'ack'; value: Ack; at: number }
  | { kind: 'state'; value: StationState; at: number }
  | { kind: 'telemetry'; value: Telemetry; at: number };

const MAX_SEQS_PER_RECEIPT = 10_000;

function centralState(online: boolean): string {
  const s: CentralState = { v: PROTOCOL_VERSION, type: 'central-state', online, at: new Date().toISOString() };
  return JSON.stringify(s);
}

/**
 * The central collector. Persistent session (clean: false) so acks queue at the broker while we
 * are down; rows are written in one transaction per tick, and receipts — which let a station drop
 * acks from its outbox — are sent only after that transaction committed.
 */
export class Collector {
  private pending: Inbound[] = [];
  private timer?: NodeJS.Timeout;
  private flushing = false;
  private client?: MqttClient;
  readonly stats = { acks: 0, states: 0, telemetry: 0, invalid: 0, receipts: 0 };

  constructor(private readonly fleet: Fleet, private readonly db: CentralDb, private readonly opts: CollectorOptions = {}) {}

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
    this.timer = setInterval(() => void this.flush(), this.opts.tickMs ?? 200);
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
      const seqs = new Map<string, number[]>();
      this.db.transaction(() => {
        for (const m of batch) {
          if (m.kind === 'ack') {
            this.db.writeAck(m.value, m.at);
            let list = seqs.get(m.value.station);
            if (!list) seqs.set(m.value.station, (list = []));
            list.push(m.value.seq);
          } else if (m.kind === 'state') this.db.writeState(m.value, m.at);
          else this.db.writeTelemetry(m.value, m.at);
        }
      });
      for (const m of batch) this.stats[m.kind === 'ack' ? 'acks' : m.kind === 'state' ? 'states' : 'telemetry']++;
      if (this.opts.verbose) this.log(t('collect.batch', { count: batch.length }));
      const client = this.client;
      if (!client) return;
      for (const [station, list] of seqs) {
        const unique = [...new Set(list)].sort((a, b) => a - b);
        for (let i = 0; i < unique.length; i += MAX_SEQS_PER_RECEIPT) {
          const receipt: Receipt = { v: PROTOCOL_VERSION, type: 'receipt', station, seqs: unique.slice(i, i + MAX_SEQS_PER_RECEIPT) };
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

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.flush();
    const client = this.client;
    if (!client) return;
    await publishAsync(client, this.fleet.topics.centralState(), centralState(false), { qos: 1, retain: true }).catch(() => undefined);
    await new Promise<void>((resolve) => client.end(false, {}, () => resolve()));
  }
}

export async function runCollector(fleet: Fleet, opts: CollectorOptions): Promise<number> {
  const db = new CentralDb(fleet.database);
  const collector = new Collector(fleet, db, opts);
  await collector.start();
  await new Promise<void>((resolve) => {
    const onSignal = () => resolve();
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
  });
  await collector.stop();
  db.close();
  process.stderr.write(t('collect.stopped', { ...collector.stats }) + '\n');
  return 0;
}
