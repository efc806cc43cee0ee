// A ward broker bridged to the central one, both real Mosquitto processes configured by
// `loa broker config` (the central one, and `--bridge edge-1` for the ward). A real
// `loa-station` connects only to the ward broker; two `loa collect --shared` write one real
// PostgreSQL database. Commands reach the station through the bridge and its acks reach the
// collectors; the bridge user can do on the central broker exactly what its station can; with the
// link down (a TCP pass-through cut, both brokers running) a scheduled item still airs, and its
// acks arrive once the link is back.
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { type Ack, occurrenceId, Topics } from '../protocol/index.js';
import { fixture } from '../support/audio.js';
import { runLoa } from '../support/cli.js';
import { type MosquittoBroker, startMosquitto } from '../support/mosquitto.js';
import { createTestDatabase, type TestDatabase } from '../support/postgres.js';
import { type Central, centralAcks, cleanupTemp, LOA_BIN, type Proc, type Station, spawnProc, startStation, tempDir, until } from '../support/proof/lib.js';
import { makeKey, TestController } from '../support/station.js';
import { startTcpProxy, type TcpProxy } from '../support/tcp-proxy.js';

const T = new Topics();
const key = makeKey('office', ['schedule', 'announce', 'alert', 'cancel', 'control']);
const dir = tempDir('bridge');
const fleetFile = path.join(dir, 'fleet.yaml');

let pgdb: TestDatabase;
let central: MosquittoBroker;
let edge: MosquittoBroker;
let link: TcpProxy;
let ctl: TestController;
let station: Station;
let centralView: Central;
const collectors: Proc[] = [];

function fleetYaml(url: string, stationUrl: string, database: string, edgeUrl: string): string {
  return stringify({
    broker: { urls: [url], stationUrls: [stationUrl], passwordFile: 'secrets/central.password', listener: { stationPort: 1884 } },
    database,
    groups: [{ id: 'east', name: 'Đông' }],
    stations: [
      { id: 'st-edge', name: 'Phường cầu nối', groups: ['east'] },
      { id: 'st-direct', name: 'Phường trực tiếp', groups: ['east'] },
    ],
    bridges: [{ id: 'edge-1', stations: ['st-edge'], stationUrls: [edgeUrl] }],
  });
}

const secret = (p: string) => readFileSync(path.join(dir, 'secrets', p), 'utf8').trim();

async function loaOk(args: string[]): Promise<string> {
  const r = await runLoa(fleetFile, args);
  if (r.code !== 0) throw new Error(`loa ${args.join(' ')} exited ${r.code}: ${r.stderr}${r.stdout}`);
  return r.stdout;
}

/** States of the acks for `id` still in the station's outbox (not receipted by central). */
function outboxStates(id: string): string[] {
  const db = new Database(station.dbPath, { readonly: true, fileMustExist: true });
  try {
    db.pragma('busy_timeout = 5000');
    return (db.prepare('SELECT ack FROM outbox').all() as { ack: string }[])
      .map((r) => JSON.parse(r.ack) as Ack)
      .filter((a) => a.broadcastId === id)
      .map((a) => a.state);
  } finally {
    db.close();
  }
}

function outboxAll(): unknown[] {
  const db = new Database(station.dbPath, { readonly: true, fileMustExist: true });
  try {
    return (db.prepare('SELECT seq, sent, ack FROM outbox').all() as { ack: string }[]).map((r) => ({ ...r, ack: JSON.parse(r.ack).state + ' ' + JSON.parse(r.ack).broadcastId }));
  } finally {
    db.close();
  }
}

const acksOf = async (id: string) => (await centralAcks(centralView)).filter((a) => a.commandId === id || a.broadcastId === id);

beforeAll(async () => {
  pgdb = await createTestDatabase('loa_bridge');
  writeFileSync(fleetFile, fleetYaml('mqtt://127.0.0.1:1', 'mqtt://127.0.0.1:1', pgdb.url, 'mqtt://127.0.0.1:1'));
  await loaOk(['broker', 'config', '--out', path.join(dir, 'central-broker'), '--no-tls']);
  central = await startMosquitto({ confFile: path.join(dir, 'central-broker', 'mosquitto.conf') });
  link = await startTcpProxy(Number(new URL(central.stationUrl!).port));
  // The ward broker's bridge goes through the cuttable link to the central station listener.
  const edgeOut = JSON.parse(
    await loaOk([
      'broker',
      'config',
      '--bridge',
      'edge-1',
      '--bridge-to',
      `mqtt://127.0.0.1:${link.port}`,
      '--out',
      path.join(dir, 'edge-broker'),
      '--no-tls',
      '--station-port',
      '1885',
      '--json',
    ]),
  ) as { conf: string; topics: string[]; stations: string[] };
  expect(edgeOut.stations).toEqual(['st-edge']);
  edge = await startMosquitto({ confFile: edgeOut.conf });
  writeFileSync(fleetFile, fleetYaml(central.url, central.stationUrl!, pgdb.url, edge.stationUrl!));
  for (const id of ['c1', 'c2']) {
    const p = spawnProc(LOA_BIN, ['--fleet', fleetFile, 'collect', '--shared', 'collectors', '--client-id', id]);
    collectors.push(p);
    await p.waitForLog(/connected/, 20_000);
  }
  centralView = {
    dir,
    fleetFile,
    broker: central,
    stationUrl: edge.stationUrl!,
    brokerDir: path.join(dir, 'central-broker'),
    centralUser: 'loa-central',
    centralPassword: secret('central.password'),
    stationPassword: (id) => secret(`stations/${id}.password`),
    bridgePassword: (id) => secret(`bridges/${id}.password`),
    database: pgdb.url,
    stop: async () => undefined,
  };
  ctl = await TestController.connect(central.url, { username: 'loa-central', password: secret('central.password') });
  // The station knows only the ward broker (its station listener, its own credentials).
  station = await startStation(centralView, { id: 'st-edge', groups: ['east'], keys: [key] });
}, 120_000);

afterAll(async () => {
  await ctl?.close().catch(() => undefined);
  await station?.stop();
  for (const c of collectors) await c.stop();
  await edge?.stop();
  await link?.close();
  await central?.stop();
  await centralView?.stop();
  await pgdb?.drop();
  cleanupTemp();
});

describe('a ward broker bridged to the central one', () => {
  it('the edge config passes exactly the station topics, and the bridge logs in as its own user', () => {
    const conf = readFileSync(path.join(dir, 'edge-broker', 'mosquitto.conf'), 'utf8');
    const topics = conf.split('\n').filter((l) => l.startsWith('topic '));
    expect(topics.sort()).toEqual(
      [
        `topic ${T.ack('st-edge')} out 1`,
        `topic ${T.state('st-edge')} out 1`,
        `topic ${T.telemetry('st-edge')} out 0`,
        `topic ${T.stationCmd('st-edge')} in 1`,
        `topic ${T.schedule('st-edge')} in 1`,
        `topic ${T.receipt('st-edge')} in 1`,
        `topic ${T.groupCmd('east')} in 1`,
        `topic ${T.allCmd()} in 1`,
        `topic ${T.root}/media/# in 1`,
        `topic ${T.centralState()} in 1`,
        `topic ${T.prefetch()} in 1`,
      ].sort(),
    );
    expect(conf).toContain('remote_username edge-1');
    expect(conf).toContain(`remote_password ${secret('bridges/edge-1.password')}`);
    expect(readFileSync(path.join(dir, 'edge-broker', 'passwd'), 'utf8')).toMatch(/^st-edge:\$7\$/);
    expect(readFileSync(path.join(dir, 'edge-broker', 'passwd'), 'utf8')).not.toContain('st-direct');
  });

  it('commands reach the station through the bridge (its own cmd topic and its group); its acks reach the collectors and their receipts come back', async () => {
    const tone = await ctl.publishMedia(fixture('tone-3s.wav'));
    const direct = ctl.envelope('announce', { title: 'qua cầu', audio: { kind: 'media', ...tone } }, { stations: ['st-edge'] }, key);
    await ctl.send('st-edge', direct);
    const group = ctl.envelope('announce', { title: 'cụm đông', audio: { kind: 'media', ...tone } }, { groups: ['east'] }, key);
    await ctl.client.publishAsync(T.groupCmd('east'), JSON.stringify(group), { qos: 1 });
    for (const env of [direct, group]) {
      await until(async () => (await acksOf(env.id)).some((a) => a.state === 'completed'), 60_000, `${env.id} completed at central`);
      expect((await acksOf(env.id)).map((a) => a.state).sort()).toEqual(['completed', 'received', 'scheduled', 'started']);
    }
    await until(() => station.outboxDepth() === 0, 20_000, 'the station outbox drained by receipts through the bridge');
    const rows = await pgdb.query<{ station: string; online: number }>('SELECT station, online FROM station_state');
    expect(rows).toContainEqual({ station: 'st-edge', online: 1 });
  });

  it('the bridge user may write only its stations’ state/telemetry/ack on the central broker (a positive control follows the refused ones)', async () => {
    const seen: string[] = [];
    // Only what the thief sends ('x'): central/state and real station traffic flow here too.
    const watcher = await mqtt.connectAsync(central.url, { username: 'loa-central', password: secret('central.password'), clientId: 't-watch-bridge', protocolVersion: 4 });
    watcher.on('message', (topic, payload) => {
      if (payload.toString() === 'x' || payload.toString() === 'positive control') seen.push(topic);
    });
    await watcher.subscribeAsync([`${T.root}/#`], { qos: 1 });
    // Logging in as the bridge user (on the station listener: client id = user name) takes over
    // the bridge's session for a moment; the real bridge reconnects afterwards.
    const thief = await mqtt.connectAsync(central.stationUrl!, {
      username: 'edge-1',
      password: secret('bridges/edge-1.password'),
      clientId: 'whatever',
      protocolVersion: 4,
      reconnectPeriod: 0,
    });
    const refused = [
      T.ack('st-direct'),
      T.state('st-direct'),
      T.stationCmd('st-edge'),
      T.allCmd(),
      T.schedule('st-edge'),
      T.receipt('st-edge'),
      T.centralState(),
      `${T.root}/media/${'0'.repeat(64)}`,
    ];
    for (const topic of refused) await thief.publishAsync(topic, 'x', { qos: 1 });
    await thief.publishAsync(T.telemetry('st-edge'), 'positive control', { qos: 1 });
    await until(() => seen.includes(T.telemetry('st-edge')), 10_000, 'the positive control');
    await thief.endAsync();
    await watcher.endAsync();
    expect(seen.filter((t) => refused.includes(t))).toEqual([]);
  });

  it('with the link down a scheduled item airs on time; its acks reach the collectors when the link is back', async () => {
    const tone = await ctl.publishMedia(fixture('tone-3s.wav'));
    const at = Math.ceil((Date.now() + 15_000) / 1000) * 1000;
    const item = { id: 'link-down', at: new Date(at).toISOString(), title: 'khi mất liên lạc', maxDurationSec: 2, audio: { kind: 'media', ...tone } };
    const sched = ctl.envelope('schedule', { station: 'st-edge', version: 1, tz: 'Asia/Ho_Chi_Minh', items: [item] }, { stations: ['st-edge'] }, key);
    await ctl.pushSchedule('st-edge', sched);
    await until(async () => (await acksOf(sched.id)).some((a) => a.state === 'applied'), 30_000, 'schedule applied, acked through the bridge');
    const id = occurrenceId(item.id, at);
    // The clip must be in the station's cache before the link goes: it cannot be fetched after.
    await station.proc.waitForLog(new RegExp(`${tone.sha256}.*"msg":"media prepared"|"msg":"media prepared".*${tone.sha256}`), 30_000);
    expect(Date.now()).toBeLessThan(at - 5000);
    link.cut();
    // Aired with the link down: the recording, and its acks waiting in the station's outbox.
    await until(() => station.wavs().some((f) => f.includes(id)), 30_000, `${id} aired at the station`);
    // `scheduled` may have gone before the cut; started and completed cannot have.
    await until(
      () => ['started', 'completed'].every((s) => outboxStates(id).includes(s)),
      20_000,
      () => `started and completed waiting at the ward; outbox ${JSON.stringify(outboxAll())}, wavs ${station.wavs().join(' ')}`,
    );
    expect(await acksOf(id)).toEqual([]);
    link.restore();
    // Two collectors share the acks, so started and completed may be committed in either order.
    await until(
      async () => {
        const states = (await acksOf(id)).map((a) => a.state);
        return (['scheduled', 'started', 'completed'] as const).every((st) => states.includes(st));
      },
      90_000,
      `${id} scheduled, started and completed at central after the link returned`,
    );
    const rows = await acksOf(id);
    expect(rows.map((a) => a.state).sort()).toEqual(['completed', 'scheduled', 'started']);
    const s = rows.find((a) => a.state === 'started')!;
    expect(Math.abs(Date.parse(s.startedAt!) - at)).toBeLessThan(1500);
    await until(() => station.outboxDepth() === 0, 30_000, 'outbox drained by receipts after the link returned');
  }, 180_000);
});
