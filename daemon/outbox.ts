import { Ack, type AckState } from '../protocol/index.js';
import type { Clock } from './clock.js';
import type { StationEventBus } from './events.js';
import type { StationStore } from './store.js';

export type AckInput = {
  state: AckState;
  commandId?: string;
  commandType?: Ack['commandType'];
  broadcastId?: string;
  itemId?: string;
  priority?: Ack['priority'];
  zones?: string[];
  plannedAt?: number;
  startedAt?: number;
  endedAt?: number;
  sha256?: string;
  reason?: string;
  detail?: string;
  scheduleVersion?: number;
  url?: string;
  test?: boolean;
};

const iso = (t: number | undefined) => (t === undefined ? undefined : new Date(t).toISOString());

/**
 * Acks are written to the outbox in the caller's transaction, so a state change and its ack
 * are durable together or not at all. Publishing happens later (ack-publisher.ts).
 */
export class AckOutbox {
  /** Rejected acks beyond this depth are dropped: a flood of garbage must not fill the disk. */
  static readonly MAX_REJECTED_DEPTH = 10_000;
  droppedRejections = 0;

  constructor(
    private readonly store: StationStore,
    private readonly station: string,
    private readonly clock: Clock,
    private readonly events?: StationEventBus,
  ) {}

  add(input: AckInput): number | undefined {
    if (input.state === 'rejected' && this.store.outboxDepth() >= AckOutbox.MAX_REJECTED_DEPTH) {
      this.droppedRejections++;
      return undefined;
    }
    const seq = this.store.nextAckSeq();
    const db = this.store.dbId();
    const ack: Omit<Ack, 'historical'> = {
      v: 1,
      type: 'ack',
      id: `${this.station}:${db}:${seq}`,
      station: this.station,
      db,
      seq,
      epoch: this.store.currentEpoch(),
      state: input.state,
      commandId: input.commandId,
      commandType: input.commandType,
      broadcastId: input.broadcastId,
      itemId: input.itemId,
      priority: input.priority,
      zones: input.zones ?? [],
      plannedAt: iso(input.plannedAt),
      startedAt: iso(input.startedAt),
      endedAt: iso(input.endedAt),
      // A write deferred by a store fault carries the time it happened, not the time it was written.
      at: new Date(this.store.eventTime(this.clock.now())).toISOString(),
      sha256: input.sha256,
      reason: input.reason?.slice(0, 200),
      detail: input.detail?.slice(0, 2000),
      scheduleVersion: input.scheduleVersion,
      url: input.url?.slice(0, 2048),
      test: input.test,
    };
    // Drop undefined keys so the stored JSON is exactly what goes on the wire.
    for (const k of Object.keys(ack) as (keyof typeof ack)[]) if (ack[k] === undefined) delete ack[k];
    Ack.parse({ ...ack, historical: false }); // a malformed ack is a bug here, not a wire problem
    this.store.putOutbox(seq, ack);
    // After the caller's transaction: the publisher reads committed rows.
    queueMicrotask(() => this.events?.emit('ack-added', { seq }));
    return seq;
  }
}
