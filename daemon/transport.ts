import type { IPublishPacket, MqttClient } from 'mqtt';
import { type BrokerOptions, connectBroker } from '../io/mqtt.js';
import type { Topics } from '../protocol/index.js';
import { isStoreError } from './store.js';

/**
 * The station's side of MQTT as the rest of the daemon sees it: the ack publisher and the media
 * fetcher use only this, so unit tests run them against an in-memory double.
 */
export interface MessageTransport {
  readonly connected: boolean;
  /** Returns false (and sends nothing) when not connected. `done` is called on PUBACK. */
  publish(topic: string, payload: string | Buffer, opts: { qos: 0 | 1; retain?: boolean }, done?: (err?: Error) => void): boolean;
  /** A subscription kept across reconnects. */
  subscribe(topic: string): void;
  unsubscribe(topic: string, done?: () => void): void;
}

/** What the station's MQTT connection hands on. */
export interface TransportHandlers {
  /**
   * A command or schedule. Must persist synchronously: the PUBACK goes out only after it
   * returns. If it throws a store failure, no PUBACK is sent and the broker keeps the message.
   */
  inbound(topic: string, payload: Buffer): void;
  media(sha256: string, payload: Buffer): void;
  receipt(payload: Buffer): void;
  /** A draft's prefetch hint: at most fetches a clip (never stored, acked or aired). */
  prefetch(payload: Buffer): void;
  /** `live`: a fresh heartbeat (not the retained copy delivered on subscribe). */
  centralState(payload: Buffer, live: boolean): void;
  /** A (re)connection: `epoch` numbers it. */
  connected(epoch: number): void;
  /** A store failure refused a PUBACK; the owner starts recovering the store. */
  storeRefused(err: Error): void;
}

export interface TransportOptions {
  broker: Omit<BrokerOptions, 'clientId' | 'clean' | 'will'>;
  station: string;
  groups: string[];
  topics: Topics;
  nextEpoch(): number;
  /** The epoch the will message announces (the next connection's). */
  willEpoch(): number;
  handlers: TransportHandlers;
  log: (level: 'info' | 'warn' | 'error', msg: string, extra?: object) => void;
}

/**
 * The station's one MQTT connection: client id = station id, a persistent session (QoS 1
 * messages wait at the broker while the box is away), a retained birth and a will that says
 * offline, and the rule that a command is PUBACKed only after it was stored.
 */
export class StationTransport implements MessageTransport {
  private client: MqttClient | undefined;
  private epoch = 0;
  private stopped = false;
  private extraSubs = new Set<string>();
  connectedAt: number | undefined;

  constructor(private readonly o: TransportOptions) {}

  get connected(): boolean {
    return this.client?.connected ?? false;
  }

  get currentEpoch(): number {
    return this.epoch;
  }

  get url(): string | undefined {
    const c = this.client;
    if (!c?.connected) return undefined;
    const opts = c.options;
    return `${opts.protocol ?? 'mqtt'}://${opts.hostname ?? opts.host}:${opts.port}`;
  }

  start(): void {
    const { o } = this;
    const will = () => ({
      topic: o.topics.state(o.station),
      payload: Buffer.from(JSON.stringify({ v: 1, type: 'state', station: o.station, online: false, epoch: o.willEpoch() })),
      qos: 1 as const,
      retain: true,
    });
    const client = connectBroker({ ...o.broker, clientId: o.station, clean: false, will: will() });
    this.client = client;
    // The will names the epoch this connection will get; refresh it before every reconnect.
    client.on('reconnect', () => {
      client.options.will = will();
    });
    client.handleMessage = (packet: IPublishPacket, callback: (err?: Error) => void) => {
      try {
        this.route(packet);
      } catch (e) {
        if (isStoreError(e)) {
          // No PUBACK: the broker keeps the message and sends it again when we reconnect.
          o.log('error', 'command not stored: PUBACK withheld', { topic: packet.topic, err: (e as Error).message });
          o.handlers.storeRefused(e as Error);
          callback(e as Error);
          return;
        }
        o.log('error', 'inbound handler failed', { topic: packet.topic, err: (e as Error).message });
      }
      callback();
    };
    client.on('connect', () => {
      this.epoch = o.nextEpoch();
      this.connectedAt = Date.now();
      o.log('info', 'connected to broker', { epoch: this.epoch });
      const subs = [...o.topics.stationSubscriptions(o.station, o.groups), ...this.extraSubs];
      client.subscribe(subs, { qos: 1 }, (err, granted) => {
        if (err) return o.log('error', 'subscribe failed', { err: err.message });
        const refused = (granted ?? []).filter((g) => g.qos === 128).map((g) => g.topic);
        if (refused.length) o.log('error', 'broker refused subscriptions (ACL?)', { refused });
        o.log('info', 'subscribed', { epoch: this.epoch, topics: subs.length });
      });
      o.handlers.connected(this.epoch);
    });
    client.on('error', (e) => o.log('warn', 'broker error', { err: e.message }));
    client.on('offline', () => o.log('warn', 'broker offline'));
  }

  private route(packet: IPublishPacket): void {
    const topic = packet.topic;
    const payload = packet.payload as Buffer;
    const parsed = this.o.topics.parse(topic);
    if (!parsed) return;
    switch (parsed.kind) {
      case 'media':
        this.o.handlers.media(parsed.sha256, payload);
        return;
      case 'receipt':
        if (parsed.station === this.o.station) this.o.handlers.receipt(payload);
        return;
      case 'central-state':
        this.o.handlers.centralState(payload, packet.retain !== true);
        return;
      case 'prefetch':
        this.o.handlers.prefetch(payload);
        return;
      case 'cmd':
      case 'schedule':
      case 'group-cmd':
      case 'all-cmd':
        this.o.handlers.inbound(topic, payload);
        return;
      default:
        return;
    }
  }

  publish(topic: string, payload: string | Buffer, opts: { qos: 0 | 1; retain?: boolean }, done?: (err?: Error) => void): boolean {
    const c = this.client;
    if (!c?.connected || this.stopped) return false;
    c.publish(topic, payload, { qos: opts.qos, retain: opts.retain ?? false }, (err) => done?.(err ?? undefined));
    return true;
  }

  /** An extra subscription kept across reconnects (media clips being fetched). */
  subscribe(topic: string): void {
    this.extraSubs.add(topic);
    if (this.client?.connected) this.client.subscribe(topic, { qos: 1 });
  }

  unsubscribe(topic: string, done?: () => void): void {
    this.extraSubs.delete(topic);
    if (this.client?.connected) this.client.unsubscribe(topic, () => done?.());
    else done?.();
  }

  /** Re-deliver the retained schedule (resync): unsubscribe and subscribe again. */
  resubscribe(topic: string): void {
    const c = this.client;
    if (!c?.connected) return;
    c.unsubscribe(topic, () => c.subscribe(topic, { qos: 1 }));
  }

  /**
   * Reconnect so the broker sends again every message we withheld a PUBACK for: MQTT 3.1.1
   * redelivers unacknowledged QoS 1 messages of a persistent session only on a new connection.
   */
  reconnect(): void {
    const c = this.client;
    if (!c || this.stopped) return;
    this.o.log('info', 'reconnecting so the broker re-delivers unacknowledged commands');
    c.end(false, {}, () => {
      if (!this.stopped) c.reconnect();
    });
  }

  async stop(offlinePayload: string): Promise<void> {
    this.stopped = true;
    const c = this.client;
    if (!c) return;
    if (c.connected) {
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, 2000);
        c.publish(this.o.topics.state(this.o.station), offlinePayload, { qos: 1, retain: true }, () => {
          clearTimeout(t);
          resolve();
        });
      });
    }
    await new Promise<void>((resolve) => {
      const t = setTimeout(() => {
        c.end(true);
        resolve();
      }, 3000);
      c.end(false, {}, () => {
        clearTimeout(t);
        resolve();
      });
    });
  }
}
