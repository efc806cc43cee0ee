import type { MqttClient } from 'mqtt';
import { t } from '../io/i18n.js';
import type { SignedEnvelope } from '../protocol/index.js';
import { mediaStoreDir } from './audio-source.js';
import { connectCentral, endClient } from './central-connection.js';
import type { CentralStore } from './central-store.js';
import { sendCommand } from './command-issue.js';
import { DeliveryWatch, followDelivery } from './delivery-watch.js';
import type { Fleet } from './fleet.js';
import { publishMedia } from './media.js';
import { printJson } from './output.js';
import { planTopics } from './targets.js';

export interface SendOptions {
  waitSec?: number;
  json?: boolean;
  /** sha256 of clips to publish (retained) before the command, so stations can fetch them at once. */
  media: string[];
  plannedAt?: number;
  title?: string;
  priority: string;
  test?: boolean;
  /** Print nothing (one of several sends whose JSON result is printed by the last). */
  quiet?: boolean;
}

/**
 * Publish media, then the command on the minimal topic set, record it, and optionally wait for
 * acks. Returns the exit code (3 = some stations did not confirm).
 */
export async function sendBroadcast(fleet: Fleet, db: CentralStore, envelope: SignedEnvelope, opts: SendOptions, existing?: MqttClient): Promise<number> {
  const { stations, topics } = planTopics(fleet, envelope.target);
  const client = existing ?? (await connectCentral(fleet));
  try {
    for (const sha of new Set(opts.media)) await publishMedia(client, fleet.topics, mediaStoreDir(fleet), sha, db);
    let watch: DeliveryWatch | undefined;
    if (opts.waitSec !== undefined && opts.waitSec > 0) {
      watch = new DeliveryWatch(client, fleet.topics, envelope.id, stations);
      await watch.start();
    }
    await sendCommand(client, topics, envelope);
    const now = Date.now();
    await db.saveBroadcast({
      id: envelope.id,
      type: envelope.type,
      status: 'sent',
      created_at: now,
      sent_at: now,
      planned_at: opts.plannedAt ?? now,
      title: opts.title ?? null,
      priority: opts.priority,
      test: opts.test ? 1 : 0,
      stations: JSON.stringify(stations),
      envelope: JSON.stringify(envelope),
    });
    // One JSON shape with or without --wait: `delivery` is null when nothing was waited for.
    const summary = { id: envelope.id, type: envelope.type, stations, topics, signatures: envelope.sigs.map((s) => s.key) };
    if (!opts.json && !opts.quiet) process.stdout.write(t('send.sent', { type: envelope.type, id: envelope.id, count: stations.length, topics: topics.join(' ') }) + '\n');
    if (!watch) {
      if (opts.json && !opts.quiet) printJson({ ...summary, delivery: null });
      return 0;
    }
    const { code, result } = await followDelivery(watch, opts.waitSec!, opts.json === true);
    if (opts.json) printJson({ ...summary, delivery: result });
    return code;
  } finally {
    if (!existing) await endClient(client);
  }
}
