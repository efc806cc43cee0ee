import { randomBytes } from 'node:crypto';
import type { IClientOptions, MqttClient } from 'mqtt';
import { t } from '../io/i18n.js';
import { connectBroker, waitConnected } from '../io/mqtt.js';
import { CliError } from './errors.js';
import type { Fleet } from './fleet.js';
import { centralPassword } from './station-passwords.js';

/** Connect as the central user. One-shot commands use a fresh clean session; the collector a persistent one. */
export async function connectCentral(
  fleet: Fleet,
  opts: {
    clientId?: string;
    clean?: boolean;
    will?: IClientOptions['will'];
    timeoutMs?: number;
    /** Registered before connecting: a persistent session's queued messages arrive right after CONNACK. */
    onMessage?: (topic: string, payload: Buffer) => void;
  } = {},
): Promise<MqttClient> {
  const client = connectBroker({
    urls: fleet.broker.urls,
    clientId: opts.clientId ?? `loa-cli-${randomBytes(4).toString('hex')}`,
    clean: opts.clean ?? true,
    username: fleet.broker.username,
    password: centralPassword(fleet),
    ...(fleet.broker.tls ? { tls: fleet.broker.tls } : {}),
    ...(opts.will ? { will: opts.will } : {}),
    reconnectPeriodMs: 1000,
    connectTimeoutMs: opts.timeoutMs ?? 10_000,
  });
  if (opts.onMessage) client.on('message', opts.onMessage);
  try {
    await waitConnected(client, opts.timeoutMs ?? 10_000);
  } catch (e) {
    client.end(true);
    throw new CliError(t('broker.unreachable', { urls: fleet.broker.urls.join(', '), reason: (e as Error).message }));
  }
  return client;
}

export function endClient(client: MqttClient): Promise<void> {
  return new Promise((resolve) => client.end(false, {}, () => resolve()));
}
