import { randomBytes } from 'node:crypto';
import type { MqttClient } from 'mqtt';
import { t } from '../io/i18n.js';
import { publishAsync } from '../io/mqtt.js';
import { Ack, type CentralState, CLIENT_ID_PATTERN, CollectorState, PROTOCOL_VERSION, type Receipt, StationState, Telemetry } from '../protocol/index.js';
import { connectCentral } from './central-connection.js';
import { type CentralStore, type Inbound, openCentralStore } from './central-store.js';
import { UsageError } from './errors.js';
import type { Fleet } from './fleet.js';
import { mediaGc } from './media-gc.js';

export interface CollectorOptions {
  clientId?: string;
  /**
   * Shared-subscription group: several collectors (each its own client id) share the acks and
   * telemetry (`$share/<group>/…`), keep a presence each, and derive central/state from them.
   */
  shared?: string;
  tickMs?: number;
  verbose?: boolean;
  /** central/state heartbeat period: stations measure their clock offset from it. */
  heartbeatMs?: number;
  /** Daily maintenance (media gc, retention); off in short-lived tests. */
  maintenanceMs?: number;
  /** Called after each committed batch (the console's live feed when it runs the collector). */
  onCommitted?: (batch: readonly CommittedMessage[]) => void;
}

export type CommittedMessage = Inbound;

const MAX_SEQS_PER_RECEIPT = 10_000;
/** Messages per transaction: a backlog after an outage is written in steps, receipts following each. */
const MAX_BATCH = 10_000;
export const HEARTBEAT_MS = 15_000;
/** A peer whose presence has not been refreshed for this many heartbeats is gone (its will may never come: a broker restart). */
const STALE_HEARTBEATS = 3;
const DAY_MS = 86_400_000;

function centralState(online: boolean, group?: { collectors: number; view: string }): string {
  const s: CentralState = { v: PROTOCOL_VERSION, type: 'central-state', online, at: new Date().toISOString(), ...(group ?? {}) };
  return JSON.stringify(s);
}

interface Peer {
  since: string;
  seenAt: number;
  online: boolean;
}

/**
 * The central collector. Rows are written in one transaction per tick (SQLite synchronous=FULL,
 * PostgreSQL synchronous_commit on), and receipts, which let a station drop acks from its
 * outbox, are sent only after that transaction committed.
 *
 * Alone (the default), it keeps a persistent session (clean: false) so acks queue at the broker
 * while it is down, and central/state carries its birth and will. With `shared`, several
 * collectors take turns on each ack through a shared subscription. Their sessions are clean:
 * Mosquitto keeps delivering to an offline persistent member of a group, and never hands a dead
 * member's in-flight messages to another one. What a dead collector took with it is still in
 * the stations' outboxes (no receipt yet); central/state's `view` changes when a collector dies,
 * and stations then re-send everything unreceipted.
 */
export class Collector {
  private pending: Inbound[] = [];
  private timers: NodeJS.Timeout[] = [];
  private flushing = false;
  private client?: MqttClient;
  private stopped = false;
  private readonly clientId: string;
  private readonly since = new Date().toISOString();
  private readonly peers = new Map<string, Peer>();
  private view = '';
  /** The live set the current `view` names. */
  private viewSet = '';
  /** Shared mode: our own presence came back, so every retained presence before it has arrived. */
  private presenceSeen = false;
  readonly stats = { acks: 0, duplicates: 0, conflicts: 0, states: 0, telemetry: 0, invalid: 0, receipts: 0 };

  constructor(
    private readonly fleet: Fleet,
    private readonly db: CentralStore,
    private readonly opts: CollectorOptions = {},
  ) {
    this.clientId = opts.clientId ?? fleet.broker.clientId;
    if (opts.shared !== undefined && opts.clientId === undefined) throw new UsageError(t('collect.sharedNeedsClientId'));
  }

  private get heartbeatMs(): number {
    return this.opts.heartbeatMs ?? HEARTBEAT_MS;
  }

  async start(): Promise<void> {
    const T = this.fleet.topics;
    const shared = this.opts.shared;
    const client = await connectCentral(this.fleet, {
      clientId: this.clientId,
      clean: shared !== undefined,
      will:
        shared !== undefined
          ? { topic: T.collectorState(this.clientId), payload: Buffer.from(this.presence(false)), qos: 1, retain: true }
          : { topic: T.centralState(), payload: Buffer.from(centralState(false)), qos: 1, retain: true },
      onMessage: (topic, payload, packet?: { retain?: boolean }) => this.onMessage(topic, payload, packet?.retain === true),
    });
    this.client = client;
    const announce = () => void this.announce().catch(() => undefined);
    client.on('connect', () => {
      this.log(t('collect.connected', { urls: this.fleet.broker.urls.join(', ') }));
      // A clean session starts empty: the presences arrive again with the subscription.
      if (shared !== undefined) this.presenceSeen = false;
      announce();
    });
    client.on('offline', () => this.log(t('collect.offline')));
    if (shared === undefined) await client.subscribeAsync([T.allStates(), T.allTelemetry(), T.allAcks()], { qos: 1 });
    else {
      // Retained messages never go to a shared subscription, so station state (retained) is read
      // by every collector; writing it twice changes nothing.
      await client.subscribeAsync([T.allCollectorStates(), T.allStates(), T.shared(shared, T.allTelemetry()), T.shared(shared, T.allAcks())], { qos: 1 });
    }
    announce();
    this.log(t('collect.connected', { urls: this.fleet.broker.urls.join(', ') }));
    this.timers.push(setInterval(() => void this.flush(), this.opts.tickMs ?? 200));
    // A fresh timestamp every heartbeat: stations measure their clock against it.
    this.timers.push(setInterval(() => client.connected && announce(), this.heartbeatMs));
    const maintenance = this.opts.maintenanceMs ?? DAY_MS;
    if (maintenance > 0) {
      this.timers.push(setTimeout(() => void this.maintenance(), Math.min(maintenance, 60_000)));
      this.timers.push(setInterval(() => void this.maintenance(), maintenance));
    }
  }

  private log(line: string): void {
    process.stderr.write(`${new Date().toISOString()} ${line}\n`);
  }

  private presence(online: boolean): string {
    const s: CollectorState = { v: PROTOCOL_VERSION, type: 'collector-state', id: this.clientId, online, at: new Date().toISOString(), since: this.since };
    return JSON.stringify(s);
  }

  /** Alone: central/state online. Shared: our presence, and central/state if we lead. */
  private async announce(): Promise<void> {
    const client = this.client;
    if (!client || this.stopped) return;
    const T = this.fleet.topics;
    if (this.opts.shared === undefined) {
      await publishAsync(client, T.centralState(), centralState(true), { qos: 1, retain: true });
      return;
    }
    await publishAsync(client, T.collectorState(this.clientId), this.presence(true), { qos: 1, retain: true });
    this.review();
    if (this.presenceSeen && this.leader()) await this.publishGroupState();
  }

  /** Collectors alive now (ourselves included), by client id. */
  private live(now = Date.now()): string[] {
    const stale = STALE_HEARTBEATS * this.heartbeatMs;
    const ids = [...this.peers].filter(([id, p]) => id !== this.clientId && p.online && now - p.seenAt <= stale).map(([id]) => id);
    return [...ids, this.clientId].sort();
  }

  private leader(): boolean {
    return this.live()[0] === this.clientId;
  }

  private setOf(ids: string[]): string {
    return ids.map((id) => `${id}@${id === this.clientId ? this.since : this.peers.get(id)!.since}`).join(',');
  }

  /**
   * Recompute who is alive; returns true when the set changed (a join, a death, a restart). Each
   * change gets a new random view, never a hash of the set: a member that briefly believed it was
   * alone at start-up (before the others' presence reached it) may have published that set
   * already, and when the others die later the same set must still read as a change to the
   * stations, or they would keep the acks the dead ones took with them.
   */
  private review(): boolean {
    const ids = this.live();
    const set = this.setOf(ids);
    if (set === this.viewSet) return false;
    this.viewSet = set;
    this.view = randomBytes(8).toString('hex');
    this.log(t('collect.collectors', { count: ids.length, ids: ids.join(', ') }));
    return true;
  }

  private async publishGroupState(): Promise<void> {
    const client = this.client;
    if (!client?.connected) return;
    const ids = this.live();
    this.review();
    await publishAsync(client, this.fleet.topics.centralState(), centralState(true, { collectors: ids.length, view: this.view }), { qos: 1, retain: true });
  }

  /** A retained presence is as old as its `at`; a live one is fresh now (the peer's clock may differ from ours). */
  private onPresence(payload: Buffer, retained: boolean): void {
    let json: unknown;
    try {
      json = JSON.parse(payload.toString('utf8'));
    } catch {
      return;
    }
    const r = CollectorState.safeParse(json);
    if (!r.success) return;
    const p = r.data;
    if (p.id === this.clientId) {
      // Another process with our client id would flap with us; the broker disconnects one of us.
      if (p.since !== this.since || this.presenceSeen) return;
      this.presenceSeen = true;
    } else {
      this.peers.set(p.id, { since: p.since, seenAt: retained ? Math.min(Date.parse(p.at), Date.now()) : Date.now(), online: p.online });
    }
    if ((this.review() || p.id === this.clientId) && this.presenceSeen && this.leader()) void this.publishGroupState().catch(() => undefined);
  }

  private onMessage(topic: string, payload: Buffer, retained = false): void {
    const parsed = this.fleet.topics.parse(topic);
    if (parsed?.kind === 'collector-state') {
      this.onPresence(payload, retained);
      return;
    }
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

  /** Write what was received since the last tick in one transaction, then send receipts. */
  async flush(): Promise<void> {
    if (this.flushing || this.pending.length === 0) return;
    this.flushing = true;
    const batch = this.pending.slice(0, MAX_BATCH);
    this.pending = this.pending.slice(batch.length);
    try {
      const writes = await this.db.ingest(batch);
      // Receipts per station store: a station reset (new db id) is numbered separately.
      const seqs = new Map<string, { station: string; db: string; seqs: number[] }>();
      const conflicts: Ack[] = [];
      let k = 0;
      for (const m of batch) {
        if (m.kind !== 'ack') continue;
        const w = writes[k++];
        if (w === 'duplicate') this.stats.duplicates++;
        if (w === 'conflict') conflicts.push(m.value);
        const key = `${m.value.station}|${m.value.db}`;
        let entry = seqs.get(key);
        if (!entry) {
          entry = { station: m.value.station, db: m.value.db, seqs: [] };
          seqs.set(key, entry);
        }
        entry.seqs.push(m.value.seq);
      }
      for (const m of batch) this.stats[m.kind === 'ack' ? 'acks' : m.kind === 'state' ? 'states' : 'telemetry']++;
      this.stats.conflicts += conflicts.length;
      // A conflict is kept (ack_conflicts) and receipted: both versions are stored, nothing is
      // lost, and `loa stations` shows the station's conflict count for someone to look at.
      for (const c of conflicts) this.log(t('collect.conflict', { station: c.station, seq: c.seq, db: c.db }));
      if (this.opts.verbose) this.log(t('collect.batch', { count: batch.length }));
      try {
        this.opts.onCommitted?.(batch);
      } catch (e) {
        this.log(t('collect.listenerFailed', { reason: (e as Error).message }));
      }
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
      // A backlog larger than one transaction: the next part at once, not a tick later.
      if (this.pending.length >= MAX_BATCH && !this.stopped) setImmediate(() => void this.flush());
    }
  }

  /** Daily: clear retained media nothing references, and prune beyond the fleet's retention (one collector of a group: the leader). */
  async maintenance(): Promise<void> {
    const client = this.client;
    if (!client?.connected || this.stopped) return;
    if (this.opts.shared !== undefined && !this.leader()) return;
    try {
      const gc = await mediaGc(this.fleet, this.db, client);
      const pruned = await this.db.prune(Date.now() - this.fleet.retention.days * DAY_MS);
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
    for (const timer of this.timers) clearInterval(timer);
    while (this.flushing) await new Promise((r) => setTimeout(r, 10));
    while (this.pending.length > 0) {
      const before = this.pending.length;
      await this.flush();
      if (this.pending.length >= before) break; // the database refuses: the stations still hold these
    }
    this.stopped = true;
    const client = this.client;
    if (!client) return;
    if (client.connected) {
      const T = this.fleet.topics;
      const goodbye = async () => {
        if (this.opts.shared === undefined) {
          await publishAsync(client, T.centralState(), centralState(false), { qos: 1, retain: true });
          return;
        }
        // The last one out says the collectors are gone; otherwise the leader announces the new view.
        if (this.live().length === 1) await publishAsync(client, T.centralState(), centralState(false), { qos: 1, retain: true });
        await publishAsync(client, T.collectorState(this.clientId), this.presence(false), { qos: 1, retain: true });
      };
      await Promise.race([goodbye().catch(() => undefined), new Promise((r) => setTimeout(r, 2000))]);
      await Promise.race([new Promise<void>((resolve) => client.end(false, {}, () => resolve())), new Promise((r) => setTimeout(r, 2000))]);
    }
    client.end(true);
  }
}

export async function runCollector(fleet: Fleet, opts: CollectorOptions): Promise<number> {
  if (opts.shared !== undefined && opts.clientId === undefined) throw new UsageError(t('collect.sharedNeedsClientId'));
  for (const [option, value] of [
    ['--client-id', opts.clientId],
    ['--shared', opts.shared],
  ] as const)
    if (value !== undefined && !CLIENT_ID_PATTERN.test(value)) throw new UsageError(t('collect.badId', { option, value }));
  // Signals first: a collector still waiting for an unreachable broker or database must stop at once too.
  let stopping: (() => void) | undefined;
  const stopped = new Promise<void>((resolve) => (stopping = resolve));
  process.once('SIGINT', () => stopping!());
  process.once('SIGTERM', () => stopping!());
  const opened = openCentralStore(fleet);
  const db = await Promise.race([opened, stopped.then(() => undefined)]);
  if (!db) {
    void opened.then((d) => d.close()).catch(() => undefined);
    return 0;
  }
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
    await db.close();
    return 1;
  }
  if (first !== 'signal') await stopped;
  await collector.stop();
  await db.close();
  process.stderr.write(t('collect.stopped', { ...collector.stats }) + '\n');
  return 0;
}
