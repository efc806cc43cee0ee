import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { IClientOptions, MqttClient } from 'mqtt';

// mqtt is CommonJS: loaded with require, so Node does not analyse its source for named exports
// (memory a long-running station would keep).
const mqtt = createRequire(import.meta.url)('mqtt') as typeof import('mqtt');

export interface BrokerOptions {
  /** Tried in order; mqtt.js rotates through them on reconnect. mqtt://, mqtts://, tcp://, ssl:// */
  urls: string[];
  clientId: string;
  /** false = persistent session: the broker queues QoS 1 messages while we are away. */
  clean: boolean;
  username?: string;
  password?: string;
  tls?: { ca?: string; cert?: string; key?: string };
  will?: IClientOptions['will'];
  keepaliveSec?: number;
  reconnectPeriodMs?: number;
  connectTimeoutMs?: number;
}

type ServerEntry = NonNullable<IClientOptions['servers']>[number];

export function parseBrokerUrl(url: string): ServerEntry {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new Error(`invalid broker URL ${JSON.stringify(url)}: expected mqtt://host:port or mqtts://host:port`);
  }
  const protocol = u.protocol.replace(/:$/, '');
  if (!['mqtt', 'mqtts', 'tcp', 'ssl'].includes(protocol)) {
    throw new Error(`invalid broker URL ${JSON.stringify(url)}: protocol must be mqtt, mqtts, tcp or ssl`);
  }
  const tls = protocol === 'mqtts' || protocol === 'ssl';
  return { host: u.hostname, port: u.port ? Number(u.port) : tls ? 8883 : 1883, protocol: protocol as ServerEntry['protocol'] };
}

export function brokerClientOptions(opts: BrokerOptions): IClientOptions {
  if (opts.urls.length === 0) throw new Error('no broker URL configured');
  const servers = opts.urls.map(parseBrokerUrl);
  const first = servers[0]!;
  const options: IClientOptions = {
    host: first.host,
    port: first.port,
    protocol: first.protocol as IClientOptions['protocol'],
    servers,
    clientId: opts.clientId,
    clean: opts.clean,
    protocolVersion: 4,
    keepalive: opts.keepaliveSec ?? 30,
    reconnectPeriod: opts.reconnectPeriodMs ?? 2000,
    connectTimeout: opts.connectTimeoutMs ?? 10_000,
    // A refused CONNACK (bad password) must not hot-loop; mqtt.js still retries every period.
    reconnectOnConnackError: true,
    resubscribe: true,
    // mqtt-packet's write cache pre-allocates 65,536 Buffers (~6 MiB of heap); a ward box
    // publishes a few messages a minute and needs none of it.
    writeCache: false,
  };
  if (opts.username !== undefined) options.username = opts.username;
  if (opts.password !== undefined) options.password = opts.password;
  if (opts.will) options.will = opts.will;
  if (opts.tls) {
    if (opts.tls.ca) options.ca = readFileSync(opts.tls.ca);
    if (opts.tls.cert) options.cert = readFileSync(opts.tls.cert);
    if (opts.tls.key) options.key = readFileSync(opts.tls.key);
    options.rejectUnauthorized = true;
  }
  return options;
}

export function connectBroker(opts: BrokerOptions): MqttClient {
  return mqtt.connect(brokerClientOptions(opts));
}

/** Resolve when connected, reject with the broker's reason after timeoutMs. */
export function waitConnected(client: MqttClient, timeoutMs = 10_000): Promise<void> {
  if (client.connected) return Promise.resolve();
  return new Promise((resolve, reject) => {
    let lastError: Error | undefined;
    const onError = (e: Error) => {
      lastError = e;
    };
    const timer = setTimeout(() => {
      cleanup();
      reject(new Error(`could not connect to the broker within ${timeoutMs} ms${lastError ? `: ${lastError.message}` : ''}`));
    }, timeoutMs);
    const onConnect = () => {
      cleanup();
      resolve();
    };
    const cleanup = () => {
      clearTimeout(timer);
      client.off('connect', onConnect);
      client.off('error', onError);
    };
    client.on('connect', onConnect);
    client.on('error', onError);
  });
}

export function publishAsync(client: MqttClient, topic: string, payload: string | Buffer, opts: { qos: 0 | 1; retain?: boolean }): Promise<void> {
  return new Promise((resolve, reject) => {
    client.publish(topic, payload, { qos: opts.qos, retain: opts.retain ?? false }, (err) => (err ? reject(err) : resolve()));
  });
}
