import type { MqttClient } from 'mqtt';
import { publishAsync } from '../io/mqtt.js';
import { type AudioRef, EnvelopeShape, ScheduleBody } from '../protocol/index.js';
import type { CentralStore } from './central-store.js';
import type { Fleet } from './fleet.js';

export interface MediaGcResult {
  kept: number;
  cleared: string[];
}

/** Clips of broadcasts newer than this stay retained (stations offline for days still need them). */
export const MEDIA_KEEP_DAYS = 14;

function audioSha(audio: AudioRef | undefined): string | undefined {
  return audio?.kind === 'media' ? audio.sha256 : undefined;
}

/**
 * What stations may still fetch: every clip of the newest schedule pushed to each station, of
 * every draft, and of every broadcast planned or sent in the last `keepDays`.
 */
export async function referencedMedia(db: CentralStore, now: number, keepDays = MEDIA_KEEP_DAYS): Promise<Set<string>> {
  const keep = new Set<string>();
  const latest = new Map<string, string>();
  for (const p of await db.allPushed()) latest.set(p.station, p.envelope); // ordered by version
  for (const envelope of latest.values()) {
    const body = ScheduleBody.safeParse(EnvelopeShape.parse(JSON.parse(envelope)).body);
    if (body.success)
      for (const item of body.data.items) {
        const sha = audioSha(item.audio);
        if (sha) keep.add(sha);
      }
  }
  for (const b of await db.broadcasts(now - keepDays * 86_400_000)) addBroadcast(keep, b.envelope);
  for (const b of await db.drafts()) addBroadcast(keep, b.envelope);
  return keep;
}

function addBroadcast(keep: Set<string>, envelope: string): void {
  try {
    const body = (JSON.parse(envelope) as { body?: { audio?: AudioRef } }).body;
    const sha = audioSha(body?.audio);
    if (sha) keep.add(sha);
  } catch {
    /* a malformed row references nothing */
  }
}

/**
 * Clear retained `media/<sha256>` messages nothing references any more (an empty retained
 * publish removes them from the broker), so the broker's retained store does not grow with
 * every announcement ever made. The central copy stays, so the clip can be published again.
 */
export async function mediaGc(fleet: Fleet, db: CentralStore, client: MqttClient, opts: { now?: number; keepDays?: number; dryRun?: boolean } = {}): Promise<MediaGcResult> {
  const now = opts.now ?? Date.now();
  const keep = await referencedMedia(db, now, opts.keepDays);
  const cleared: string[] = [];
  let kept = 0;
  for (const m of await db.publishedMedia()) {
    if (keep.has(m.sha256) || m.published_at > now - (opts.keepDays ?? MEDIA_KEEP_DAYS) * 86_400_000) {
      kept++;
      continue;
    }
    if (!opts.dryRun) {
      await publishAsync(client, fleet.topics.media(m.sha256), Buffer.alloc(0), { qos: 1, retain: true });
      await db.markMediaCleared(m.sha256, now);
    }
    cleared.push(m.sha256);
  }
  return { kept, cleared };
}
