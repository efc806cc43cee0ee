// The naive baseline: what a user would script instead of Loa. One node + mqtt subscriber that,
// for every message, spawns `ffmpeg -i <clip> -f s16le pipe:1` and notes when the first byte
// of audio comes out. Run as a child process: `node naive-subscriber.js <brokerUrl> <topic> <ffmpeg>`.
// Prints "ready" once subscribed, then one JSON line {round, at} per message.
import { spawn } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import mqtt from 'mqtt';

const [url, topic, ffmpeg] = process.argv.slice(2);
if (!url || !topic || !ffmpeg) {
  process.stderr.write('usage: naive-subscriber <brokerUrl> <topic> <ffmpeg>\n');
  process.exit(2);
}
const client = mqtt.connect(url, { clientId: `naive-${process.pid}`, clean: true });
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
  const { round, file } = JSON.parse(payload.toString()) as { round: number; file: string };
  const p = spawn(ffmpeg, ['-i', file, '-f', 's16le', 'pipe:1'], { stdio: ['ignore', 'pipe', 'ignore'] });
  p.stdout.once('data', () => {
    const at = performance.timeOrigin + performance.now();
    process.stdout.write(JSON.stringify({ round, at }) + '\n');
  });
  p.stdout.resume();
});
process.on('SIGTERM', () => client.end(true, {}, () => process.exit(0)));
