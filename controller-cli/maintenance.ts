import { t } from '../io/i18n.js';
import { connectCentral, endClient } from './central-connection.js';
import { openCentralStore } from './central-store.js';
import { UsageError } from './errors.js';
import type { Fleet } from './fleet.js';
import { mediaGc } from './media-gc.js';
import { printJson } from './output.js';

/** `loa media gc`: clear retained clips nothing references (the collector also runs it daily). */
export async function runMediaGc(fleet: Fleet, o: { dryRun: boolean; keepDays?: number; json: boolean }): Promise<number> {
  const db = await openCentralStore(fleet);
  try {
    const client = await connectCentral(fleet);
    try {
      const r = await mediaGc(fleet, db, client, { dryRun: o.dryRun, ...(o.keepDays !== undefined ? { keepDays: o.keepDays } : {}) });
      if (o.json) printJson({ dryRun: o.dryRun, kept: r.kept, cleared: r.cleared });
      else process.stdout.write(t(o.dryRun ? 'media.gcDry' : 'media.gcDone', { cleared: r.cleared.length, kept: r.kept }) + '\n');
      return 0;
    } finally {
      await endClient(client);
    }
  } finally {
    await db.close();
  }
}

/** `loa db prune --older-than DAYS` (`400d` or `400`): the collector applies fleet `retention.days` daily. */
export async function pruneDb(fleet: Fleet, olderThan: string, json: boolean): Promise<number> {
  const m = /^(\d+)d?$/.exec(olderThan.trim());
  if (!m || Number(m[1]) < 1) throw new UsageError(t('db.olderThan', { value: olderThan }));
  const days = Number(m[1]);
  const db = await openCentralStore(fleet);
  try {
    const r = await db.prune(Date.now() - days * 86_400_000);
    if (json) printJson({ olderThanDays: days, deleted: r });
    else
      process.stdout.write(
        t('db.pruned', {
          days,
          rows: Object.entries(r)
            .map(([k, v]) => `${k} ${v}`)
            .join(', '),
        }) + '\n',
      );
    return 0;
  } finally {
    await db.close();
  }
}
