import { createHash } from 'node:crypto';
import type { MqttClient, IPublishPacket } from 'mqtt';
import { connectBroker, type BrokerOptions } from '../io/mqtt.js';
import { CentralState, Receipt, type StationState, type Telemetry, type Topics, MAX_MEDIA_BYTES } from '../protocol/index.js';
import type { StationStore } from './store.js';

export interface SessionHandlers {
  /**
   * Called for every command/schedule publish. Must persist synchronously: the PUBACK goes out
   * only after it returns, so the broker keeps redelivering anything we did not store.
   */
  onInbound(topic: string, payload: Buffer): void;
  onReceipt(seqs: number[]): void;
  onCentralState(online: boolean): void;
  onConnect(epoch: number): void;
  birth(epoch: number): Omit<StationState, 'v' | 'type' | 'station' | 'online' | 'epoch'>;
}

export interface SessionOptions {
  broker: Omit<BrokerOptions, 'clientId' | 'clean' | 'will'>;
  station: string;
  groups: string[];
  topics: Topics;
  store: StationStore;
  /** Without a central collector, acks leave the outbox on PUBACK instead of on a receipt. */
  collector: boolean;
  handlers: SessionHandlers;
  log: (level: 'info' | 'warn' | 'error', msg: string, extra?: object) => void;
}

/** The station's one MQTT session: persistent, QoS 1, birth + will, and the ack outbox pump. */
export class StationSession {
  private client: MqttClient | undefined;
  private epoch = 0;
  private replayUpTo = 0;
  private inFlight = new Set<number>();
  private mediaWaiters = new Map<string, { resolve: (b: Buffer) => void; reject: (e: Error) => void }[]>();
  private flushScheduled = false;
  /** PUBACKed seqs, written in one transaction per tick instead of one fsync each. */
  private acked: number[] = [];
  private stopped = false;
  connectedAt: number | undefined;

  constructor(private readonly opts: SessionOptions) {}

  get connected(): boolean {
    return this.client?.connected ?? false;
  }

  get currentEpoch(): number {
    return this.epoch;
  }

  start(): void {
    const { opts } = this;
    const will = () => ({
      topic: opts.topics.state(opts.station),
      payload: Buffer.from(JSON.stringify({ v: 1, type: 'state', station: opts.station, online: false, epoch: opts.store.currentEpoch() + 1 })),
      qos: 1 as const,
      retain: true,
    });
    const client = connectBroker({ ...opts.broker, clientId: opts.station, clean: false, will: will() });
    this.client = client;
    // The will names the epoch this connection will get; refresh it before every reconnect.
    client.on('reconnect', () => {
      client.options.will = will();
    });
    client.handleMessage = (packet: IPublishPacket, callback: (err?: Error) => void) => {
      try {
        this.route(packet.topic, packet.payload as Buffer);
      } catch (e) {
        opts.log('error', 'inbound handler failed', { topic: packet.topic, err: (e as Error).message });
      }
      callback();
    };
    client.on('connect', () => {
      this.epoch = opts.store.nextEpoch();
      this.connectedAt = Date.now();
      // Everything already in the outbox when we (re)connect is a replay: mark it historical.
      this.replayUpTo = Number(opts.store.getMeta('ack_seq') ?? '0');
      this.inFlight.clear();
      opts.log('info', 'connected to broker', { epoch: this.epoch });
      const subs = opts.topics.stationSubscriptions(opts.station, opts.groups);
      client.subscribe(subs, { qos: 1 }, (err, granted) => {
        if (err) return opts.log('error', 'subscribe failed', { err: err.message });
        const refused = (granted ?? []).filter((g) => g.qos === 128).map((g) => g.topic);
        if (refused.length) opts.log('error', 'broker refused subscriptions (ACL?)', { refused });
        opts.log('info', 'subscribed', { epoch: this.epoch, topics: subs.length });
      });
      for (const sha of this.mediaWaiters.keys()) client.subscribe(opts.topics.media(sha), { qos: 1 });
      this.publishBirth();
      opts.handlers.onConnect(this.epoch);
      this.flush();
    });
    client.on('error', (e) => opts.log('warn', 'broker error', { err: e.message }));
    client.on('offline', () => opts.log('warn', 'broker offline'));
  }

  private route(topic: string, payload: Buffer): void {
    const parsed = this.opts.topics.parse(topic);
    if (!parsed) return;
    switch (parsed.kind) {
      case 'media':
        this.deliverMedia(parsed.sha256, payload);
        return;
      case 'receipt': {
        if (parsed.station !== this.opts.station) return;
        const r = safeJson(payload);
        const receipt = Receipt.safeParse(r);
        if (!receipt.success || receipt.data.station !== this.opts.station) {
          this.opts.log('warn', 'ignored malformed receipt');
          return;
        }
        this.opts.handlers.onReceipt(receipt.data.seqs);
        return;
      }
      case 'central-state': {
        const c = CentralState.safeParse(safeJson(payload));
        if (c.success) this.opts.handlers.onCentralState(c.data.online);
        return;
      }
      case 'cmd':
      case 'schedule':
      case 'group-cmd':
      case 'all-cmd':
        this.opts.handlers.onInbound(topic, payload);
        return;
      default:
        return;
    }
  }

  publishBirth(): void {
    if (!this.client?.connected) return;
    const state: StationState = {
      v: 1,
      type: 'state',
      station: this.opts.station,
      online: true,
      epoch: this.epoch,
      ...this.opts.handlers.birth(this.epoch),
    };
    this.client.publish(this.opts.topics.state(this.opts.station), JSON.stringify(state), { qos: 1, retain: true });
  }

  publishTelemetry(t: Telemetry): void {
    if (!this.client?.connected) return;
    this.client.publish(this.opts.topics.telemetry(this.opts.station), JSON.stringify(t), { qos: 0 });
  }

  /** Publish every outbox row not already in flight on this connection. */
  flush(): void {
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    setImmediate(() => {
      this.flushScheduled = false;
      this.flushNow();
    });
  }

  /** Forget what is in flight so the next flush re-sends every unreceipted ack. */
  resendAll(): void {
    this.inFlight.clear();
    this.flush();
  }

  private flushNow(): void {
    const client = this.client;
    if (!client?.connected || this.stopped) return;
    const { store, topics, station, collector } = this.opts;
    for (const row of store.outbox()) {
      if (this.inFlight.has(row.seq)) continue;
      this.inFlight.add(row.seq);
      const historical = row.seq <= this.replayUpTo;
      client.publish(topics.ack(station), JSON.stringify({ ...row.ack, historical }), { qos: 1 }, (err) => {
        if (err) {
          this.inFlight.delete(row.seq);
          return;
        }
        this.acked.push(row.seq);
        if (this.acked.length === 1) setImmediate(() => this.recordAcked());
      });
    }
  }

  private recordAcked(): void {
    const seqs = this.acked;
    this.acked = [];
    const { store, collector } = this.opts;
    if (!store.db.open || seqs.length === 0) return;
    if (collector) store.markSent(seqs);
    else store.dropOutbox(seqs);
  }

  /** Fetch a retained clip from media/<sha256>, verified. */
  fetchMedia(sha256: string, timeoutMs: number): Promise<Buffer> {
    return new Promise((resolve, reject) => {
      const list = this.mediaWaiters.get(sha256) ?? [];
      const timer = setTimeout(() => {
        this.removeWaiter(sha256, entry);
        reject(new Error(`media ${sha256.slice(0, 12)} did not arrive within ${timeoutMs} ms`));
      }, timeoutMs);
      const entry = {
        resolve: (b: Buffer) => { clearTimeout(timer); resolve(b); },
        reject: (e: Error) => { clearTimeout(timer); reject(e); },
      };
      list.push(entry);
      const first = !this.mediaWaiters.has(sha256);
      this.mediaWaiters.set(sha256, list);
      if (first && this.client?.connected) this.client.subscribe(this.opts.topics.media(sha256), { qos: 1 });
    });
  }

  private removeWaiter(sha256: string, entry: unknown): void {
    const list = (this.mediaWaiters.get(sha256) ?? []).filter((e) => e !== entry);
    if (list.length === 0) {
      this.mediaWaiters.delete(sha256);
      this.client?.unsubscribe(this.opts.topics.media(sha256));
    } else this.mediaWaiters.set(sha256, list);
  }

  private deliverMedia(sha256: string, payload: Buffer): void {
    const list = this.mediaWaiters.get(sha256);
    if (!list) return;
    if (payload.length === 0 || payload.length > MAX_MEDIA_BYTES) return; // an empty retained message clears; ignore
    const actual = createHash('sha256').update(payload).digest('hex');
    if (actual !== sha256) {
      this.opts.log('warn', 'media bytes do not match their sha256; ignored', { sha256, actual });
      return;
    }
    this.mediaWaiters.delete(sha256);
    this.client?.unsubscribe(this.opts.topics.media(sha256));
    for (const w of list) w.resolve(payload);
  }

  /** Re-deliver the retained schedule (resync): unsubscribe and subscribe again. */
  resubscribeSchedule(): void {
    const c = this.client;
    if (!c?.connected) return;
    const t = this.opts.topics.schedule(this.opts.station);
    c.unsubscribe(t, () => c.subscribe(t, { qos: 1 }));
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.recordAcked();
    const c = this.client;
    if (!c) return;
    for (const [, list] of this.mediaWaiters) for (const w of list) w.reject(new Error('station stopping'));
    this.mediaWaiters.clear();
    if (c.connected) {
      const offline = { v: 1, type: 'state', station: this.opts.station, online: false, epoch: this.epoch, at: new Date().toISOString() };
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, 2000);
        c.publish(this.opts.topics.state(this.opts.station), JSON.stringify(offline), { qos: 1, retain: true }, () => {
          clearTimeout(t);
          resolve();
        });
      });
    }
    await new Promise<void>((resolve) => c.end(false, {}, () => resolve()));
  }
}

function safeJson(b: Buffer): unknown {
  try {
    return JSON.parse(b.toString('utf8'));
  } catch {
    return undefined;
  }
}
