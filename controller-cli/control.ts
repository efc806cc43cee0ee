import { t } from '../io/i18n.js';
import { ControlBody } from '../protocol/index.js';
import { connectCentral, endClient } from './central-connection.js';
import { openCentralStore } from './central-store.js';
import { issueCommand, sendCommand } from './command-issue.js';
import { UsageError } from './errors.js';
import type { Fleet } from './fleet.js';
import { intOption } from './options.js';
import { printJson } from './output.js';
import { planTopics, resolveTargets } from './targets.js';

/** `loa control volume|stop|rebirth|resync --to TARGETS`: operational commands to stations. */
export async function control(fleet: Fleet, action: string, o: { to: string; zone?: string; volume?: string; key?: string; json?: boolean }): Promise<number> {
  const volume = intOption(o.volume, '--volume', 0, 100);
  if (action === 'volume' && volume === undefined) throw new UsageError(t('control.needVolume'));
  const parsed = ControlBody.safeParse(action === 'volume' ? { action, volume, ...(o.zone ? { zone: o.zone } : {}) } : { action });
  if (!parsed.success) throw new UsageError(t('control.action', { value: action }));
  const resolved = resolveTargets(fleet, o.to);
  const db = await openCentralStore(fleet);
  try {
    const envelope = await issueCommand(fleet, db, { type: 'control', key: o.key, target: resolved.target, body: parsed.data });
    const { stations, topics } = planTopics(fleet, envelope.target);
    const client = await connectCentral(fleet);
    try {
      await sendCommand(client, topics, envelope);
    } finally {
      await endClient(client);
    }
    if (o.json) printJson({ id: envelope.id, type: 'control', action, stations, topics });
    else process.stdout.write(t('send.sent', { type: `control ${action}`, id: envelope.id, count: stations.length, topics: topics.join(' ') }) + '\n');
    return 0;
  } finally {
    await db.close();
  }
}
