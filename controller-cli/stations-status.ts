import { t } from '../io/i18n.js';
import type { StationState, Telemetry } from '../protocol/index.js';
import { type CentralStore, openCentralStore } from './central-store.js';
import { UsageError } from './errors.js';
import { type Fleet, findGroup } from './fleet.js';
import { intOption } from './options.js';
import { printJson, renderTable } from './output.js';
import { formatLocal } from './time.js';

export interface StationRow {
  station: string;
  name: string;
  online: boolean | null;
  lastSeen: string | null;
  epoch: number | null;
  nowPlaying: string[];
  desiredScheduleVersion: number | null;
  appliedScheduleVersion: number | null;
  clockOffsetMs: number | null;
  diskFreeBytes: number | null;
  outboxDepth: number | null;
  lastError: string | null;
  /** Acks re-sent with content different from what is stored (kept in ack_conflicts). */
  ackConflicts: number;
  /** The station's store was found unreadable and replaced (from its birth message). */
  storeReset: string | null;
  /** The station's store refuses writes right now (from its telemetry). */
  storeFault: string | null;
  stopped: boolean;
}

export async function stationRows(fleet: Fleet, db: CentralStore): Promise<StationRow[]> {
  const { state, telemetry, lastAck, desired, conflicts } = await db.stationRows();
  return fleet.stations.map((s) => {
    const st = state.get(s.id);
    const tel = telemetry.get(s.id);
    const stJson = st ? (JSON.parse(st.json) as StationState) : undefined;
    const telJson = tel ? (JSON.parse(tel.json) as Telemetry) : undefined;
    const seen = Math.max(st?.received_at ?? 0, tel?.received_at ?? 0, lastAck.get(s.id) ?? 0);
    return {
      station: s.id,
      name: s.name,
      online: st ? st.online === 1 : null,
      lastSeen: seen > 0 ? new Date(seen).toISOString() : null,
      epoch: st?.epoch ?? telJson?.epoch ?? null,
      nowPlaying: (telJson?.nowPlaying ?? []).map((p) => `${p.zone}:${p.title || p.broadcastId || p.itemId || p.priority}`),
      desiredScheduleVersion: desired.get(s.id) || null,
      appliedScheduleVersion: telJson?.scheduleVersion ?? stJson?.scheduleVersion ?? null,
      // The station measures its own offset against the collector's heartbeat; older stations
      // only tell us their time, compared here with when the telemetry arrived.
      clockOffsetMs: telJson?.clockOffsetMs ?? (tel && telJson ? Date.parse(telJson.at) - tel.received_at : null),
      diskFreeBytes: telJson?.diskFreeBytes ?? null,
      outboxDepth: telJson?.outboxDepth ?? null,
      lastError: telJson?.lastError ?? null,
      ackConflicts: conflicts.get(s.id) ?? 0,
      storeReset: (telJson?.storeReset ?? stJson?.storeReset) ? `${(telJson?.storeReset ?? stJson?.storeReset)!.at}: ${(telJson?.storeReset ?? stJson?.storeReset)!.reason}` : null,
      storeFault: telJson?.storeFault ?? null,
      stopped: telJson?.stopped === true,
    };
  });
}

function render(fleet: Fleet, rows: StationRow[]): string {
  const yesNo = (v: boolean | null) => (v === null ? t('stations.unknown') : v ? t('stations.online') : t('stations.offline'));
  const mb = (b: number | null) => (b === null ? null : `${Math.round(b / 1048576)} MB`);
  return renderTable(
    [
      t('col.station'),
      t('col.name'),
      t('col.online'),
      t('col.lastSeen'),
      t('col.epoch'),
      t('col.nowPlaying'),
      t('col.schedule'),
      t('col.clock'),
      t('col.disk'),
      t('col.outbox'),
      t('col.lastError'),
    ],
    rows.map((r) => [
      r.station,
      r.name,
      yesNo(r.online),
      r.lastSeen ? formatLocal(Date.parse(r.lastSeen), fleet.timezone) : null,
      r.epoch,
      r.nowPlaying.join(' ') || null,
      `${r.desiredScheduleVersion ?? '-'}/${r.appliedScheduleVersion ?? '-'}`,
      r.clockOffsetMs === null ? null : `${(r.clockOffsetMs / 1000).toFixed(1)}s`,
      mb(r.diskFreeBytes),
      r.outboxDepth,
      // What needs a person's attention first: a store that refuses writes, a reset, conflicts, a stop.
      [
        r.storeFault ? `${t('stations.storeFault')}: ${r.storeFault}` : null,
        r.storeReset ? `${t('stations.storeReset')} ${r.storeReset}` : null,
        r.ackConflicts ? t('stations.conflicts', { n: r.ackConflicts }) : null,
        r.stopped ? t('stations.stopped') : null,
        r.lastError,
      ]
        .filter(Boolean)
        .join('; ') || null,
    ]),
  );
}

export interface StationsOptions {
  watch?: boolean;
  json?: boolean;
  intervalSec?: number;
  /** Only the stations of this group. */
  group?: string;
  /** Only stations offline or never seen. */
  offline?: boolean;
  /** Rows per page; with 10,000 stations a table of all of them is no use to anyone. */
  limit?: string;
  page?: string;
}

/** Filter, then cut one page: what `loa stations` (and --watch) shows. */
export function selectStations(
  fleet: Fleet,
  rows: StationRow[],
  o: Pick<StationsOptions, 'group' | 'offline' | 'limit' | 'page'>,
): { rows: StationRow[]; page: number; pages: number; count: number; first: number } {
  let chosen = rows;
  if (o.group !== undefined) {
    const members = new Set(fleet.stations.filter((s) => s.groups.includes(findGroup(fleet, o.group!).id)).map((s) => s.id));
    chosen = chosen.filter((r) => members.has(r.station));
  }
  if (o.offline) chosen = chosen.filter((r) => r.online !== true);
  const limit = intOption(o.limit, '--limit', 1, 1_000_000);
  const page = intOption(o.page, '--page', 1, 1_000_000) ?? 1;
  if (o.page !== undefined && limit === undefined) throw new UsageError(t('stations.pageNeedsLimit'));
  if (limit === undefined) return { rows: chosen, page: 1, pages: 1, count: chosen.length, first: 0 };
  const pages = Math.max(1, Math.ceil(chosen.length / limit));
  const first = (Math.min(page, pages) - 1) * limit;
  return { rows: chosen.slice(first, first + limit), page: Math.min(page, pages), pages, count: chosen.length, first };
}

export async function showStations(fleet: Fleet, o: StationsOptions): Promise<number> {
  const once = async () => {
    const db = await openCentralStore(fleet);
    try {
      return selectStations(fleet, await stationRows(fleet, db), o);
    } finally {
      await db.close();
    }
  };
  const text = (sel: Awaited<ReturnType<typeof once>>) => {
    if (sel.count === 0) return `${t('stations.none')}\n`;
    const footer =
      sel.pages > 1 || o.limit !== undefined
        ? `${t('stations.page', { page: sel.page, pages: sel.pages, first: sel.rows.length ? sel.first + 1 : 0, last: sel.first + sel.rows.length, count: sel.count })}\n`
        : '';
    return render(fleet, sel.rows) + footer;
  };
  if (!o.watch) {
    const sel = await once();
    if (o.json) printJson(sel.rows);
    else process.stdout.write(text(sel));
    return 0;
  }
  let stop = false;
  process.once('SIGINT', () => (stop = true));
  while (!stop) {
    const sel = await once();
    if (o.json) process.stdout.write(JSON.stringify(sel.rows) + '\n');
    else {
      if (process.stdout.isTTY) process.stdout.write('\x1b[2J\x1b[H');
      process.stdout.write(`${formatLocal(Date.now(), fleet.timezone)}\n${text(sel)}`);
    }
    for (let i = 0; i < (o.intervalSec ?? 2) * 10 && !stop; i++) await new Promise((r) => setTimeout(r, 100));
  }
  return 0;
}
