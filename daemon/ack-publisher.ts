import { Receipt, type Topics } from '../protocol/index.js';
import type { StationStore } from './store.js';
import type { MessageTransport } from './transport.js';

export interface AckPublisherOptions {
  store: StationStore;
  transport: MessageTransport;
  topics: Topics;
  station: string;
  /** Without a central collector, acks leave the outbox on PUBACK instead of on a receipt. */
  collector: boolean;
  log: (level: 'info' | 'warn' | 'error', msg: string, extra?: object) => void;
}

/** Rows read from the outbox per flush; the rest follow on the next tick. */
const BATCH = 500;

/**
 * The only module that reads the ack outbox and publishes from it. It walks the outbox with a
 * cursor, so a flush costs O(batch), not O(outbox); a receipt (or, with no collector, the
 * PUBACK) removes rows. Everything already in the outbox at (re)connection is a replay and is
 * marked `historical`.
 */
export class AckPublisher {
  /** Highest seq published on this connection (the cursor). */
  private cursor = 0;
  private replayUpTo = 0;
  private scheduled = false;
  /** PUBACKed seqs, written in one transaction per tick instead of one fsync each. */
  private acked: number[] = [];
  private stopped = false;

  constructor(private readonly o: AckPublisherOptions) {}

  /** A new connection: everything in the outbox goes again, the backlog marked historical. */
  connected(): void {
    this.replayUpTo = this.o.store.lastAckSeq();
    this.cursor = 0;
    this.flush();
  }

  /** Forget what was sent so the next flush re-sends every unreceipted ack. */
  resendAll(): void {
    this.cursor = 0;
    this.flush();
  }

  flush(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      this.flushNow();
    });
  }

  private flushNow(): void {
    const { store, transport, topics, station } = this.o;
    if (!transport.connected || this.stopped || !store.db.open) return;
    let rows: ReturnType<StationStore['outboxAfter']>;
    try {
      rows = store.outboxAfter(this.cursor, BATCH);
    } catch (e) {
      this.o.log('warn', 'outbox read failed', { err: (e as Error).message });
      return;
    }
    for (const row of rows) {
      const historical = row.seq <= this.replayUpTo;
      const sent = transport.publish(topics.ack(station), JSON.stringify({ ...row.ack, historical }), { qos: 1 }, (err) => {
        if (err) return;
        this.acked.push(row.seq);
        if (this.acked.length === 1) setImmediate(() => this.recordAcked());
      });
      if (!sent) return;
      this.cursor = row.seq;
    }
    if (rows.length === BATCH) this.flush();
  }

  private recordAcked(): void {
    const seqs = this.acked;
    this.acked = [];
    const { store, collector } = this.o;
    if (!store.db.open || seqs.length === 0) return;
    try {
      if (collector) store.markSent(seqs);
      else store.dropOutbox(seqs);
    } catch {
      // Only bookkeeping: on a full disk the rows stay and are sent again later (idempotent).
    }
  }

  /** A receipt from the collector: those rows are held centrally and leave the outbox. */
  receipt(payload: Buffer): void {
    let json: unknown;
    try {
      json = JSON.parse(payload.toString('utf8'));
    } catch {
      json = undefined;
    }
    const r = Receipt.safeParse(json);
    if (!r.success || r.data.station !== this.o.station) {
      this.o.log('warn', 'ignored malformed receipt');
      return;
    }
    // Receipts for another store (before a reset, or a replaced box) say nothing about ours.
    if (r.data.db !== this.o.store.dbId()) return;
    try {
      this.o.store.dropOutbox(r.data.seqs);
    } catch (e) {
      this.o.log('warn', 'receipt not applied (store)', { err: (e as Error).message });
    }
  }

  stop(): void {
    this.recordAcked();
    this.stopped = true;
  }
}
