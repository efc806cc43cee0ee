// Simulated stations for the collector bench: one MQTT client publishing valid protocol `Ack`
// messages (QoS 1) on the ack topics of N stations, plus deliberate duplicates (the same
// station:seq sent again, as an outbox replay would). Run as a child process:
//   node ack-publisher.js <brokerUrl> <stations> <acksPerStation> <duplicates>
// Prints "ready" when connected; on "go" (stdin) publishes everything and prints one JSON line
// {t0, t1, published}: wall times of the first publish call and of the last PUBACK.
import { performance } from 'node:perf_hooks';
import mqtt from 'mqtt';
import { Ack, Topics } from '../protocol/index.js';
import { benchStationId as stationId } from './lib.js';

const [url, nStations, perStation, dups] = process.argv.slice(2);
const N = Number(nStations);
const PER = Number(perStation);
const DUPS = Number(dups);
const wall = () => performance.timeOrigin + performance.now();
const topics = new Topics();
const BENCH_DB = 'b0b0b0b0b0b0b0b0';

// Build every payload up front so publishing measures the pipeline, not JSON.stringify.
const messages: { topic: string; payload: string }[] = [];
const at = new Date().toISOString();
for (let seq = 1; seq <= PER; seq++) {
  for (let i = 0; i < N; i++) {
    const station = stationId(i);
    const ack: Ack = {
      v: 1,
      type: 'ack',
      id: `${station}:${BENCH_DB}:${seq}`,
      station,
      db: BENCH_DB,
      seq,
      epoch: 1,
      state: seq % 2 ? 'started' : 'completed',
      commandId: `ann-bench-${seq}`,
      commandType: 'announce',
      broadcastId: `ann-bench-${seq}`,
      priority: 'normal',
      zones: ['main'],
      plannedAt: at,
      startedAt: at,
      at,
      historical: false,
    };
    Ack.parse(ack); // the bench only sends what a real station could
    messages.push({ topic: topics.ack(station), payload: JSON.stringify(ack) });
  }
}
// Duplicates: evenly spread re-sends of earlier messages, interleaved near the end.
const total = messages.length;
for (let d = 0; d < DUPS; d++) messages.push(messages[Math.floor((d * total) / DUPS)]!);

const client = mqtt.connect(url!, { clientId: `bench-acks-${process.pid}`, clean: true, protocolVersion: 4 });
client.on('connect', () => process.stdout.write('ready\n'));
let finished = false;
client.on('error', (e) => {
  if (!finished) process.stderr.write(`publisher: ${e.message}\n`);
});
// At most WINDOW unacknowledged: MQTT packet ids are 16-bit, so more than 65,535 QoS 1
// messages in flight would reuse ids and lose PUBACK callbacks.
const WINDOW = 10_000;
process.stdin.once('data', () => {
  let acked = 0;
  let next = 0;
  let inflight = 0;
  const t0 = wall();
  const pump = () => {
    while (inflight < WINDOW && next < messages.length) {
      const m = messages[next++]!;
      inflight++;
      client.publish(m.topic, m.payload, { qos: 1 }, (err) => {
        inflight--;
        if (err) process.stderr.write(`publish failed: ${err.message}\n`);
        if (++acked === messages.length) {
          finished = true;
          process.stdout.write(JSON.stringify({ t0, t1: wall(), published: messages.length }) + '\n');
          client.end(false, {}, () => process.exit(0));
        } else pump();
      });
    }
  };
  pump();
});
