// Real `loa-station` processes for integration tests, plus a minimal signing controller.
import { type ChildProcess, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { stringify } from 'yaml';
import { Ack, cosignEnvelope, generateKeyPair, makeEnvelope, newCommandId, type SignedEnvelope, type SignedType, signEnvelope, type Target, Topics } from '../protocol/index.js';

/** The repository root, from source (support/) or compiled (dist/support/). */
function findRoot(start: string): string {
  let dir = start;
  for (let i = 0; i < 6; i++) {
    if (existsSync(path.join(dir, 'package.json')) && existsSync(path.join(dir, 'daemon'))) return dir;
    dir = path.dirname(dir);
  }
  throw new Error(`repository root not found above ${start}`);
}

export const ROOT = findRoot(import.meta.dirname);
export const STATION_BIN = path.join(ROOT, 'dist/daemon/main.js');

export interface TestKey {
  id: string;
  privateKeyPem: string;
  publicKey: string;
  allow: SignedType[];
}

export function makeKey(id: string, allow: SignedType[] = ['schedule', 'announce', 'alert', 'cancel', 'control']): TestKey {
  return { id, ...generateKeyPair(), allow };
}

export interface StationSetup {
  id: string;
  dir: string;
  brokerUrl: string;
  keys: TestKey[];
  groups?: string[];
  zones?: string[];
  alertQuorum?: number;
  quietHours?: { start: string; end: string }[];
  graceSec?: number;
  chimes?: Record<string, string>;
  collector?: boolean;
  username?: string;
  password?: string;
  extra?: Record<string, unknown>;
}

/** Writes station.yaml with `file` outputs under dir/out/<zone>; returns its path. */
export function writeStationConfig(s: StationSetup): string {
  mkdirSync(s.dir, { recursive: true });
  const zones = s.zones ?? ['main'];
  const config = {
    station: { id: s.id, name: `Test ${s.id}`, groups: s.groups ?? [] },
    broker: { urls: [s.brokerUrl], ...(s.username ? { username: s.username, password: s.password } : {}), topicRoot: 'loa/v1', keepaliveSec: 5 },
    timezone: 'Asia/Ho_Chi_Minh',
    dataDir: path.join(s.dir, 'data'),
    cache: { quotaMB: 256 },
    central: { collector: s.collector ?? false },
    keys: s.keys.map((k) => ({ id: k.id, publicKey: k.publicKey, allow: k.allow })),
    alertQuorum: s.alertQuorum ?? 2,
    clockSkewSec: 300,
    zones: zones.map((z) => ({ id: z, name: `Zone ${z}`, output: { type: 'file', dir: path.join(s.dir, 'out', z) }, defaultVolume: 100, maxVolume: 100 })),
    quietHours: s.quietHours ?? [],
    chimes: s.chimes ?? {},
    graceSec: s.graceSec ?? 60,
    telemetrySec: 2,
    ...(s.extra ?? {}),
  };
  const file = path.join(s.dir, 'station.yaml');
  writeFileSync(file, stringify(config));
  return file;
}

export interface StationProcess {
  proc: ChildProcess;
  logs(): string;
  waitForLog(pattern: RegExp, timeoutMs?: number): Promise<string>;
  stop(): Promise<number | null>;
  kill9(): Promise<void>;
}

export function startStation(configPath: string, env: Record<string, string> = {}): StationProcess {
  const proc = spawn(process.execPath, [STATION_BIN, 'run', '--config', configPath], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const waiters: { re: RegExp; resolve: (l: string) => void }[] = [];
  const onData = (b: Buffer) => {
    out += b.toString();
    for (const w of [...waiters]) {
      const m = out.split('\n').find((l) => w.re.test(l));
      if (m) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(m);
      }
    }
  };
  proc.stdout!.on('data', onData);
  proc.stderr!.on('data', onData);
  const exited = new Promise<number | null>((resolve) => proc.on('exit', (code) => resolve(code)));
  return {
    proc,
    logs: () => out,
    waitForLog(re, timeoutMs = 20_000) {
      const m = out.split('\n').find((l) => re.test(l));
      if (m) return Promise.resolve(m);
      return new Promise((resolve, reject) => {
        const t = setTimeout(() => reject(new Error(`timed out waiting for ${re} in station log:\n${out.slice(-3000)}`)), timeoutMs);
        waiters.push({
          re,
          resolve: (l) => {
            clearTimeout(t);
            resolve(l);
          },
        });
      });
    },
    async stop() {
      if (proc.exitCode !== null) return proc.exitCode;
      proc.kill('SIGTERM');
      return exited;
    },
    async kill9() {
      if (proc.exitCode !== null || proc.signalCode !== null) return;
      proc.kill('SIGKILL');
      await exited;
    },
  };
}

/** A bare-bones controller for tests: signs envelopes and listens to acks. */
export class TestController {
  readonly topics = new Topics();
  readonly acks: Ack[] = [];
  private seq = Date.now();
  private constructor(readonly client: MqttClient) {}

  static async connect(url: string, opts: { username?: string; password?: string } = {}): Promise<TestController> {
    const client = mqtt.connect(url, { clientId: `test-ctl-${process.pid}-${Math.random().toString(16).slice(2)}`, clean: true, reconnectPeriod: 300, ...opts });
    await new Promise<void>((resolve, reject) => {
      client.once('connect', () => resolve());
      client.once('error', reject);
    });
    const ctl = new TestController(client);
    client.on('message', (topic, payload) => {
      if (!topic.endsWith('/ack')) return;
      const parsed = Ack.safeParse(JSON.parse(payload.toString()));
      if (parsed.success) ctl.acks.push(parsed.data);
    });
    await client.subscribeAsync(ctl.topics.allAcks(), { qos: 1 });
    return ctl;
  }

  envelope(type: SignedType, body: unknown, target: Target, key: TestKey, opts: { ttlMs?: number; now?: number; id?: string; seq?: number } = {}): SignedEnvelope {
    const now = opts.now ?? Date.now();
    const env = makeEnvelope({
      id: opts.id ?? newCommandId(type.slice(0, 3), now),
      type,
      issuer: key.id,
      seq: opts.seq ?? Math.min(++this.seq, now + 1_800_000),
      now,
      ttlMs: opts.ttlMs ?? 3600_000,
      target,
      body,
    });
    return signEnvelope(env, key.privateKeyPem);
  }

  cosign(env: SignedEnvelope, key: TestKey): SignedEnvelope {
    return cosignEnvelope(env, key.id, key.privateKeyPem);
  }

  async publishMedia(file: string): Promise<{ sha256: string; size: number }> {
    const bytes = readFileSync(file);
    const sha256 = createHash('sha256').update(bytes).digest('hex');
    await this.client.publishAsync(this.topics.media(sha256), bytes, { qos: 1, retain: true });
    return { sha256, size: bytes.length };
  }

  async send(station: string, env: SignedEnvelope | string | Buffer): Promise<void> {
    const payload = typeof env === 'string' || Buffer.isBuffer(env) ? env : JSON.stringify(env);
    await this.client.publishAsync(this.topics.stationCmd(station), payload, { qos: 1 });
  }

  async pushSchedule(station: string, env: SignedEnvelope): Promise<void> {
    await this.client.publishAsync(this.topics.schedule(station), JSON.stringify(env), { qos: 1, retain: true });
  }

  async waitForAck(pred: (a: Ack) => boolean, timeoutMs = 20_000): Promise<Ack> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const a = this.acks.find(pred);
      if (a) return a;
      if (Date.now() > deadline) {
        throw new Error(
          `no matching ack within ${timeoutMs} ms; acks so far:\n${this.acks.map((x) => `${x.station} ${x.state} ${x.broadcastId ?? x.commandId ?? ''} ${x.reason ?? ''}`).join('\n')}`,
        );
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  async close(): Promise<void> {
    await this.client.endAsync(true);
  }
}

export function listWavs(dir: string): string[] {
  try {
    return readdirSync(dir)
      .filter((f) => f.endsWith('.wav'))
      .sort()
      .map((f) => path.join(dir, f));
  } catch {
    return [];
  }
}
