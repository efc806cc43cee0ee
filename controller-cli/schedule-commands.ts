import { resolve } from 'node:path';
import { t } from '../io/i18n.js';
import { publishAsync } from '../io/mqtt.js';
import { canonicalJson, DEFAULT_TTL_MS, nextOccurrences, ScheduleBody } from '../protocol/index.js';
import { mediaStoreDir } from './audio-source.js';
import { connectCentral, endClient } from './central-connection.js';
import { openCentralStore } from './central-store.js';
import { issueCommand } from './command-issue.js';
import { type Fleet, findStation } from './fleet.js';
import { publishMedia } from './media.js';
import { intOption } from './options.js';
import { printJson, printTable } from './output.js';
import { compileSchedules, loadScheduleFiles, timingBodies } from './schedule-file.js';
import { formatLocal, parseWhen } from './time.js';

const stationFilter = (fleet: Fleet, s: string | undefined) => (s ? s.split(',').map((x) => findStation(fleet, x.trim()).id) : undefined);

export function validateSchedules(fleet: Fleet, files: string[], o: { json?: boolean }): number {
  const loaded = loadScheduleFiles(
    fleet,
    files.map((f) => resolve(f)),
  );
  const perStation = timingBodies(fleet, loaded);
  const summary = [...perStation].map(([station, body]) => ({ station, items: body.items.map((i) => i.id) }));
  if (o.json) printJson({ ok: true, files: loaded.files, items: loaded.items.length, stations: summary });
  else process.stdout.write(t('schedule.valid', { items: loaded.items.length, stations: perStation.size }) + '\n');
  return 0;
}

export function nextFireTimes(fleet: Fleet, files: string[], o: { json?: boolean; from?: string; count?: string; station?: string }): number {
  const loaded = loadScheduleFiles(
    fleet,
    files.map((f) => resolve(f)),
  );
  const now = Date.now();
  const from = o.from ? parseWhen(o.from, fleet.timezone, now, '--from') : now;
  const count = intOption(o.count, '--count', 1, 1000) ?? 5;
  const bodies = timingBodies(fleet, loaded, stationFilter(fleet, o.station));
  const out = [...bodies].map(([station, body]) => ({
    station,
    next: nextOccurrences(body, from, count).map((occ) => ({
      broadcastId: occ.broadcastId,
      itemId: occ.item.id,
      title: occ.item.title,
      plannedAt: new Date(occ.plannedAt).toISOString(),
      local: formatLocal(occ.plannedAt, occ.item.tz ?? body.tz),
    })),
  }));
  if (o.json) printJson({ from: new Date(from).toISOString(), count, stations: out });
  else {
    printTable(
      [t('col.station'), t('col.planned'), t('col.item'), t('col.title')],
      out.flatMap((s) => s.next.map((n) => [s.station, n.local, n.itemId, n.title])),
    );
  }
  return 0;
}

export async function showSchedules(fleet: Fleet, files: string[], o: { station?: string }): Promise<number> {
  const loaded = loadScheduleFiles(
    fleet,
    files.map((f) => resolve(f)),
  );
  const compiled = await compileSchedules(fleet, loaded, stationFilter(fleet, o.station));
  printJson([...compiled.items].map(([station, items]) => ({ station, tz: compiled.tz, items })));
  return 0;
}

interface DiffRow {
  station: string;
  pushedVersion: number | null;
  appliedVersion: number | null;
  status: 'in-sync' | 'changed' | 'not-pushed' | 'not-applied';
  added: string[];
  removed: string[];
  changed: string[];
}

export async function diffSchedules(fleet: Fleet, files: string[], o: { json?: boolean; station?: string }): Promise<number> {
  const loaded = loadScheduleFiles(
    fleet,
    files.map((f) => resolve(f)),
  );
  const compiled = await compileSchedules(fleet, loaded, stationFilter(fleet, o.station));
  const db = await openCentralStore(fleet);
  const rows: DiffRow[] = [];
  try {
    for (const [station, items] of compiled.items) {
      const last = await db.lastPushed(station);
      const applied = await db.appliedVersion(station);
      const before = new Map((last ? (JSON.parse(last.items_json) as ScheduleBody['items']) : []).map((i) => [i.id, canonicalJson(i)]));
      const now = new Map(items.map((i) => [i.id, canonicalJson(i)]));
      const added = [...now.keys()].filter((k) => !before.has(k));
      const removed = [...before.keys()].filter((k) => !now.has(k));
      const changed = [...now.keys()].filter((k) => before.has(k) && before.get(k) !== now.get(k));
      const differs = added.length + removed.length + changed.length > 0;
      const status: DiffRow['status'] = !last ? 'not-pushed' : differs ? 'changed' : applied !== last.version ? 'not-applied' : 'in-sync';
      rows.push({ station, pushedVersion: last?.version ?? null, appliedVersion: applied, status, added, removed, changed });
    }
  } finally {
    await db.close();
  }
  if (o.json) printJson(rows);
  else {
    printTable(
      [t('col.station'), t('col.pushed'), t('col.applied'), t('col.status'), t('col.changes')],
      rows.map((r) => [
        r.station,
        r.pushedVersion,
        r.appliedVersion,
        t(`diff.${r.status}`),
        [...r.added.map((x) => `+${x}`), ...r.removed.map((x) => `-${x}`), ...r.changed.map((x) => `~${x}`)].join(' '),
      ]),
    );
  }
  return 0;
}

/**
 * Sign and publish (retained, QoS 1) one schedule per targeted station. The version is above
 * anything pushed before or reported applied, so a station never ignores it as stale.
 */
export async function pushSchedules(fleet: Fleet, files: string[], o: { station?: string; key?: string; json?: boolean }): Promise<number> {
  const loaded = loadScheduleFiles(
    fleet,
    files.map((f) => resolve(f)),
  );
  const compiled = await compileSchedules(fleet, loaded, stationFilter(fleet, o.station));
  const db = await openCentralStore(fleet);
  let client: Awaited<ReturnType<typeof connectCentral>>;
  try {
    client = await connectCentral(fleet);
  } catch (e) {
    await db.close();
    throw e;
  }
  const results: { station: string; version: number; items: number; id: string }[] = [];
  try {
    for (const sha of compiled.media) await publishMedia(client, fleet.topics, mediaStoreDir(fleet), sha, db);
    for (const [station, items] of compiled.items) {
      const version = Math.max(await db.lastPushedVersion(station), (await db.appliedVersion(station)) ?? 0) + 1;
      const body = ScheduleBody.parse({ station, version, tz: compiled.tz, items });
      const now = Date.now();
      const envelope = await issueCommand(fleet, db, { type: 'schedule', key: o.key, target: { stations: [station] }, body, now, ttlMs: DEFAULT_TTL_MS.schedule });
      await publishAsync(client, fleet.topics.schedule(station), JSON.stringify(envelope), { qos: 1, retain: true });
      await db.recordPushed(station, version, JSON.stringify(items), envelope, now);
      results.push({ station, version, items: items.length, id: envelope.id });
    }
  } finally {
    await endClient(client);
    await db.close();
  }
  if (o.json) printJson(results);
  else for (const r of results) process.stdout.write(t('schedule.pushed', { station: r.station, version: r.version, items: r.items }) + '\n');
  return 0;
}
