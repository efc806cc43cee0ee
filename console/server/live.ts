// The live feed: one in-memory view per station, updated from what the collector commits, and
// fanned out to every open page (server-sent events) filtered by each user's scope.
import type { ServerResponse } from 'node:http';
import type { CentralDb } from '../../controller-cli/central-db.js';
import type { CommittedMessage } from '../../controller-cli/collector.js';
import type { Fleet } from '../../controller-cli/fleet.js';
import { Ack, StationState, Telemetry } from '../../protocol/index.js';
import type { BroadcastSummary, LiveEvent, StationView } from '../shared/api.js';
import type { ConsoleStore } from './console-store.js';

interface Known {
  state?: StationState;
  stateAt?: number;
  telemetry?: Telemetry;
  telemetryAt?: number;
  lastAckAt?: number;
  since?: number;
}

function view(id: string, k: Known, desired: number | null, conflicts: number): StationView {
  const tel = k.telemetry;
  const reset = tel?.storeReset ?? k.state?.storeReset;
  const seen = Math.max(k.stateAt ?? 0, k.telemetryAt ?? 0, k.lastAckAt ?? 0);
  return {
    id,
    online: k.state ? k.state.online : null,
    since: k.since ?? null,
    lastSeen: seen > 0 ? seen : null,
    telemetrySec: tel?.intervalSec ?? null,
    nowPlaying: (tel?.nowPlaying ?? []).map((p) => ({ zone: p.zone, title: p.title ?? null, priority: p.priority, broadcastId: p.broadcastId ?? null, since: p.since })),
    scheduleDesired: desired,
    scheduleApplied: tel?.scheduleVersion ?? k.state?.scheduleVersion ?? null,
    clockOffsetMs: tel?.clockOffsetMs ?? (tel && k.telemetryAt ? Date.parse(tel.at) - k.telemetryAt : null),
    diskFreeBytes: tel?.diskFreeBytes ?? null,
    outboxDepth: tel?.outboxDepth ?? null,
    lastError: tel?.lastError ?? null,
    storeFault: tel?.storeFault ?? null,
    storeReset: reset ? `${reset.at}: ${reset.reason}` : null,
    ackConflicts: conflicts,
    stopped: tel?.stopped === true,
  };
}

export interface LiveClient {
  scope: Set<string>;
  /** Whether it may see a broadcast event (its stations overlap the scope). */
  write(chunk: string): void;
}

/** SSE framing; ids are not used: a reconnecting page reloads its state from the API. */
export const sse = (e: LiveEvent) => `data: ${JSON.stringify(e)}\n\n`;

export class LiveHub {
  private readonly known = new Map<string, Known>();
  private readonly views = new Map<string, StationView>();
  private readonly desired = new Map<string, number | null>();
  private readonly conflicts = new Map<string, number>();
  private readonly clients = new Set<{ client: LiveClient; buffer: string[] }>();
  private timer?: NodeJS.Timeout;
  private pollTimer?: NodeJS.Timeout;
  private pollCursor = 0;
  private pollSeen = new Set<string>();
  readonly stats = { events: 0, writes: 0 };

  constructor(
    private readonly fleet: Fleet,
    private readonly db: CentralDb,
    private readonly store: ConsoleStore,
  ) {}

  /** Everything the database knows now; live messages update it from here on. */
  async load(): Promise<void> {
    const { state, telemetry, lastAck } = await this.db.stationRows();
    const since = await this.store.lastTransitions();
    for (const [s, n] of await this.db.conflictCounts()) this.conflicts.set(s, n);
    for (const s of this.fleet.stations) {
      const st = state.get(s.id);
      const tel = telemetry.get(s.id);
      const k: Known = {};
      // A stored row this version cannot read (older or newer protocol) counts as not heard.
      const stParsed = st ? StationState.safeParse(JSON.parse(st.json)) : undefined;
      const telParsed = tel ? Telemetry.safeParse(JSON.parse(tel.json)) : undefined;
      if (st && stParsed?.success) {
        k.state = stParsed.data;
        k.stateAt = st.received_at;
      }
      if (tel && telParsed?.success) {
        k.telemetry = telParsed.data;
        k.telemetryAt = tel.received_at;
      }
      const ackAt = lastAck.get(s.id);
      if (ackAt !== undefined) k.lastAckAt = ackAt;
      const t = since.get(s.id);
      if (t !== undefined) k.since = t;
      this.known.set(s.id, k);
      this.desired.set(s.id, (await this.db.lastPushedVersion(s.id)) || null);
      this.refresh(s.id);
    }
    // One writer tick for every page: coalesces bursts (1,000 stations) into few socket writes.
    this.timer = setInterval(() => this.drain(), 50);
  }

  private refresh(id: string): StationView {
    const v = view(id, this.known.get(id) ?? {}, this.desired.get(id) ?? null, this.conflicts.get(id) ?? 0);
    this.views.set(id, v);
    return v;
  }

  stations(scope: Set<string>): StationView[] {
    return this.fleet.stations.filter((s) => scope.has(s.id)).map((s) => this.views.get(s.id)!);
  }

  /** Rows the collector just committed (in this process, or found by polling). */
  committed(batch: readonly CommittedMessage[]): void {
    const touched = new Set<string>();
    for (const m of batch) {
      const k = this.known.get(m.value.station);
      if (!k) continue;
      if (m.kind === 'state') {
        if (!k.state || k.state.online !== m.value.online) k.since = m.at;
        k.state = m.value;
        k.stateAt = m.at;
        touched.add(m.value.station);
      } else if (m.kind === 'telemetry') {
        k.telemetry = m.value;
        k.telemetryAt = m.at;
        touched.add(m.value.station);
      } else {
        k.lastAckAt = m.at;
        const a = m.value;
        const broadcastId = a.broadcastId ?? a.commandId;
        if (a.commandType === 'schedule' && a.state === 'applied' && a.scheduleVersion !== undefined) touched.add(a.station);
        if (broadcastId) this.emit({ kind: 'ack', broadcastId, station: a.station, state: a.state, at: a.at, reason: a.reason ?? null }, [a.station]);
      }
    }
    for (const id of touched) this.emit({ kind: 'station', station: this.refresh(id) }, [id]);
  }

  /** A schedule push or a new broadcast made elsewhere in this process. */
  schedulePushed(station: string, version: number): void {
    this.desired.set(station, version);
    this.emit({ kind: 'station', station: this.refresh(station) }, [station]);
  }

  /** A new broadcast: each page learns of it with only the stations in its own scope. */
  broadcast(summary: BroadcastSummary): void {
    this.stats.events++;
    for (const c of this.clients) {
      const visible = summary.stations.filter((s) => c.client.scope.has(s));
      if (visible.length > 0) c.buffer.push(sse({ kind: 'broadcast', broadcast: { ...summary, stations: visible } }));
    }
  }

  private emit(e: LiveEvent, stations: string[]): void {
    this.stats.events++;
    const chunk = sse(e);
    for (const c of this.clients) if (stations.some((s) => c.client.scope.has(s))) c.buffer.push(chunk);
  }

  private drain(): void {
    for (const c of this.clients) {
      if (c.buffer.length === 0) continue;
      const chunk = c.buffer.join('');
      c.buffer = [];
      this.stats.writes++;
      c.client.write(chunk);
    }
  }

  /** Attach an open SSE response; returns the function that detaches it. */
  attach(res: ServerResponse, scope: Set<string>): () => void {
    const entry = { client: { scope, write: (chunk: string) => res.write(chunk) }, buffer: [] as string[] };
    this.clients.add(entry);
    const keepAlive = setInterval(() => res.write(': keep-alive\n\n'), 15_000);
    const detach = () => {
      clearInterval(keepAlive);
      this.clients.delete(entry);
    };
    res.on('close', detach);
    return detach;
  }

  get pages(): number {
    return this.clients.size;
  }

  /**
   * Read what other processes wrote. Schedule pushes (the CLI pushes too) are always read; the
   * collector's rows only when it runs in another process (`rows`). Rows written within the same
   * millisecond as the cursor are re-read and skipped by key.
   */
  startPolling(everyMs: number, o: { rows: boolean }): void {
    this.pollCursor = Date.now() - 1000;
    let pushCursor = Date.now() - 1000;
    const poll = async () => {
      try {
        for (const p of await this.store.pushesSince(pushCursor)) {
          pushCursor = Math.max(pushCursor, p.pushedAt);
          if ((this.desired.get(p.station) ?? 0) < p.version && this.known.has(p.station)) this.schedulePushed(p.station, p.version);
        }
        if (o.rows) await this.pollRows();
      } catch {
        /* the database is busy or gone for a moment: the next poll catches up */
      }
      this.pollTimer = setTimeout(() => void poll(), everyMs);
    };
    this.pollTimer = setTimeout(() => void poll(), everyMs);
  }

  private async pollRows(): Promise<void> {
    const { states, telemetry, acks } = await this.store.changesSince(this.pollCursor);
    const batch: CommittedMessage[] = [];
    const seen = new Set<string>();
    let max = this.pollCursor;
    const take = (kind: CommittedMessage['kind'], rows: typeof states) => {
      for (const r of rows) {
        const key = `${kind}|${r.station}|${r.receivedAt}|${r.json.length}`;
        if (r.receivedAt === this.pollCursor && this.pollSeen.has(key)) continue;
        seen.add(key);
        max = Math.max(max, r.receivedAt);
        const json = JSON.parse(r.json) as unknown;
        const parsed = (kind === 'ack' ? Ack : kind === 'state' ? StationState : Telemetry).safeParse(json);
        if (parsed.success) batch.push({ kind, value: parsed.data, at: r.receivedAt } as CommittedMessage);
      }
    };
    take('state', states);
    take('telemetry', telemetry);
    take('ack', acks);
    this.pollSeen = new Set([...seen].filter((k) => k.split('|')[2] === String(max)));
    this.pollCursor = max;
    if (batch.length > 0) this.committed(batch);
  }

  close(): void {
    if (this.timer) clearInterval(this.timer);
    if (this.pollTimer) clearTimeout(this.pollTimer);
    this.clients.clear();
  }
}
