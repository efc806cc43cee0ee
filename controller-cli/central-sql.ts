// What both central stores share: every query, written once in SQL that SQLite and PostgreSQL
// both run (`?` placeholders; central-pg.ts numbers them). A store supplies the connection
// (`q`), transactions (`tx`) and the two bulk steps of ingest, which PostgreSQL does per batch.
import { type Ack, MAX_SEQ_AHEAD_MS, type SignedEnvelope, type StationState, type Telemetry } from '../protocol/index.js';
import { type AckRow, type AckWrite, ackContent, type BroadcastRow, type CentralStore, type ConflictRow, type Inbound, type StationRowsData } from './central-store.js';

export interface Q {
  all<T>(sql: string, params?: readonly unknown[]): Promise<T[]>;
  get<T>(sql: string, params?: readonly unknown[]): Promise<T | undefined>;
  /** Rows changed. */
  run(sql: string, params?: readonly unknown[]): Promise<number>;
}

/** An ack as a row of the acks table, in ACK_INSERT_COLUMNS order. */
export interface AckInsert {
  key: string;
  ack: Ack;
  json: string;
  values: unknown[];
}

export const ACK_INSERT_COLUMNS = [
  'station',
  'db',
  'seq',
  'epoch',
  'state',
  'command_id',
  'command_type',
  'broadcast_id',
  'item_id',
  'priority',
  'planned_at',
  'started_at',
  'ended_at',
  'at',
  'reason',
  'schedule_version',
  'test',
  'historical',
  'received_at',
  'json',
] as const;

const ackKey = (station: string, db: string, seq: number) => `${station}\u0000${db}\u0000${seq}`;

function ackInsert(ack: Ack, receivedAt: number): AckInsert {
  const json = JSON.stringify(ack);
  return {
    key: ackKey(ack.station, ack.db, ack.seq),
    ack,
    json,
    values: [
      ack.station,
      ack.db,
      ack.seq,
      ack.epoch,
      ack.state,
      ack.commandId ?? null,
      ack.commandType ?? null,
      ack.broadcastId ?? null,
      ack.itemId ?? null,
      ack.priority ?? null,
      ack.plannedAt ?? null,
      ack.startedAt ?? null,
      ack.endedAt ?? null,
      ack.at,
      ack.reason ?? null,
      ack.scheduleVersion ?? null,
      ack.test ? 1 : 0,
      ack.historical ? 1 : 0,
      receivedAt,
      json,
    ],
  };
}

/** Stable by station: one station's states stay in arrival order; rows are locked in one order by every collector. */
const byStation = <T extends { value: { station: string } }>(a: T, b: T) => (a.value.station < b.value.station ? -1 : a.value.station > b.value.station ? 1 : 0);

export abstract class SqlCentralStore implements CentralStore {
  abstract readonly kind: 'sqlite' | 'postgres';
  protected abstract readonly q: Q;

  get sql(): Q {
    return this.q;
  }
  protected abstract tx<T>(fn: (q: Q) => Promise<T>): Promise<T>;
  /** INSERT … ON CONFLICT DO NOTHING of rows unique by key, sorted by key: which were new. */
  protected abstract insertAcks(q: Q, rows: AckInsert[]): Promise<boolean[]>;
  /** The stored json of these (station, db, seq) keys. */
  protected abstract storedAckJson(q: Q, rows: AckInsert[]): Promise<Map<string, string>>;
  abstract close(): Promise<void>;

  async ingest(batch: readonly Inbound[]): Promise<AckWrite[]> {
    const acks = batch.filter((m): m is Extract<Inbound, { kind: 'ack' }> => m.kind === 'ack').map((m) => ackInsert(m.value, m.at));
    const states = batch.filter((m): m is Extract<Inbound, { kind: 'state' }> => m.kind === 'state').sort(byStation);
    const telemetry = batch.filter((m): m is Extract<Inbound, { kind: 'telemetry' }> => m.kind === 'telemetry').sort(byStation);
    return this.tx(async (q) => {
      const out: AckWrite[] = acks.map(() => 'duplicate');
      // The first occurrence of each key is a candidate insert; every other one (and a first one
      // that was already stored) is compared with what is stored, as one ack after another would be.
      const first = new Map<string, number>();
      acks.forEach((a, i) => {
        if (!first.has(a.key)) first.set(a.key, i);
      });
      const order = [...first.values()].sort((i, j) => {
        const a = acks[i]!.ack;
        const b = acks[j]!.ack;
        return a.station < b.station ? -1 : a.station > b.station ? 1 : a.db < b.db ? -1 : a.db > b.db ? 1 : a.seq - b.seq;
      });
      const inserted = order.length
        ? await this.insertAcks(
            q,
            order.map((i) => acks[i]!),
          )
        : [];
      const isNew = new Set<number>();
      order.forEach((i, k) => {
        if (inserted[k]) isNew.add(i);
      });
      const compare = acks.map((_, i) => i).filter((i) => !isNew.has(i));
      if (compare.length) {
        const stored = await this.storedAckJson(q, [...new Map(compare.map((i) => [acks[i]!.key, acks[i]!])).values()]);
        for (const i of compare) {
          const a = acks[i]!;
          const s = stored.get(a.key);
          if (s === undefined || ackContent(s) === ackContent(a.json)) continue;
          out[i] = 'conflict';
          await q.run('INSERT INTO ack_conflicts (station, db, seq, received_at, json, stored_json) VALUES (?, ?, ?, ?, ?, ?)', [
            a.ack.station,
            a.ack.db,
            a.ack.seq,
            a.values[18],
            a.json,
            s,
          ]);
        }
      }
      for (const i of isNew) out[i] = 'new';
      if (states.length) await this.statesIn(q, states);
      if (telemetry.length) await this.telemetriesIn(q, telemetry);
      return out;
    });
  }

  async writeAck(ack: Ack, receivedAt: number): Promise<AckWrite> {
    return (await this.ingest([{ kind: 'ack', value: ack, at: receivedAt }]))[0]!;
  }

  async writeState(state: StationState, receivedAt: number): Promise<void> {
    await this.ingest([{ kind: 'state', value: state, at: receivedAt }]);
  }

  async writeTelemetry(tel: Telemetry, receivedAt: number): Promise<void> {
    await this.ingest([{ kind: 'telemetry', value: tel, at: receivedAt }]);
  }

  /** States in arrival order per station (sorted by station). PostgreSQL writes them per batch. */
  protected async statesIn(q: Q, states: { value: StationState; at: number }[]): Promise<void> {
    for (const s of states) await this.stateIn(q, s.value, s.at);
  }

  /** Telemetry sorted by station, arrival order kept. */
  protected async telemetriesIn(q: Q, telemetry: { value: Telemetry; at: number }[]): Promise<void> {
    for (const m of telemetry) await this.telemetryIn(q, m.value, m.at);
  }

  private async stateIn(q: Q, state: StationState, receivedAt: number): Promise<void> {
    const online = state.online ? 1 : 0;
    // The upsert first: it locks the station's row, so two collectors writing the same state
    // one after the other both see the first one's state_log row.
    await q.run(
      `INSERT INTO station_state (station, online, epoch, schedule_version, received_at, json) VALUES (?, ?, ?, ?, ?, ?)
       ON CONFLICT (station) DO UPDATE SET online = excluded.online, epoch = excluded.epoch,
       schedule_version = COALESCE(excluded.schedule_version, station_state.schedule_version), received_at = excluded.received_at, json = excluded.json`,
      [state.station, online, state.epoch, state.scheduleVersion ?? null, receivedAt, JSON.stringify(state)],
    );
    const last = await q.get<{ online: number }>('SELECT online FROM state_log WHERE station = ? ORDER BY at DESC, rowid DESC LIMIT 1', [state.station]);
    if (!last || last.online !== online) await q.run('INSERT INTO state_log (station, online, at) VALUES (?, ?, ?)', [state.station, online, receivedAt]);
  }

  private async telemetryIn(q: Q, tel: Telemetry, receivedAt: number): Promise<void> {
    await q.run(
      `INSERT INTO telemetry (station, at, received_at, json) VALUES (?, ?, ?, ?)
       ON CONFLICT (station) DO UPDATE SET at = excluded.at, received_at = excluded.received_at, json = excluded.json`,
      [tel.station, tel.at, receivedAt, JSON.stringify(tel)],
    );
  }

  conflicts(): Promise<ConflictRow[]> {
    return this.q.all<ConflictRow>('SELECT station, db, seq, received_at, json, stored_json FROM ack_conflicts ORDER BY received_at');
  }

  async conflictCounts(): Promise<Map<string, number>> {
    const m = new Map<string, number>();
    for (const r of await this.q.all<{ station: string; n: number }>('SELECT station, count(*) AS n FROM ack_conflicts GROUP BY station')) m.set(r.station, r.n);
    return m;
  }

  // ---- media published retained -------------------------------------------------------------

  async recordMedia(sha256: string, bytes: number, now: number): Promise<void> {
    await this.q.run(
      'INSERT INTO media (sha256, bytes, published_at) VALUES (?, ?, ?) ON CONFLICT (sha256) DO UPDATE SET published_at = excluded.published_at, cleared_at = NULL',
      [sha256, bytes, now],
    );
  }

  publishedMedia(): Promise<{ sha256: string; bytes: number; published_at: number }[]> {
    return this.q.all('SELECT sha256, bytes, published_at FROM media WHERE cleared_at IS NULL ORDER BY published_at');
  }

  async markMediaCleared(sha256: string, now: number): Promise<void> {
    await this.q.run('UPDATE media SET cleared_at = ? WHERE sha256 = ?', [now, sha256]);
  }

  // ---- retention ----------------------------------------------------------------------------

  /**
   * Delete what is older than `before` (ms): acks (by when they were received), conflicts,
   * online/offline history and finished broadcasts. Pushed schedules keep their last 10
   * versions per station whatever their age: the report needs the one in force.
   */
  prune(before: number): Promise<Record<string, number>> {
    return this.tx(async (q) => ({
      acks: await q.run('DELETE FROM acks WHERE received_at < ?', [before]),
      ackConflicts: await q.run('DELETE FROM ack_conflicts WHERE received_at < ?', [before]),
      stateLog: await q.run('DELETE FROM state_log WHERE at < ?', [before]),
      broadcasts: await q.run("DELETE FROM broadcasts WHERE status <> 'draft' AND COALESCE(planned_at, sent_at, created_at) < ?", [before]),
      pushedSchedules: await q.run(
        'DELETE FROM pushed_schedules WHERE pushed_at < ? AND version NOT IN (SELECT version FROM pushed_schedules p WHERE p.station = pushed_schedules.station ORDER BY version DESC LIMIT 10)',
        [before],
      ),
    }));
  }

  /**
   * seq = max(last + 1, now), but never more than half of MAX_SEQ_AHEAD_MS ahead of now: after
   * the central clock steps back, seqs restart near the new time (stations accept seqs down to
   * a day below the highest they saw; ids guard replays) instead of running ahead of issuedAt,
   * which stations refuse. One statement, so two officials signing at once never share a seq.
   */
  async nextSeq(issuer: string, now: number): Promise<number> {
    const cap = now + MAX_SEQ_AHEAD_MS / 2;
    const next = 'CASE WHEN issuer_seq.seq + 1 > ? THEN issuer_seq.seq + 1 ELSE ? END';
    const row = await this.q.get<{ seq: number }>(
      `INSERT INTO issuer_seq (issuer, seq) VALUES (?, ?)
       ON CONFLICT (issuer) DO UPDATE SET seq = CASE WHEN ${next} > ? THEN ? ELSE ${next} END
       RETURNING seq`,
      [issuer, Math.min(Math.max(1, now), cap), now, now, cap, cap, now, now],
    );
    return row!.seq;
  }

  async lastPushedVersion(station: string): Promise<number> {
    const row = await this.q.get<{ v: number | null }>('SELECT MAX(version) AS v FROM pushed_schedules WHERE station = ?', [station]);
    return row?.v ?? 0;
  }

  lastPushed(station: string): Promise<{ version: number; items_json: string; pushed_at: number; envelope: string } | undefined> {
    return this.q.get('SELECT version, items_json, pushed_at, envelope FROM pushed_schedules WHERE station = ? ORDER BY version DESC LIMIT 1', [station]);
  }

  allPushed(): Promise<{ station: string; version: number; pushed_at: number; envelope: string }[]> {
    return this.q.all('SELECT station, version, pushed_at, envelope FROM pushed_schedules ORDER BY station, version');
  }

  async recordPushed(station: string, version: number, itemsJson: string, envelope: SignedEnvelope, now: number): Promise<void> {
    await this.q.run('INSERT INTO pushed_schedules (station, version, pushed_at, items_json, envelope) VALUES (?, ?, ?, ?, ?)', [
      station,
      version,
      now,
      itemsJson,
      JSON.stringify(envelope),
    ]);
  }

  async appliedVersion(station: string): Promise<number | null> {
    const tel = await this.q.get<{ json: string }>('SELECT json FROM telemetry WHERE station = ?', [station]);
    const st = await this.q.get<{ schedule_version: number | null }>('SELECT schedule_version FROM station_state WHERE station = ?', [station]);
    const fromTel = tel ? ((JSON.parse(tel.json) as Telemetry).scheduleVersion ?? null) : null;
    return fromTel ?? st?.schedule_version ?? null;
  }

  async saveBroadcast(row: BroadcastRow): Promise<void> {
    await this.q.run(
      `INSERT INTO broadcasts (id, type, status, created_at, sent_at, planned_at, title, priority, test, stations, envelope)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (id) DO UPDATE SET status = excluded.status, sent_at = excluded.sent_at, envelope = excluded.envelope`,
      [row.id, row.type, row.status, row.created_at, row.sent_at, row.planned_at, row.title, row.priority, row.test, row.stations, row.envelope],
    );
  }

  drafts(): Promise<BroadcastRow[]> {
    return this.q.all("SELECT * FROM broadcasts WHERE status = 'draft' ORDER BY created_at");
  }

  broadcast(id: string): Promise<BroadcastRow | undefined> {
    return this.q.get('SELECT * FROM broadcasts WHERE id = ?', [id]);
  }

  broadcasts(fromMs = 0, toMs = Number.MAX_SAFE_INTEGER): Promise<BroadcastRow[]> {
    return this.q.all(
      'SELECT * FROM broadcasts WHERE COALESCE(planned_at, sent_at, created_at) BETWEEN ? AND ? ORDER BY COALESCE(planned_at, sent_at, created_at), created_at, id',
      [fromMs, toMs],
    );
  }

  acksFor(broadcastId: string): Promise<AckRow[]> {
    return this.q.all('SELECT * FROM acks WHERE broadcast_id = ? OR command_id = ? ORDER BY station, seq', [broadcastId, broadcastId]);
  }

  acksBetweenPlanned(fromIso: string, toIso: string): Promise<AckRow[]> {
    return this.q.all("SELECT * FROM acks WHERE command_type = 'schedule' AND planned_at BETWEEN ? AND ? ORDER BY station, seq", [fromIso, toIso]);
  }

  async onlineAt(station: string, atMs: number): Promise<boolean | undefined> {
    const row = await this.q.get<{ online: number }>('SELECT online FROM state_log WHERE station = ? AND at <= ? ORDER BY at DESC, rowid DESC LIMIT 1', [station, atMs]);
    return row ? row.online === 1 : undefined;
  }

  async stationRows(): Promise<StationRowsData> {
    const state = new Map<string, { online: number; epoch: number; received_at: number; json: string }>();
    for (const r of await this.q.all<{ station: string; online: number; epoch: number; received_at: number; json: string }>(
      'SELECT station, online, epoch, received_at, json FROM station_state',
    ))
      state.set(r.station, r);
    const telemetry = new Map<string, { received_at: number; json: string }>();
    for (const r of await this.q.all<{ station: string; received_at: number; json: string }>('SELECT station, received_at, json FROM telemetry')) telemetry.set(r.station, r);
    const lastAck = new Map<string, number>();
    for (const r of await this.q.all<{ station: string; t: number }>('SELECT station, MAX(received_at) AS t FROM acks GROUP BY station')) lastAck.set(r.station, r.t);
    const desired = new Map<string, number>();
    for (const r of await this.q.all<{ station: string; v: number }>('SELECT station, MAX(version) AS v FROM pushed_schedules GROUP BY station')) desired.set(r.station, r.v);
    return { state, telemetry, lastAck, desired, conflicts: await this.conflictCounts() };
  }
}
