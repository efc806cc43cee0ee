import { t } from '../io/i18n.js';
import { AnnounceBody, DEFAULT_TTL_MS, MAX_LIFETIME_MS } from '../protocol/index.js';
import { audioFromArgs } from './audio-source.js';
import { sendBroadcast } from './broadcast-send.js';
import { openCentralStore } from './central-store.js';
import { issueCommand } from './command-issue.js';
import { UsageError } from './errors.js';
import type { Fleet } from './fleet.js';
import { intOption, zonesOption } from './options.js';
import { resolveTargets } from './targets.js';
import { parseWhen } from './time.js';

export interface AnnounceOptions {
  text?: string;
  to: string;
  at?: string;
  priority?: string;
  zones?: string;
  repeat?: string;
  chime?: boolean;
  title?: string;
  interrupt?: boolean;
  volume?: string;
  wait?: string;
  key?: string;
  json?: boolean;
}

export async function announce(fleet: Fleet, audio: string | undefined, o: AnnounceOptions): Promise<number> {
  const priority = o.priority ?? 'normal';
  if (priority !== 'normal' && priority !== 'priority') throw new UsageError(t('announce.priority', { value: priority }));
  const resolved = resolveTargets(fleet, o.to);
  const now = Date.now();
  const at = o.at !== undefined ? parseWhen(o.at, fleet.timezone, now, '--at') : undefined;
  // A command is valid for at most 7 days (protocol/envelope.ts); it must outlive its air time by a day.
  if (at !== undefined && at - now > MAX_LIFETIME_MS.announce - 86_400_000) throw new UsageError(t('announce.tooFar', { days: MAX_LIFETIME_MS.announce / 86_400_000 - 1 }));
  const repeat = intOption(o.repeat, '--repeat', 1, 20);
  const volume = intOption(o.volume, '--volume', 0, 100);
  const waitSec = intOption(o.wait, '--wait', 0, 86_400);
  const zones = zonesOption(o.zones);
  const media = await audioFromArgs(fleet, audio, o.text);
  const body: AnnounceBody = AnnounceBody.parse({
    ...(at !== undefined ? { at: new Date(at).toISOString() } : {}),
    priority,
    title: o.title ?? (o.text ? o.text.slice(0, 200) : ''),
    ...(zones ? { zones } : {}),
    ...(volume !== undefined ? { volume } : {}),
    chime: o.chime === true,
    repeat: repeat ?? 1,
    policy: o.interrupt ? 'interrupt' : 'wait',
    audio: media.ref,
  });
  const db = await openCentralStore(fleet);
  try {
    // A far-future announcement must not expire before it airs.
    const ttlMs = Math.max(DEFAULT_TTL_MS.announce, (at ?? now) - now + 86_400_000);
    const envelope = await issueCommand(fleet, db, { type: 'announce', key: o.key, target: resolved.target, body, now, ttlMs });
    return await sendBroadcast(fleet, db, envelope, {
      media: [media.ref.sha256],
      ...(waitSec !== undefined ? { waitSec } : {}),
      json: o.json === true,
      plannedAt: at ?? now,
      title: body.title,
      priority,
    });
  } finally {
    await db.close();
  }
}
