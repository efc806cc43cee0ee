import type { MqttClient } from 'mqtt';
import { publishAsync } from '../io/mqtt.js';
import { BODY_SCHEMAS, DEFAULT_TTL_MS, makeEnvelope, newCommandId, type SignedEnvelope, type SignedType, signEnvelope, type Target } from '../protocol/index.js';
import type { CentralDb } from './central-db.js';
import type { Fleet } from './fleet.js';
import { signingKey } from './keys.js';

export interface IssueInput {
  type: SignedType;
  key?: string;
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
export function issueCommand(fleet: Fleet, db: CentralDb, input: IssueInput): SignedEnvelope {
  const key = signingKey(fleet, input.key, input.type);
  const now = input.now ?? Date.now();
  const body = BODY_SCHEMAS[input.type].parse(input.body);
  const envelope = makeEnvelope({
    id: input.id ?? newCommandId(input.type, now),
    type: input.type,
    issuer: key.id,
    seq: db.nextSeq(key.id, now),
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
