import { t } from '../io/i18n.js';
import { EnvelopeShape, occurrencesBetween, type Priority, ScheduleBody } from '../protocol/index.js';
import { type AckRow, CentralDb } from './central-db.js';
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
export function classify(
  db: CentralDb,
  station: string,
  plannedAt: number,
  acks: AckRow[],
  graceMs: number,
  now: number,
): Pick<DeliveryRow, 'status' | 'startedAt' | 'endedAt' | 'reason'> {
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
  if (db.onlineAt(station, plannedAt) === false) return { status: 'unreachable', startedAt, endedAt, reason: null };
  return { status: 'not-confirmed', startedAt, endedAt, reason: null };
}

export function deliveryRows(db: CentralDb, fromMs: number, toMs: number, graceMs: number): DeliveryRow[] {
  const now = Date.now();
  const rows: DeliveryRow[] = [];
  // Commands sent from the command line.
  for (const b of db.broadcasts(fromMs, toMs)) {
    if (b.status === 'draft' || b.type === 'cancel') continue;
    const planned = b.planned_at ?? b.sent_at ?? b.created_at;
    const acks = db.acksFor(b.id);
    for (const station of JSON.parse(b.stations) as string[]) {
      const mine = acks.filter((a) => a.station === station);
      rows.push({
        broadcastId: b.id,
        kind: b.type,
        title: b.title ?? '',
        priority: b.priority,
        test: b.test === 1,
        station,
        plannedAt: new Date(planned).toISOString(),
        ...classify(db, station, planned, mine, graceMs, now),
      });
    }
  }
  // Schedule occurrences: each pushed version is in force from its push until the next one.
  const pushed = db.allPushed();
  const byStation = new Map<string, typeof pushed>();
  for (const p of pushed) byStation.set(p.station, [...(byStation.get(p.station) ?? []), p]);
  const acks = db.acksBetweenPlanned(new Date(fromMs).toISOString(), new Date(toMs).toISOString());
  for (const [station, versions] of byStation) {
    versions.forEach((v, i) => {
      const start = Math.max(fromMs, v.pushed_at);
      // Occurrences still in the future are not part of a delivery report.
      const end = Math.min(toMs, now, versions[i + 1]?.pushed_at ?? Infinity);
      if (end <= start) return;
      const body = ScheduleBody.parse(EnvelopeShape.parse(JSON.parse(v.envelope)).body);
      for (const occ of occurrencesBetween(body, start, end)) {
        const mine = acks.filter((a) => a.station === station && a.broadcast_id === occ.broadcastId);
        rows.push({
          broadcastId: occ.broadcastId,
          kind: 'schedule',
          title: occ.item.title,
          priority: occ.item.priority,
          test: false,
          station,
          plannedAt: new Date(occ.plannedAt).toISOString(),
          ...classify(db, station, occ.plannedAt, mine, graceMs, now),
        });
      }
    });
  }
  return rows.sort((a, b) => a.plannedAt.localeCompare(b.plannedAt) || a.broadcastId.localeCompare(b.broadcastId) || a.station.localeCompare(b.station));
}

const statusLabel = (s: DeliveryStatus) => t(`status.${s}` as Parameters<typeof t>[0]);

export function report(fleet: Fleet, o: { from: string; to: string; csv?: boolean; json?: boolean; grace?: string }): number {
  const now = Date.now();
  const fromMs = parseWhen(o.from, fleet.timezone, now, '--from');
  let toMs = parseWhen(o.to, fleet.timezone, now, '--to');
  if (/^\d{4}-\d\d-\d\d$/.test(o.to.trim())) toMs += 86_400_000; // a date means the whole day
  const graceMs = (o.grace ? Number(o.grace) : 60) * 1000;
  const db = new CentralDb(fleet.database);
  try {
    const rows = deliveryRows(db, fromMs, toMs, graceMs);
    if (o.json) printJson(rows);
    else if (o.csv) {
      const cols = ['broadcastId', 'kind', 'title', 'priority', 'test', 'station', 'plannedAt', 'startedAt', 'endedAt', 'status', 'reason'] as const;
      process.stdout.write([csvLine([...cols]), ...rows.map((r) => csvLine(cols.map((c) => String(r[c] ?? ''))))].join('\n') + '\n');
    } else {
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
    db.close();
  }
}

export function listBroadcasts(fleet: Fleet, o: { json?: boolean; limit?: string }): number {
  const db = new CentralDb(fleet.database);
  try {
    const now = Date.now();
    const list = db
      .broadcasts()
      .filter((b) => b.type !== 'cancel')
      .slice(-(Number(o.limit ?? 50) || 50));
    const out = list.map((b) => {
      const planned = b.planned_at ?? b.sent_at ?? b.created_at;
      const acks = db.acksFor(b.id);
      const counts: Record<string, number> = {};
      for (const station of JSON.parse(b.stations) as string[]) {
        const s =
          b.status === 'draft'
            ? 'pending'
            : classify(
                db,
                station,
                planned,
                acks.filter((a) => a.station === station),
                60_000,
                now,
              ).status;
        counts[s] = (counts[s] ?? 0) + 1;
      }
      const sigs = (JSON.parse(b.envelope) as { sigs: { key: string }[] }).sigs.map((s) => s.key);
      return {
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
      };
    });
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
    db.close();
  }
}
