// Schedules, announcements, alerts, the collector and reports: `loa` as a real subprocess
// against a private mosquitto configured by `loa broker config`.

import { type ChildProcess, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import Database from 'better-sqlite3';
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { type Ack, PROTOCOL_VERSION, Topics, type TrustedKey, trustedKey, type VerifyContext, verifyCommand } from '../protocol/index.js';
import { type Run, runLoa } from '../support/cli.js';
import { type MosquittoBroker, startMosquitto } from '../support/mosquitto.js';
import { cleanupTempDirs, tempDir } from '../support/tmp.js';

const LOA = resolve('dist/controller-cli/main.js');
const T = new Topics('loa/v1');

/** Each official's private keys live in their own directory (their own account). */
const keyDirs = { office: join(tempDir('loa-cli-office-'), 'keys'), duty: join(tempDir('loa-cli-duty-'), 'keys') };
const asDuty = { LOA_KEY_DIR: keyDirs.duty };
const loa = (args: string[], env: Record<string, string> = {}) => runLoa(fleet, args, { LOA_KEY_DIR: keyDirs.office, ...env });

function fleetYaml(url: string, stationUrl = url): string {
  return stringify({
    broker: { urls: [url], stationUrls: [stationUrl], passwordFile: 'secrets/central.password', listener: { stationPort: 1884 } },
    signers: [
      { key: 'office', allow: ['schedule', 'announce', 'alert', 'cancel', 'control'] },
      { key: 'duty', allow: ['alert', 'cancel'] },
      // A second name for office's own key: written by hand below, to show approve refuses it.
      { key: 'office-alias', allow: ['alert', 'cancel'] },
    ],
    defaultKey: 'office',
    groups: [
      { id: 'east', name: 'Đông' },
      { id: 'west', name: 'Tây' },
    ],
    stations: [
      { id: 'st-a', name: 'Phường A', groups: ['east'] },
      { id: 'st-b', name: 'Phường B', groups: ['east', 'west'] },
      {
        id: 'st-c',
        name: 'Xã C',
        groups: ['west'],
        zones: [
          { id: 'main', name: 'Loa chính' },
          { id: 'cho', name: 'Chợ' },
        ],
      },
    ],
  });
}

function connect(url: string, username: string, password: string, clientId = `t-${Math.random().toString(16).slice(2)}`): Promise<MqttClient> {
  return new Promise((res, rej) => {
    const c = mqtt.connect(url, { username, password, reconnectPeriod: 0, protocolVersion: 4, clientId });
    c.once('connect', () => {
      clients.push(c);
      res(c);
    });
    c.once('error', rej);
  });
}

const dir = tempDir('loa-cli-bc-');
const fleet = join(dir, 'fleet.yaml');
let broker: MosquittoBroker;
const clients: MqttClient[] = [];
const children: ChildProcess[] = [];
const secret = (p: string) => readFileSync(join(dir, 'secrets', p), 'utf8').trim();
const station = (id: string) => connect(broker.stationUrl!, id, secret(`stations/${id}.password`), id);
const central = () => connect(broker.url, 'loa-central', secret('central.password'));

function trusted(): Map<string, TrustedKey> {
  const keys = JSON.parse(readFileSync(join(dir, 'keys.json'), 'utf8')) as { id: string; publicKey: string; allow: TrustedKey['allow'] }[];
  return new Map(keys.map((k) => [k.id, trustedKey(k.id, k.publicKey, k.allow)]));
}
function ctx(id: string, groups: string[]): VerifyContext {
  return { station: { id, groups }, keys: trusted(), now: Date.now(), alertQuorum: 2, clockSkewMs: 60_000, replay: { seenId: () => false, highestSeq: () => undefined } };
}

/** Everything published on `topics` while `act` runs (plus a short grace). */
async function capture(client: MqttClient, topics: string[], act: () => Promise<Run>): Promise<{ run: Run; got: { topic: string; payload: string }[] }> {
  const got: { topic: string; payload: string }[] = [];
  const on = (topic: string, p: Buffer) => {
    if (topics.includes(topic)) got.push({ topic, payload: p.toString() });
  };
  client.on('message', on);
  await client.subscribeAsync(topics, { qos: 1 });
  const run = await act();
  await new Promise((r) => setTimeout(r, 300));
  client.off('message', on);
  await client.unsubscribeAsync(topics);
  return { run, got };
}

/** Poll until the condition holds (the observable event), or fail naming what was awaited. */
async function eventually(cond: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

let ackSeq = 1;
const TEST_DB = '00c0ffee00c0ffee';
function ack(stationId: string, state: Ack['state'], commandId: string, extra: Partial<Ack> = {}): Ack {
  return {
    v: PROTOCOL_VERSION,
    type: 'ack',
    id: `${stationId}:${TEST_DB}:${ackSeq}`,
    station: stationId,
    db: TEST_DB,
    seq: ackSeq++,
    epoch: 1,
    state,
    commandId,
    broadcastId: commandId,
    zones: ['main'],
    at: new Date().toISOString(),
    historical: false,
    ...extra,
  };
}

beforeAll(async () => {
  writeFileSync(fleet, fleetYaml('mqtt://127.0.0.1:1'));
  expect((await loa(['keys', 'init', 'office'])).code).toBe(0);
  expect((await loa(['keys', 'init', 'duty'], asDuty)).code).toBe(0);
  writeFileSync(join(dir, 'keys.json'), (await loa(['keys', 'list', '--json'])).stdout);
  const r = await loa(['broker', 'config', '--out', join(dir, 'broker'), '--no-tls']);
  expect(r.code, r.stderr).toBe(0);
  broker = await startMosquitto({ configText: readFileSync(join(dir, 'broker', 'mosquitto.conf'), 'utf8') });
  writeFileSync(fleet, fleetYaml(broker.url, broker.stationUrl));
  copyFileSync(resolve('audio-fixtures/tone-3s.wav'), join(dir, 'tone.wav'));
}, 60_000);

afterAll(async () => {
  for (const c of children) c.kill('SIGKILL');
  for (const c of clients) c.end(true);
  await broker?.stop();
  cleanupTempDirs();
});

describe('loa schedule', () => {
  const good = () =>
    writeFileSync(
      join(dir, 'sched.yaml'),
      stringify({
        items: [
          { id: 'vov1-sang', to: 'all', cron: '30 5 * * *', title: 'VOV1', stream: { urls: ['https://stream.example.vn/vov1.mp3'], durationSec: 1800 } },
          { id: 'tin-sang', to: ['east'], cron: '0 6 * * *', title: 'Tin', file: 'tone.wav' },
          { id: 'thu-hai', to: 'st-c', cron: '0 7 * * 1', tts: { text: 'Thông báo đầu tuần', voice: 'vi' }, zones: ['cho'] },
          { id: 'hop-dan', to: 'west', at: '2030-01-05T07:30:00+07:00', tts: { text: 'Họp dân' } },
        ],
      }),
    );

  it('validate names the file, key path and line of a mistake', async () => {
    good();
    expect((await loa(['schedule', 'validate', join(dir, 'sched.yaml')])).code).toBe(0);
    writeFileSync(
      join(dir, 'bad.yaml'),
      'items:\n  - id: ok\n    to: all\n    cron: "0 6 * * *"\n    file: tone.wav\n  - id: broken\n    to: all\n    cron: "99 6 * * *"\n    file: tone.wav\n',
    );
    const r = await loa(['schedule', 'validate', join(dir, 'bad.yaml')]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(join(dir, 'bad.yaml'));
    expect(r.stderr).toContain('items[1].cron (line 8)');
    writeFileSync(join(dir, 'bad2.yaml'), stringify({ items: [{ id: 'x', to: ['east', 'nowhere'], cron: '0 6 * * *', file: 'tone.wav' }] }));
    const r2 = await loa(['schedule', 'validate', join(dir, 'bad2.yaml')]);
    expect(r2.stderr).toMatch(/items\[0\]\.to\[1\].*nowhere/);
    writeFileSync(join(dir, 'bad3.yaml'), stringify({ items: [{ id: 'x', to: 'st-a', cron: '0 6 * * *', zones: ['cho'], file: 'tone.wav' }] }));
    expect((await loa(['schedule', 'validate', join(dir, 'bad3.yaml')])).stderr).toMatch(/items\[0\]\.zones\[0\].*cho.*st-a/);
  });

  it('next --json is deterministic for a fixed --from', async () => {
    good();
    const args = ['schedule', 'next', join(dir, 'sched.yaml'), '--from', '2030-01-05T00:00:00+07:00', '--count', '3', '--json'];
    const a = await loa(args);
    expect(a.code, a.stderr).toBe(0);
    expect((await loa(args)).stdout).toBe(a.stdout);
    const out = JSON.parse(a.stdout) as { stations: { station: string; next: { itemId: string; plannedAt: string; local: string }[] }[] };
    const c = out.stations.find((s) => s.station === 'st-c')!;
    expect(c.next.map((n) => [n.itemId, n.local])).toEqual([
      ['vov1-sang', '2030-01-05 05:30'],
      ['hop-dan', '2030-01-05 07:30'],
      ['vov1-sang', '2030-01-06 05:30'],
    ]);
    expect(out.stations.find((s) => s.station === 'st-a')!.next[1]).toMatchObject({ itemId: 'tin-sang', plannedAt: '2030-01-04T23:00:00.000Z' });
  });

  it('push publishes signed retained schedules with increasing versions; diff compares', async () => {
    good();
    const c = await central();
    const topics = ['st-a', 'st-b', 'st-c'].map((s) => T.schedule(s));
    const { run, got } = await capture(c, topics, () => loa(['schedule', 'push', join(dir, 'sched.yaml'), '--json']));
    expect(run.code, run.stderr).toBe(0);
    expect(got).toHaveLength(3);
    for (const g of got) {
      const s = g.topic.split('/')[3]!;
      const v = verifyCommand(g.payload, ctx(s, []));
      expect(v.ok, JSON.stringify(v)).toBe(true);
      if (v.ok && v.command.type === 'schedule') expect(v.command.body.version).toBe(1);
    }
    const again = await loa(['schedule', 'push', join(dir, 'sched.yaml'), '--station', 'st-c', '--json']);
    expect(JSON.parse(again.stdout)).toMatchObject([{ station: 'st-c', version: 2, items: 3 }]);
    const diff = JSON.parse((await loa(['schedule', 'diff', join(dir, 'sched.yaml'), '--json'])).stdout) as { station: string; status: string }[];
    expect(diff.map((d) => d.status)).toEqual(['not-applied', 'not-applied', 'not-applied']);
  });

  it('an item may name a clip already in the central store by its sha256 (what the console writes); an unknown one is refused at its key path', async () => {
    good();
    expect((await loa(['schedule', 'push', join(dir, 'sched.yaml'), '--station', 'st-a'])).code).toBe(0); // stores tone.wav
    const sha = createHash('sha256')
      .update(readFileSync(join(dir, 'tone.wav')))
      .digest('hex');
    writeFileSync(join(dir, 'by-sha.yaml'), stringify({ items: [{ id: 'tin-sang', to: 'st-a', cron: '0 6 * * *', media: sha }] }));
    const next = await loa(['schedule', 'next', join(dir, 'by-sha.yaml'), '--from', '2030-01-05T00:00:00+07:00', '--count', '1', '--json']);
    expect(next.code, next.stderr).toBe(0);
    expect(JSON.parse(next.stdout).stations[0].next[0]).toMatchObject({ itemId: 'tin-sang', plannedAt: '2030-01-04T23:00:00.000Z' });
    const c = await central();
    const { run, got } = await capture(c, [T.schedule('st-a')], () => loa(['schedule', 'push', join(dir, 'by-sha.yaml'), '--json']));
    expect(run.code, run.stderr).toBe(0);
    // The last copy on the topic is the new one (a retained earlier schedule may come first).
    const v = verifyCommand(got[got.length - 1]!.payload, ctx('st-a', []));
    expect(v.ok && v.command.type === 'schedule' && v.command.body.items.length === 1 && v.command.body.items[0]!.audio).toMatchObject({ kind: 'media', sha256: sha });
    writeFileSync(join(dir, 'by-bad-sha.yaml'), stringify({ items: [{ id: 'x', to: 'st-a', cron: '0 6 * * *', media: 'f'.repeat(64) }] }));
    const bad = await loa(['schedule', 'push', join(dir, 'by-bad-sha.yaml')]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/items\[0\]\.media/);
  });
});

describe('loa announce and alert', () => {
  it('announce publishes one signed copy per station on the minimal topic set', async () => {
    const c = await central();
    const topics = [T.allCmd(), T.groupCmd('east'), T.groupCmd('west'), ...['st-a', 'st-b', 'st-c'].map((s) => T.stationCmd(s))];
    const { run, got } = await capture(c, topics, () => loa(['announce', join(dir, 'tone.wav'), '--to', 'east,west', '--priority', 'priority', '--json']));
    expect(run.code, run.stderr).toBe(0);
    // east covers st-a and st-b; st-c (west, overlapping st-b) gets its own topic.
    expect(got.map((g) => g.topic).sort()).toEqual([T.groupCmd('east'), T.stationCmd('st-c')].sort());
    const v = verifyCommand(got[0]!.payload, ctx('st-b', ['east', 'west']));
    expect(v.ok, JSON.stringify(v)).toBe(true);
    if (v.ok && v.command.type === 'announce') {
      expect(v.command.body.priority).toBe('priority');
      expect(v.command.target).toEqual({ groups: ['east', 'west'] });
    }
  });

  it('announce --text synthesises speech and publishes the clip retained by its hash', async () => {
    const c = await central();
    const media: string[] = [];
    c.on('message', (topic) => {
      if (topic.startsWith('loa/v1/media/')) media.push(topic);
    });
    await c.subscribeAsync('loa/v1/media/#', { qos: 1 });
    const { run, got } = await capture(c, [T.allCmd()], () => loa(['announce', '--text', 'Xin chào bà con', '--to', 'all']));
    expect(run.code, run.stderr).toBe(0);
    const env = JSON.parse(got[0]!.payload);
    expect(env.body.audio.tts).toEqual({ text: 'Xin chào bà con', voice: 'vi' });
    expect(media).toContain(`loa/v1/media/${env.body.audio.sha256}`);
  });

  it('usage errors exit 2', async () => {
    expect((await loa(['announce', join(dir, 'tone.wav'), '--to', 'mars'])).code).toBe(2);
    expect((await loa(['announce', join(dir, 'tone.wav')])).code).toBe(2);
    expect((await loa(['announce', join(dir, 'tone.wav'), '--text', 'x', '--to', 'all'])).code).toBe(2);
    expect((await loa(['announce', join(dir, 'tone.wav'), '--to', 'all', '--priority', 'emergency'])).code).toBe(2);
    expect((await loa(['announce', join(dir, 'tone.wav'), '--to', 'all', '--repeat', 'lots'])).code).toBe(2);
    expect((await loa(['alert', '--text', 'x'])).code).toBe(2);
  });

  it('a live alert is drafted with one signature and sent only after a second key approves', async () => {
    const c = await central();
    const topics = [T.groupCmd('west')];
    const drafted = await capture(c, topics, () => loa(['alert', '--text', 'Bão số 9 đổ bộ', '--to', 'west', '--json']));
    expect(drafted.run.code, drafted.run.stderr).toBe(0);
    expect(drafted.got).toEqual([]); // nothing on air yet
    const d = JSON.parse(drafted.run.stdout) as { id: string; draft: string; signatures: string[] };
    expect(d.signatures).toEqual(['office']);
    expect((await loa(['alert', 'approve', d.draft, '--key', 'office'])).code).toBe(1); // same person twice
    const sent = await capture(c, topics, () => loa(['alert', 'approve', d.draft, '--key', 'duty'], asDuty));
    expect(sent.run.code, sent.run.stderr).toBe(0);
    expect(sent.got).toHaveLength(1);
    const env = JSON.parse(sent.got[0]!.payload);
    expect(env.sigs.map((s: { key: string }) => s.key)).toEqual(['office', 'duty']);
    expect(verifyCommand(sent.got[0]!.payload, ctx('st-c', ['west'])).ok).toBe(true);
    // The draft cannot be sent a second time.
    expect((await loa(['alert', 'approve', d.draft, '--key', 'duty'], asDuty)).code).toBe(1);
  });

  it("approve refuses a second name for the drafter's key, and an account that also holds the drafter's key", async () => {
    const d = JSON.parse((await loa(['alert', '--text', 'Sạt lở', '--to', 'st-a', '--json'])).stdout) as { draft: string };
    // office-alias: office's public key recorded under another name, its private key in another directory.
    writeFileSync(join(dir, 'keys', 'office-alias.pub'), readFileSync(join(dir, 'keys', 'office.pub')));
    const aliasDir = join(tempDir('loa-cli-alias-'), 'keys');
    mkdirSync(aliasDir, { recursive: true, mode: 0o700 });
    copyFileSync(join(keyDirs.office, 'office.key'), join(aliasDir, 'office-alias.key'));
    const alias = await loa(['alert', 'approve', d.draft, '--key', 'office-alias'], { LOA_KEY_DIR: aliasDir });
    expect(alias.code).toBe(1);
    expect(alias.stderr).toMatch(/same public key as office/);
    rmSync(join(dir, 'keys', 'office-alias.pub'));
    // duty's account holding a copy of office's private key is one person with two keys.
    const both = join(tempDir('loa-cli-both-'), 'keys');
    mkdirSync(both, { recursive: true, mode: 0o700 });
    copyFileSync(join(keyDirs.duty, 'duty.key'), join(both, 'duty.key'));
    copyFileSync(join(keyDirs.office, 'office.key'), join(both, 'office.key'));
    const held = await loa(['alert', 'approve', d.draft, '--key', 'duty'], { LOA_KEY_DIR: both });
    expect(held.code).toBe(1);
    expect(held.stderr).toMatch(/also holds the private key of office/);
    // The draft is still there for the real second official.
    expect(existsSync(d.draft)).toBe(true);
  });

  it('refuses to approve a draft that was changed after signing', async () => {
    const r = await loa(['alert', '--text', 'Lũ quét', '--to', 'st-a', '--json']);
    const d = JSON.parse(r.stdout) as { draft: string };
    const draft = JSON.parse(readFileSync(d.draft, 'utf8'));
    draft.envelopes[0].target = { all: true };
    writeFileSync(d.draft, JSON.stringify(draft));
    const a = await loa(['alert', 'approve', d.draft, '--key', 'duty'], asDuty);
    expect(a.code).toBe(1);
    expect(a.stderr).toMatch(/does not verify/);
  });

  it("a test alert goes out at once with one signature; the preamble is the station's, not the sender's", async () => {
    const c = await central();
    const { run, got } = await capture(c, [T.stationCmd('st-a')], () => loa(['alert', '--text', 'Diễn tập', '--to', 'st-a', '--test']));
    expect(run.code, run.stderr).toBe(0);
    const env = JSON.parse(got[0]!.payload);
    expect(env.body.test).toBe(true);
    expect(env.sigs).toHaveLength(1);
    expect(env.body.audio.tts.text).toBe('Diễn tập');
    expect(verifyCommand(got[0]!.payload, ctx('st-a', ['east'])).ok).toBe(true);
  });

  it('cancelling a live alert is drafted with its correction; the second official sends both, each with two signatures', async () => {
    const c = await central();
    const d = JSON.parse((await loa(['alert', '--text', 'Lũ lớn', '--to', 'east', '--json'])).stdout) as { id: string; draft: string };
    expect((await loa(['alert', 'approve', d.draft, '--key', 'duty'], asDuty)).code).toBe(0);
    const drafted = await capture(c, [T.groupCmd('east')], () => loa(['alert', 'cancel', d.id, '--reason', 'nhầm', '--json']));
    expect(drafted.run.code, drafted.run.stderr).toBe(0);
    expect(drafted.got).toEqual([]); // one official alone cannot stop a live alert
    const cd = JSON.parse(drafted.run.stdout) as { draft: string; cancels: string };
    expect(cd.cancels).toBe(d.id);
    const sent = await capture(c, [T.groupCmd('east')], () => loa(['alert', 'approve', cd.draft, '--key', 'duty', '--json'], asDuty));
    expect(sent.run.code, sent.run.stderr).toBe(0);
    const envs = sent.got.map((g) => JSON.parse(g.payload));
    expect(envs.map((e) => e.type)).toEqual(['cancel', 'alert']);
    expect(envs.map((e) => e.sigs.map((x: { key: string }) => x.key))).toEqual([
      ['office', 'duty'],
      ['office', 'duty'],
    ]);
    expect(envs[1].body).toMatchObject({ correctionOf: d.id, test: false });
    expect(() => JSON.parse(sent.run.stdout)).not.toThrow(); // one JSON document
  });

  it('alert cancel sends a cancel to the original target, then the scripted correction', async () => {
    const r = await loa(['alert', '--text', 'Diễn tập 2', '--to', 'east', '--test', '--json']);
    const id = (JSON.parse(r.stdout) as { id: string }).id;
    const c = await central();
    const { run, got } = await capture(c, [T.groupCmd('east')], () => loa(['alert', 'cancel', id]));
    expect(run.code, run.stderr).toBe(0);
    expect(got.map((g) => JSON.parse(g.payload).type)).toEqual(['cancel', 'alert']);
    expect(JSON.parse(got[0]!.payload).body.broadcastId).toBe(id);
    expect(JSON.parse(got[1]!.payload).body).toMatchObject({ correctionOf: id, test: true });
  });
});

describe('loa collect, --wait, stations, broadcasts, report', () => {
  let db: Database.Database;
  let collectorErr = '';
  const collectorLog = () => collectorErr.slice(-3000);
  const startCollector = async () => {
    const child = spawn(process.execPath, [LOA, '--fleet', fleet, 'collect', '--verbose'], { env: { ...process.env, LANG: 'C' }, stdio: ['ignore', 'pipe', 'pipe'] });
    children.push(child);
    let err = '';
    await new Promise<void>((res, rej) => {
      const timer = setTimeout(() => rej(new Error(`collector did not start: ${err}`)), 10_000);
      child.stderr!.on('data', (d) => {
        err += d;
        collectorErr += d;
        if (err.includes('connected')) {
          clearTimeout(timer);
          res();
        }
      });
    });
  };
  beforeAll(async () => {
    await startCollector();
    db = new Database(join(dir, 'central', 'central.sqlite'), { readonly: true });
  });
  afterAll(() => db?.close());

  it('publishes central/state online, writes acks idempotently and sends receipts after commit', async () => {
    const a = await station('st-a');
    const states: string[] = [];
    const receipts: number[][] = [];
    a.on('message', (topic, p) => {
      if (topic === T.centralState()) states.push(p.toString());
      if (topic === T.receipt('st-a')) receipts.push(JSON.parse(p.toString()).seqs);
    });
    await a.subscribeAsync([T.centralState(), T.receipt('st-a')], { qos: 1 });
    const one = ack('st-a', 'completed', 'announce-x');
    for (let i = 0; i < 3; i++) await a.publishAsync(T.ack('st-a'), JSON.stringify(one), { qos: 1 });
    await a.publishAsync(T.ack('st-a'), JSON.stringify({ ...one, historical: true }), { qos: 1 });
    await eventually(() => receipts.flat().includes(one.seq) && states.length > 0, 'a receipt for the ack and central/state');
    expect(JSON.parse(states[0]!)).toMatchObject({ type: 'central-state', online: true });
    const rows = db.prepare('SELECT COUNT(*) AS n FROM acks WHERE station = ? AND seq = ?').get('st-a', one.seq) as { n: number };
    expect(rows.n).toBe(1);
    expect(receipts.flat()).toContain(one.seq);
  });

  it('--wait follows acks: exit 0 when all started, exit 3 listing the silent station', async () => {
    const a = await station('st-a');
    const b = await station('st-b');
    for (const [cl, id, answer] of [
      [a, 'st-a', true],
      [b, 'st-b', false],
    ] as const) {
      cl.on('message', (_t, p) => {
        const env = JSON.parse(p.toString());
        if (!answer && env.body?.title === 'partial') return;
        void cl.publishAsync(T.ack(id), JSON.stringify(ack(id, 'started', env.id)), { qos: 1 });
      });
      await cl.subscribeAsync([T.groupCmd('east')], { qos: 1 });
    }
    const ok = await loa(['announce', join(dir, 'tone.wav'), '--to', 'east', '--title', 'full', '--wait', '5']);
    expect(ok.code, ok.stderr + ok.stdout).toBe(0);
    expect(ok.stdout).toContain('2/2 started, 0 failed');
    const partial = await loa(['announce', join(dir, 'tone.wav'), '--to', 'east', '--title', 'partial', '--wait', '2', '--json']);
    expect(partial.code).toBe(3);
    expect(JSON.parse(partial.stdout)).toMatchObject({ type: 'announce', stations: ['st-a', 'st-b'], delivery: { delivered: ['st-a'], notDelivered: ['st-b'] } });
    // The collector commits acks on its next tick: wait for the started ack to be there.
    const partialId = JSON.parse(partial.stdout).id as string;
    await eventually(
      () => (db.prepare("SELECT COUNT(*) AS n FROM acks WHERE broadcast_id = ? AND state = 'started'").get(partialId) as { n: number }).n === 1,
      'the started ack committed',
    );
    const list = JSON.parse((await loa(['broadcasts', '--json'])).stdout) as { title: string; delivery: Record<string, number> }[];
    expect(list.find((b) => b.title === 'partial')!.delivery).toMatchObject({ started: 1, 'not-confirmed': 1 });
  });

  it('stations and report give JSON (and CSV) rows per station and broadcast', async () => {
    const c = await station('st-c');
    await c.publishAsync(T.state('st-c'), JSON.stringify({ v: 1, type: 'state', station: 'st-c', online: true, epoch: 3, scheduleVersion: 2 }), { qos: 1, retain: true });
    await c.publishAsync(
      T.telemetry('st-c'),
      JSON.stringify({
        v: 1,
        type: 'telemetry',
        station: 'st-c',
        epoch: 3,
        at: new Date().toISOString(),
        nowPlaying: [],
        queue: 0,
        zones: [],
        diskFreeBytes: 1e9,
        cacheBytes: 0,
        ffmpegOk: true,
        scheduleVersion: 2,
        outboxDepth: 4,
      }),
      { qos: 1 },
    );
    await eventually(
      () =>
        db.prepare("SELECT 1 FROM telemetry WHERE station = 'st-c'").get() !== undefined && db.prepare("SELECT 1 FROM station_state WHERE station = 'st-c'").get() !== undefined,
      'st-c state and telemetry stored',
    );
    const st = await loa(['stations', '--json']);
    expect(st.code, st.stderr).toBe(0);
    const rows = JSON.parse(st.stdout) as { station: string; online: boolean | null; desiredScheduleVersion: number; appliedScheduleVersion: number; outboxDepth: number }[];
    expect(rows.find((r) => r.station === 'st-c')).toMatchObject({ online: true, desiredScheduleVersion: 2, appliedScheduleVersion: 2, outboxDepth: 4 });
    expect((await loa(['stations'])).stdout).toContain('Xã C');

    const today = new Date().toISOString().slice(0, 10);
    const rep = await loa(['report', '--from', '2020-01-01', '--to', '2099-01-01', '--json']);
    expect(rep.code, rep.stderr).toBe(0);
    const report = JSON.parse(rep.stdout) as { title: string; station: string; status: string; test: boolean }[];
    expect(report.filter((r) => r.title === 'full').map((r) => r.status)).toEqual(['started', 'started']);
    expect(report.some((r) => r.test)).toBe(true);
    const csv = await loa(['report', '--from', today, '--to', today, '--csv']);
    expect(csv.stdout.split('\n')[0]).toBe('broadcastId,kind,title,priority,test,station,plannedAt,startedAt,endedAt,status,reason');
    const diff = JSON.parse((await loa(['schedule', 'diff', join(dir, 'sched.yaml'), '--station', 'st-c', '--json'])).stdout);
    expect(diff[0]).toMatchObject({ station: 'st-c', status: 'in-sync', appliedVersion: 2 });
  });

  // Throughput is measured in bench/ (npm run bench); this asserts that nothing is lost.
  it('loses no ack queued at the broker while the collector was down', { timeout: 120_000 }, async () => {
    // Stop the collector: its persistent session makes the broker queue the acks meanwhile.
    const first = children.pop()!;
    first.kill('SIGTERM');
    await new Promise((r) => first.once('exit', r));
    const b = await station('st-b');
    const n = 10_000;
    const base = 1_000_000 * (2 + Math.floor(Math.random() * 1_000_000));
    await Promise.all(
      Array.from({ length: n }, (_, i) =>
        b.publishAsync(T.ack('st-b'), JSON.stringify(ack('st-b', 'completed', 'bulk', { seq: base + i, id: `st-b:${TEST_DB}:${base + i}` })), { qos: 1 }),
      ),
    );
    await startCollector();
    const deadline = Date.now() + 30_000;
    let count = 0;
    while (Date.now() < deadline) {
      count = (db.prepare('SELECT COUNT(*) AS n FROM acks WHERE station = ? AND seq >= ?').get('st-b', base) as { n: number }).n;
      if (count === n) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    if (count !== n) {
      const have = new Set((db.prepare('SELECT seq FROM acks WHERE station = ? AND seq >= ?').all('st-b', base) as { seq: number }[]).map((r) => r.seq - base));
      const missing = Array.from({ length: n }, (_, i) => i).filter((i) => !have.has(i));
      console.log('missing', missing.slice(0, 40), collectorLog());
    }
    expect(count, `rows ${count}`).toBe(n);
  });
});
