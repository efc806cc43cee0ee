import type { MqttClient } from 'mqtt';
import { t } from '../io/i18n.js';
import { publishAsync } from '../io/mqtt.js';
import { BODY_SCHEMAS, DEFAULT_TTL_MS, makeEnvelope, newCommandId, type SignedEnvelope, type SignedType, signEnvelope, type Target } from '../protocol/index.js';
import type { CentralStore } from './central-store.js';
import { CliError } from './errors.js';
import type { Fleet } from './fleet.js';
import { type SigningKey, signingKey } from './keys.js';

export interface IssueInput {
  type: SignedType;
  key?: string;
  /** A key already in hand (the console's logged-in user), instead of one read from this account's key directory. */
  signer?: SigningKey;
  target: Target;
  body: unknown;
  now?: number;
  ttlMs?: number;
  id?: string;
}

/**
 * Build, check and sign a command as `key`. The body is parsed with the protocol schema first,
 * so a mistake is reported here rather than as a rejection from thirteen stations.
 */
export async function issueCommand(fleet: Fleet, db: CentralStore, input: IssueInput): Promise<SignedEnvelope> {
  const key = input.signer ?? signingKey(fleet, input.key, input.type);
  if (input.signer && !fleet.signers.some((s) => s.key === key.id && s.allow.includes(input.type))) throw new CliError(t('keys.notAllowed', { id: key.id, type: input.type }));
  const now = input.now ?? Date.now();
  const body = BODY_SCHEMAS[input.type].parse(input.body);
  const envelope = makeEnvelope({
    id: input.id ?? newCommandId(input.type, now),
    type: input.type,
    issuer: key.id,
    seq: await db.nextSeq(key.id, now),
    now,
    ttlMs: input.ttlMs ?? DEFAULT_TTL_MS[input.type],
    target: input.target,
    body,
  });
  return signEnvelope(envelope, key.pem);
}

/** Live commands are not retained: an offline station's persistent session queues them at the broker. */
export async function sendCommand(client: MqttClient, topics: string[], envelope: SignedEnvelope): Promise<void> {
  const payload = JSON.stringify(envelope);
  for (const topic of topics) await publishAsync(client, topic, payload, { qos: 1 });
}
