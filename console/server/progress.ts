// Per-station progress of one broadcast, from its acks: what the page's detail view and the
// list's N/M show. "Confirmed" means started or completed, exactly as `loa … --wait` counts.
import type { AckRow, BroadcastRow } from '../../controller-cli/central-db.js';
import type { BroadcastDetail, BroadcastSummary, DeliveryState, StationProgress } from '../shared/api.js';

const CONFIRMED = new Set(['started', 'completed']);
const FAILED = new Set(['failed', 'rejected', 'missed', 'preempted', 'cancelled']);

/**
 * A cancel's own "received" also names the alert it cancels: it is progress of the cancel, not of
 * the alert, so only the cancel's outcome for the alert (cancelled, or nothing) is kept here.
 */
const aboutThis = (broadcastId: string) => (a: AckRow) =>
  a.command_id === null || a.command_id === broadcastId || !['received', 'scheduled', 'applied', 'rejected'].includes(a.state);

export function progressFor(stations: string[], acks: AckRow[], broadcastId?: string): StationProgress[] {
  const relevant = broadcastId ? acks.filter(aboutThis(broadcastId)) : acks;
  return stations.map((station) => {
    const mine = relevant.filter((a) => a.station === station).sort((a, b) => a.received_at - b.received_at || a.seq - b.seq);
    const last = mine.at(-1);
    return {
      station,
      // What the station said last (its acks are in causal order): a "preempted" after "started" shows as preempted.
      state: (last?.state ?? 'none') as DeliveryState,
      at: last?.at ?? null,
      reason: last?.reason ?? null,
      steps: mine.map((a) => ({ state: a.state, at: a.at, reason: a.reason })),
    };
  });
}

export function summarise(row: BroadcastRow, acks: AckRow[], visible: string[]): BroadcastSummary {
  const progress = progressFor(visible, acks, row.id);
  const envelope = JSON.parse(row.envelope) as { issuer?: string; sigs?: { key: string }[] };
  return {
    id: row.id,
    type: row.type,
    status: row.status,
    title: row.title ?? '',
    priority: row.priority,
    test: row.test === 1,
    createdAt: row.created_at,
    plannedAt: row.planned_at,
    stations: visible,
    confirmed: progress.filter((p) => p.steps.some((s) => CONFIRMED.has(s.state))).length,
    failed: progress.filter((p) => !p.steps.some((s) => CONFIRMED.has(s.state)) && FAILED.has(p.state)).length,
    by: envelope.sigs?.map((s) => s.key).join(', ') || envelope.issuer || null,
  };
}

export function detail(row: BroadcastRow, acks: AckRow[], visible: string[]): BroadcastDetail {
  const body = (JSON.parse(row.envelope) as { body?: { audio?: { kind: string; sha256?: string; tts?: { text: string }; urls?: string[] } } }).body;
  const a = body?.audio;
  const audio = a?.kind === 'media' && a.sha256 ? { sha256: a.sha256, tts: a.tts?.text ?? null } : a?.kind === 'stream' && a.urls ? { stream: a.urls[0]! } : null;
  return { ...summarise(row, acks, visible), progress: progressFor(visible, acks, row.id), audio };
}
