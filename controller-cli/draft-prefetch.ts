// A live alert's draft, once it carries a signature, goes out as a prefetch hint: its clip is
// published (retained, as at send) and the partly signed envelope on `central/prefetch`, so
// every targeted station has the clip prepared before the second official approves. Stations
// only fetch on a hint (protocol/prefetch.ts); an unapproved draft never airs. A hint that
// cannot be sent (broker down) costs speed, not the alert: it is reported, never fatal.
import type { MqttClient } from 'mqtt';
import { t } from '../io/i18n.js';
import { publishAsync } from '../io/mqtt.js';
import { AlertBody } from '../protocol/index.js';
import { mediaStoreDir } from './audio-source.js';
import { connectCentral, endClient } from './central-connection.js';
import type { CentralStore } from './central-store.js';
import type { Draft } from './drafts.js';
import type { Fleet } from './fleet.js';
import { publishMedia } from './media.js';

/** The envelopes of a draft worth a hint: live alerts with a media clip and at least one signature. */
export function prefetchable(draft: Draft): Draft['envelopes'] {
  return draft.envelopes.filter((e) => {
    if (e.type !== 'alert' || e.sigs.length === 0) return false;
    const body = AlertBody.safeParse(e.body);
    return body.success && !body.data.test && body.data.audio.kind === 'media';
  });
}

/** Publish the draft's clips and hints. Returns how many hints went out (0 when none applied or the broker could not be reached). */
export async function prefetchDraft(fleet: Fleet, db: CentralStore, draft: Draft, client?: MqttClient): Promise<number> {
  const hints = prefetchable(draft);
  if (hints.length === 0) return 0;
  let c: MqttClient | undefined = client;
  try {
    c ??= await connectCentral(fleet);
    for (const sha of new Set(draft.media)) await publishMedia(c, fleet.topics, mediaStoreDir(fleet), sha, db);
    for (const e of hints) await publishAsync(c, fleet.topics.prefetch(), JSON.stringify(e), { qos: 1 });
    return hints.length;
  } catch (e) {
    process.stderr.write(`${t('alert.prefetchFailed', { reason: (e as Error).message })}\n`);
    return 0;
  } finally {
    if (c && !client) await endClient(c);
  }
}
