// The physical floor of time-to-air: the least a subscriber process can do between an MQTT
// message and a frame in a `file` output. One node + mqtt (QoS 1) subscriber holding the first
// 20 ms of the emergency chime in memory; on each message it creates a WAV in its own
// directory (like the `file` output: exclusive create, header, audio) and writes that frame.
// No verification, no store, no decision. Run as a child process:
//   node floor-subscriber.js <brokerUrl> <topic> <outDir> <chime.wav>
// Prints "ready" once subscribed, then one JSON line {round, at} per message, `at` taken just
// after the frame was written (performance.timeOrigin + performance.now(), as the daemon does).
import { closeSync, mkdirSync, openSync, readFileSync, writeSync } from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import mqtt from 'mqtt';

const [url, topic, outDir, chime] = process.argv.slice(2);
if (!url || !topic || !outDir || !chime) {
  process.stderr.write('usage: floor-subscriber <brokerUrl> <topic> <outDir> <chime.wav>\n');
  process.exit(2);
}
mkdirSync(outDir, { recursive: true });
// A canonical 44-byte header (the chime is prepared on-air format): sizes left open, as the output does.
const wav = readFileSync(chime);
const header = Buffer.from(wav.subarray(0, 44));
header.writeUInt32LE(0xffffffff, 4);
header.writeUInt32LE(0xffffffff, 40);
const frame = Buffer.concat([header, wav.subarray(44, 44 + 1920)]);

const client = mqtt.connect(url, { clientId: `floor-${process.pid}`, clean: true, writeCache: false });
client.on('connect', () => {
  client.subscribe(topic, { qos: 1 }, (err) => {
    if (err) {
      process.stderr.write(`subscribe failed: ${err.message}\n`);
      process.exit(1);
    }
    process.stdout.write('ready\n');
  });
});
client.on('message', (_t, payload) => {
  const { round } = JSON.parse(payload.toString()) as { round: number };
  const fd = openSync(path.join(outDir, `${round}.wav`), 'wx');
  writeSync(fd, frame, 0, frame.length, 0);
  const at = performance.timeOrigin + performance.now();
  closeSync(fd);
  process.stdout.write(`${JSON.stringify({ round, at })}\n`);
});
process.on('SIGTERM', () => client.end(true, {}, () => process.exit(0)));
