// The ack publisher against an in-memory MQTT double and a real (in-memory) SQLite store.
import { describe, expect, it } from 'vitest';
import { AckPublisher } from '../../daemon/ack-publisher.js';
import { AckOutbox } from '../../daemon/outbox.js';
import { StationStore } from '../../daemon/store.js';
import { Topics } from '../../protocol/index.js';
import { MemoryTransport } from './doubles.js';

const topics = new Topics();
const flushed = () => new Promise((r) => setImmediate(r));

function setup(collector = true) {
  const store = new StationStore(':memory:');
  const transport = new MemoryTransport();
  const outbox = new AckOutbox(store, 'st-a', { now: () => Date.UTC(2026, 11, 1) });
  const acks = new AckPublisher({ store, transport, topics, station: 'st-a', collector, log: () => {} });
  const add = (n: number) =>
    store.tx(() => {
      for (let i = 0; i < n; i++) outbox.add({ state: 'received', commandId: `c-${i}` });
    });
  return { store, transport, outbox, acks, add };
}

describe('AckPublisher', () => {
  it('publishes each outbox row once per connection, marking the backlog at connection historical', async () => {
    const { transport, acks, add } = setup();
    add(3);
    acks.connected();
    await flushed();
    add(1);
    acks.flush();
    await flushed();
    const sent = transport.published.map((p) => JSON.parse(p.payload) as { seq: number; historical: boolean });
    expect(sent.map((a) => [a.seq, a.historical])).toEqual([
      [1, true],
      [2, true],
      [3, true],
      [4, false],
    ]);
    acks.flush();
    await flushed();
    expect(transport.published).toHaveLength(4);
  });

  it('reads the outbox in batches: one flush costs O(batch), not O(outbox)', async () => {
    const { store, transport, acks, add } = setup();
    add(1200);
    let rowsRead = 0;
    const original = store.outboxAfter.bind(store);
    store.outboxAfter = (after, limit) => {
      const rows = original(after, limit);
      rowsRead += rows.length;
      return rows;
    };
    acks.connected();
    await flushed();
    expect(rowsRead).toBe(500);
    await flushed();
    await flushed();
    expect(transport.published).toHaveLength(1200);
    expect(rowsRead).toBe(1200);
  });

  it('a receipt drops exactly its seqs, and only for this store', async () => {
    const { store, acks, add } = setup();
    add(5);
    const receipt = (db: string, seqs: number[]) => Buffer.from(JSON.stringify({ v: 1, type: 'receipt', station: 'st-a', db, seqs }));
    acks.receipt(receipt('0'.repeat(16), [1, 2]));
    expect(store.outboxDepth()).toBe(5);
    acks.receipt(receipt(store.dbId(), [1, 2]));
    expect(store.outbox().map((r) => r.seq)).toEqual([3, 4, 5]);
    acks.receipt(Buffer.from('{"v":1,"type":"receipt","station":"st-b","db":"' + store.dbId() + '","seqs":[3]}'));
    expect(store.outboxDepth()).toBe(3);
  });

  it('without a collector the PUBACK removes the row; with one, only a receipt does', async () => {
    const a = setup(false);
    a.add(2);
    a.acks.connected();
    await flushed();
    await flushed();
    await flushed();
    expect(a.store.outboxDepth()).toBe(0);
    const b = setup(true);
    b.add(2);
    b.acks.connected();
    await flushed();
    await flushed();
    await flushed();
    expect(b.store.outbox().map((r) => r.sent)).toEqual([true, true]);
  });

  it('publishes nothing while disconnected and everything after resendAll', async () => {
    const { transport, acks, add } = setup();
    add(2);
    transport.connected = false;
    acks.connected();
    await flushed();
    expect(transport.published).toHaveLength(0);
    transport.connected = true;
    acks.resendAll();
    await flushed();
    expect(transport.published).toHaveLength(2);
  });
});
