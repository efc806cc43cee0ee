import { t } from '../io/i18n.js';
import { EnvelopeShape, occurrencesBetween, type Priority, ScheduleBody } from '../protocol/index.js';
import { type AckRow, type CentralStore, openCentralStore } from './central-store.js';
import type { Fleet } from './fleet.js';
import { csvLine, printJson, printTable } from './output.js';
import { formatLocal, parseWhen } from './time.js';

export type DeliveryStatus = 'confirmed' | 'confirmed-late' | 'started' | 'failed' | 'preempted' | 'missed' | 'cancelled' | 'not-confirmed' | 'unreachable' | 'pending';

export interface DeliveryRow {
  broadcastId: string;
  kind: string;
  title: string;
  priority: Priority | string;
  test: boolean;
  station: string;
  plannedAt: string;
  startedAt: string | null;
  endedAt: string | null;
  status: DeliveryStatus;
  reason: string | null;
}

/** One station's fate for one broadcast, from its acks (and its online history when it sent none). */
export async function classify(
  db: CentralStore,
  station: string,
  plannedAt: number,
  acks: AckRow[],
  graceMs: number,
  now: number,
): Promise<Pick<DeliveryRow, 'status' | 'startedAt' | 'endedAt' | 'reason'>> {
  const has = (s: string) => acks.find((a) => a.state === s);
  const started = has('started') ?? has('completed');
  const startedAt = started?.started_at ?? started?.at ?? null;
  const completed = has('completed');
  const endedAt = completed?.ended_at ?? completed?.at ?? null;
  const bad = acks.find((a) => a.state === 'failed' || a.state === 'rejected');
  if (completed) {
    const late = startedAt !== null && Date.parse(startedAt) > plannedAt + graceMs;
    return { status: late ? 'confirmed-late' : 'confirmed', startedAt, endedAt, reason: null };
  }
  // Cut by a higher level (an alert): the station did its job, the broadcast did not finish.
  if (has('preempted')) return { status: 'preempted', startedAt, endedAt, reason: has('preempted')!.reason };
  if (bad) return { status: 'failed', startedAt, endedAt, reason: bad.reason ?? bad.state };
  if (has('cancelled')) return { status: 'cancelled', startedAt, endedAt, reason: has('cancelled')!.reason };
  if (has('missed')) return { status: 'missed', startedAt, endedAt, reason: has('missed')!.reason };
  if (started) return { status: 'started', startedAt, endedAt, reason: null };
  if (plannedAt > now) return { status: 'pending', startedAt, endedAt, reason: null };
  if ((await db.onlineAt(station, plannedAt)) === false) return { status: 'unreachable', startedAt, endedAt, reason: null };
  return { status: 'not-confirmed', startedAt, endedAt, reason: null };
}

/** Acks grouped by station (a broadcast to 10,000 stations must not scan its acks once per station). */
function byStation(acks: AckRow[]): Map<string, AckRow[]> {
  const m = new Map<string, AckRow[]>();
  for (const a of acks) {
    const list = m.get(a.station);
    if (list) list.push(a);
    else m.set(a.station, [a]);
  }
  return m;
}

export async function deliveryRows(db: CentralStore, fromMs: number, toMs: number, graceMs: number): Promise<DeliveryRow[]> {
  const now = Date.now();
  const rows: DeliveryRow[] = [];
  // Commands sent from the command line.
  for (const b of await db.broadcasts(fromMs, toMs)) {
    if (b.status === 'draft' || b.type === 'cancel') continue;
    const planned = b.planned_at ?? b.sent_at ?? b.created_at;
    const acks = byStation(await db.acksFor(b.id));
    for (const station of JSON.parse(b.stations) as string[]) {
      const mine = acks.get(station) ?? [];
      rows.push({
        broadcastId: b.id,
        kind: b.type,
        title: b.title ?? '',
        priority: b.priority,
        test: b.test === 1,
        station,
        plannedAt: new Date(planned).toISOString(),
        ...(await classify(db, station, planned, mine, graceMs, now)),
      });
    }
  }
  // Schedule occurrences: each pushed version is in force from its push until the next one.
  const pushed = await db.allPushed();
  const pushedBy = new Map<string, typeof pushed>();
  for (const p of pushed) pushedBy.set(p.station, [...(pushedBy.get(p.station) ?? []), p]);
  const acks = byStation(await db.acksBetweenPlanned(new Date(fromMs).toISOString(), new Date(toMs).toISOString()));
  for (const [station, versions] of pushedBy) {
    for (const [i, v] of versions.entries()) {
      const start = Math.max(fromMs, v.pushed_at);
      // Occurrences still in the future are not part of a delivery report.
      const end = Math.min(toMs, now, versions[i + 1]?.pushed_at ?? Infinity);
      if (end <= start) continue;
      const body = ScheduleBody.parse(EnvelopeShape.parse(JSON.parse(v.envelope)).body);
      for (const occ of occurrencesBetween(body, start, end)) {
        const mine = (acks.get(station) ?? []).filter((a) => a.broadcast_id === occ.broadcastId);
        rows.push({
          broadcastId: occ.broadcastId,
          kind: 'schedule',
          title: occ.item.title,
          priority: occ.item.priority,
          test: false,
          station,
          plannedAt: new Date(occ.plannedAt).toISOString(),
          ...(await classify(db, station, occ.plannedAt, mine, graceMs, now)),
        });
      }
    }
  }
  return rows.sort((a, b) => a.plannedAt.localeCompare(b.plannedAt) || a.broadcastId.localeCompare(b.broadcastId) || a.station.localeCompare(b.station));
}

const statusLabel = (s: DeliveryStatus) => t(`status.${s}` as Parameters<typeof t>[0]);

/** The report's time range, as `loa report --from/--to` and the console read it: a date means the whole day. */
export function reportRange(fleet: Fleet, from: string, to: string, now = Date.now()): { fromMs: number; toMs: number } {
  const fromMs = parseWhen(from, fleet.timezone, now, '--from');
  let toMs = parseWhen(to, fleet.timezone, now, '--to');
  if (/^\d{4}-\d\d-\d\d$/.test(to.trim())) toMs += 86_400_000;
  return { fromMs, toMs };
}

const REPORT_COLUMNS = ['broadcastId', 'kind', 'title', 'priority', 'test', 'station', 'plannedAt', 'startedAt', 'endedAt', 'status', 'reason'] as const;

/** The CSV of `loa report --csv`; the console's download is this same text. */
export function reportCsv(rows: DeliveryRow[]): string {
  return [csvLine([...REPORT_COLUMNS]), ...rows.map((r) => csvLine(REPORT_COLUMNS.map((c) => String(r[c] ?? ''))))].join('\n') + '\n';
}

export async function report(fleet: Fleet, o: { from: string; to: string; csv?: boolean; json?: boolean; grace?: string }): Promise<number> {
  const { fromMs, toMs } = reportRange(fleet, o.from, o.to);
  const graceMs = (o.grace ? Number(o.grace) : 60) * 1000;
  const db = await openCentralStore(fleet);
  try {
    const rows = await deliveryRows(db, fromMs, toMs, graceMs);
    if (o.json) printJson(rows);
    else if (o.csv) process.stdout.write(reportCsv(rows));
    else {
      printTable(
        [t('col.broadcast'), t('col.title'), t('col.station'), t('col.planned'), t('col.started'), t('col.status'), t('col.reason')],
        rows.map((r) => [
          r.broadcastId,
          (r.test ? `[${t('report.test')}] ` : '') + r.title,
          r.station,
          formatLocal(Date.parse(r.plannedAt), fleet.timezone),
          r.startedAt ? formatLocal(Date.parse(r.startedAt), fleet.timezone) : null,
          statusLabel(r.status),
          r.reason,
        ]),
      );
    }
    return 0;
  } finally {
    await db.close();
  }
}

export async function listBroadcasts(fleet: Fleet, o: { json?: boolean; limit?: string }): Promise<number> {
  const db = await openCentralStore(fleet);
  try {
    const now = Date.now();
    const list = (await db.broadcasts()).filter((b) => b.type !== 'cancel').slice(-(Number(o.limit ?? 50) || 50));
    const out = [];
    for (const b of list) {
      const planned = b.planned_at ?? b.sent_at ?? b.created_at;
      const acks = byStation(await db.acksFor(b.id));
      const counts: Record<string, number> = {};
      for (const station of JSON.parse(b.stations) as string[]) {
        const s = b.status === 'draft' ? 'pending' : (await classify(db, station, planned, acks.get(station) ?? [], 60_000, now)).status;
        counts[s] = (counts[s] ?? 0) + 1;
      }
      const sigs = (JSON.parse(b.envelope) as { sigs: { key: string }[] }).sigs.map((s) => s.key);
      out.push({
        id: b.id,
        type: b.type,
        status: b.status,
        title: b.title ?? '',
        priority: b.priority,
        test: b.test === 1,
        plannedAt: new Date(planned).toISOString(),
        stations: (JSON.parse(b.stations) as string[]).length,
        signatures: sigs,
        delivery: counts,
      });
    }
    if (o.json) printJson(out);
    else {
      printTable(
        [t('col.broadcast'), t('col.type'), t('col.status'), t('col.title'), t('col.planned'), t('col.delivery')],
        out.map((b) => [
          b.id,
          b.type + (b.test ? ` (${t('report.test')})` : ''),
          b.status,
          b.title,
          formatLocal(Date.parse(b.plannedAt), fleet.timezone),
          Object.entries(b.delivery)
            .map(([k, v]) => `${statusLabel(k as DeliveryStatus)} ${v}`)
            .join(', '),
        ]),
      );
    }
    return 0;
  } finally {
    await db.close();
  }
}
