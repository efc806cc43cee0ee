// Every central command on PostgreSQL: a fleet file whose `database:` is a postgres:// URL (a
// real server, a database of this test's own), `loa collect` writing it, and `loa announce`,
// `alert` + `alert approve`, `schedule push`/`diff`, `stations` (with its filters and pages),
// `broadcasts`, `report`, `media gc` and `db prune` reading and writing it, as processes.
import { randomBytes } from 'node:crypto';
import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { type Ack, PROTOCOL_VERSION, Topics } from '../protocol/index.js';
import { fixture } from '../support/audio.js';
import { runLoa, startCollector } from '../support/cli.js';
import { type MosquittoBroker, startMosquitto } from '../support/mosquitto.js';
import { createTestDatabase, type TestDatabase } from '../support/postgres.js';
import { cleanupTempDirs, tempDir } from '../support/tmp.js';

const T = new Topics('loa/v1');
const DAY = 86_400_000;
const dir = tempDir('loa-cli-pg-');
const fleet = join(dir, 'fleet.yaml');
const officeKeys = join(tempDir('loa-cli-pg-office-'), 'keys');
const dutyKeys = join(tempDir('loa-cli-pg-duty-'), 'keys');
const loa = (args: string[]) => runLoa(fleet, args, { LOA_KEY_DIR: officeKeys });
const duty = (args: string[]) => runLoa(fleet, args, { LOA_KEY_DIR: dutyKeys });
const STATIONS = ['st-a', 'st-b', 'st-c', 'st-d', 'st-e'];

let pgdb: TestDatabase;
let broker: MosquittoBroker;
let collector: Awaited<ReturnType<typeof startCollector>> | undefined;
const clients: MqttClient[] = [];

function fleetYaml(url: string, stationUrl = url): string {
  return stringify({
    broker: { urls: [url], stationUrls: [stationUrl], passwordFile: 'secrets/central.password', listener: { stationPort: 1884 } },
    database: pgdb.url,
    signers: [
      { key: 'office', allow: ['schedule', 'announce', 'alert', 'cancel', 'control'] },
      { key: 'duty', allow: ['alert', 'cancel'] },
    ],
    defaultKey: 'office',
    groups: [{ id: 'east', name: 'Đông' }],
    stations: STATIONS.map((id, i) => ({ id, name: `Phường ${id}`, groups: i < 3 ? ['east'] : [] })),
  });
}

const secret = (p: string) => readFileSync(join(dir, 'secrets', p), 'utf8').trim();

async function asStation(id: string): Promise<MqttClient> {
  const c = await mqtt.connectAsync(broker.stationUrl!, { username: id, password: secret(`stations/${id}.password`), clientId: id, protocolVersion: 4, reconnectPeriod: 0 });
  clients.push(c);
  return c;
}

function ack(station: string, db: string, seq: number, state: Ack['state'], id: string, extra: Partial<Ack> = {}): Ack {
  return {
    v: PROTOCOL_VERSION,
    type: 'ack',
    id: `${station}:${db}:${seq}`,
    station,
    db,
    seq,
    epoch: 1,
    state,
    commandId: id,
    broadcastId: id,
    zones: ['main'],
    at: new Date().toISOString(),
    startedAt: new Date().toISOString(),
    historical: false,
    ...extra,
  };
}

async function until<T>(what: string, check: () => Promise<T | undefined | false> | T | undefined | false, ms = 15_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await check();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}\n${collector?.log().slice(-2000) ?? ''}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function ok(r: Promise<{ code: number; stdout: string; stderr: string }>): Promise<string> {
  const x = await r;
  expect(x.code, x.stderr + x.stdout).toBe(0);
  return x.stdout;
}

beforeAll(async () => {
  pgdb = await createTestDatabase('loa_cli');
  writeFileSync(fleet, fleetYaml('mqtt://127.0.0.1:1'));
  await ok(loa(['keys', 'init', 'office']));
  await ok(duty(['keys', 'init', 'duty']));
  await ok(loa(['broker', 'config', '--out', join(dir, 'broker'), '--no-tls']));
  broker = await startMosquitto({ confFile: join(dir, 'broker', 'mosquitto.conf') });
  writeFileSync(fleet, fleetYaml(broker.url, broker.stationUrl));
  copyFileSync(fixture('tone-3s.wav'), join(dir, 'tone.wav'));
  collector = await startCollector(fleet);
}, 60_000);

afterAll(async () => {
  for (const c of clients) c.end(true);
  await collector?.stop();
  await broker?.stop();
  await pgdb?.drop();
  cleanupTempDirs();
});

describe('the central commands on PostgreSQL', () => {
  it('announce records the broadcast and its clip; acks from stations are collected idempotently and shown by broadcasts and report', async () => {
    const sent = JSON.parse(await ok(loa(['announce', join(dir, 'tone.wav'), '--to', 'east', '--title', 'Họp dân', '--json']))) as { id: string; stations: string[] };
    expect(sent.stations).toEqual(['st-a', 'st-b', 'st-c']);
    expect(await pgdb.query('SELECT id, status, title FROM broadcasts')).toEqual([{ id: sent.id, status: 'sent', title: 'Họp dân' }]);
    expect(await pgdb.query('SELECT count(*) AS n FROM media WHERE cleared_at IS NULL')).toEqual([{ n: 1 }]);
    const D = randomBytes(8).toString('hex');
    for (const [i, id] of ['st-a', 'st-b'].entries()) {
      const c = await asStation(id);
      await c.publishAsync(T.state(id), JSON.stringify({ v: 1, type: 'state', station: id, online: true, epoch: 1 }), { qos: 1, retain: true });
      for (const [k, state] of (['received', 'started', 'completed'] as const).entries())
        await c.publishAsync(T.ack(id), JSON.stringify(ack(id, D, 10 * i + k + 1, state, sent.id)), { qos: 1 });
      // The same ack again (an outbox replay): one row.
      await c.publishAsync(T.ack(id), JSON.stringify({ ...ack(id, D, 10 * i + 1, 'received', sent.id), historical: true }), { qos: 1 });
    }
    await until('6 acks in PostgreSQL', async () => (await pgdb.query<{ n: number }>('SELECT count(*) AS n FROM acks'))[0]!.n === 6);
    const b = (JSON.parse(await ok(loa(['broadcasts', '--json']))) as { id: string; delivery: Record<string, number> }[]).find((x) => x.id === sent.id);
    expect(b?.delivery).toEqual({ confirmed: 2, 'not-confirmed': 1 });
    const rep = JSON.parse(await ok(loa(['report', '--from', '2020-01-01', '--to', '2099-01-01', '--json']))) as { broadcastId: string; station: string; status: string }[];
    expect(rep.filter((r) => r.broadcastId === sent.id).map((r) => [r.station, r.status])).toEqual([
      ['st-a', 'confirmed'],
      ['st-b', 'confirmed'],
      ['st-c', 'not-confirmed'],
    ]);
    expect(await ok(loa(['report', '--from', '2020-01-01', '--to', '2099-01-01', '--csv']))).toMatch(/^broadcastId,kind,title/);
  });

  it('a re-sent ack with different content is a conflict in ack_conflicts, counted by loa stations', async () => {
    const D = randomBytes(8).toString('hex');
    const c = await asStation('st-c');
    const first = ack('st-c', D, 1, 'started', 'conflict-x');
    await c.publishAsync(T.ack('st-c'), JSON.stringify(first), { qos: 1 });
    await c.publishAsync(T.ack('st-c'), JSON.stringify({ ...first, state: 'failed', reason: 'x' }), { qos: 1 });
    await until('the conflict row', async () => (await pgdb.query<{ n: number }>('SELECT count(*) AS n FROM ack_conflicts WHERE db = $1', [D]))[0]!.n === 1);
    const rows = JSON.parse(await ok(loa(['stations', '--json']))) as { station: string; ackConflicts: number }[];
    expect(rows.find((r) => r.station === 'st-c')!.ackConflicts).toBe(1);
  });

  it('loa stations filters by group and by offline, and pages with --limit/--page', async () => {
    const all = JSON.parse(await ok(loa(['stations', '--json']))) as { station: string; online: boolean | null }[];
    expect(all.map((r) => r.station)).toEqual(STATIONS);
    const east = JSON.parse(await ok(loa(['stations', '--group', 'east', '--json']))) as { station: string }[];
    expect(east.map((r) => r.station)).toEqual(['st-a', 'st-b', 'st-c']);
    const offline = JSON.parse(await ok(loa(['stations', '--offline', '--json']))) as { station: string }[];
    expect(offline.map((r) => r.station)).toEqual(['st-c', 'st-d', 'st-e']);
    const eastOffline = JSON.parse(await ok(loa(['stations', '--group', 'east', '--offline', '--json']))) as { station: string }[];
    expect(eastOffline.map((r) => r.station)).toEqual(['st-c']);
    const page2 = JSON.parse(await ok(loa(['stations', '--limit', '2', '--page', '2', '--json']))) as { station: string }[];
    expect(page2.map((r) => r.station)).toEqual(['st-c', 'st-d']);
    const table = await ok(loa(['stations', '--limit', '2', '--page', '3']));
    expect(table).toContain('st-e');
    expect(table).not.toContain('st-a');
    expect(table).toContain('page 3 of 3: stations 5-5 of 5');
    expect((await loa(['stations', '--group', 'nowhere'])).code).toBe(2);
    expect((await loa(['stations', '--page', '2'])).code).toBe(2);
  });

  it('a live alert is drafted, approved by a second key and sent; its seq comes from PostgreSQL', async () => {
    const draft = await ok(loa(['alert', join(dir, 'tone.wav'), '--to', 'st-d', '--title', 'Bão', '--json']));
    const { draft: file, id } = JSON.parse(draft) as { draft: string; id: string };
    expect(await pgdb.query('SELECT status FROM broadcasts WHERE id = $1', [id])).toEqual([{ status: 'draft' }]);
    const sent = JSON.parse(await ok(duty(['alert', 'approve', file, '--key', 'duty', '--json']))) as { id: string; signatures: string[] };
    expect(sent.signatures).toEqual(['office', 'duty']);
    expect(await pgdb.query('SELECT status FROM broadcasts WHERE id = $1', [id])).toEqual([{ status: 'sent' }]);
    // The drafter's seq came from PostgreSQL; the second signature co-signs the same envelope.
    const seqs = await pgdb.query<{ issuer: string; seq: number }>('SELECT issuer, seq FROM issuer_seq ORDER BY issuer');
    expect(seqs.map((s) => s.issuer)).toEqual(['office']);
    expect(seqs[0]!.seq).toBeGreaterThan(Date.now() - 600_000);
  });

  it('schedule push records versions in PostgreSQL; diff compares against them', async () => {
    writeFileSync(join(dir, 'sched.yaml'), stringify({ items: [{ id: 'tin-sang', to: ['east'], cron: '0 6 * * *', title: 'Tin', file: 'tone.wav' }] }));
    const pushed = JSON.parse(await ok(loa(['schedule', 'push', join(dir, 'sched.yaml'), '--json']))) as { station: string; version: number }[];
    expect(pushed.map((p) => [p.station, p.version])).toEqual([
      ['st-a', 1],
      ['st-b', 1],
      ['st-c', 1],
    ]);
    const again = JSON.parse(await ok(loa(['schedule', 'push', join(dir, 'sched.yaml'), '--station', 'st-a', '--json']))) as { version: number }[];
    expect(again[0]!.version).toBe(2);
    const diff = JSON.parse(await ok(loa(['schedule', 'diff', join(dir, 'sched.yaml'), '--json']))) as { station: string; status: string; pushedVersion: number }[];
    expect(diff.map((d) => [d.station, d.pushedVersion, d.status])).toEqual([
      ['st-a', 2, 'not-applied'],
      ['st-b', 1, 'not-applied'],
      ['st-c', 1, 'not-applied'],
    ]);
  });

  it('media gc and db prune work on PostgreSQL', async () => {
    const dry = JSON.parse(await ok(loa(['media', 'gc', '--dry-run', '--json']))) as { dryRun: boolean; cleared: string[]; kept: number };
    expect(dry).toMatchObject({ dryRun: true, cleared: [] });
    expect(dry.kept).toBeGreaterThanOrEqual(1);
    // A clip published long ago that nothing references any more is cleared.
    const old = Date.now() - 30 * DAY;
    await pgdb.query('UPDATE media SET published_at = $1', [old]);
    await pgdb.query('UPDATE broadcasts SET created_at = $1, sent_at = $1, planned_at = $1', [old]);
    await pgdb.query('DELETE FROM pushed_schedules');
    const gc = JSON.parse(await ok(loa(['media', 'gc', '--json']))) as { cleared: string[] };
    expect(gc.cleared).toHaveLength(1);
    expect(await pgdb.query('SELECT count(*) AS n FROM media WHERE cleared_at IS NULL')).toEqual([{ n: 0 }]);

    const D = randomBytes(8).toString('hex');
    await pgdb.query(
      `INSERT INTO acks (station, db, seq, epoch, state, at, received_at, json) VALUES ('st-e', $1, 1, 1, 'completed', 'x', $2, '{}'), ('st-e', $1, 2, 1, 'completed', 'x', $3, '{}')`,
      [D, Date.now() - 500 * DAY, Date.now()],
    );
    const pruned = JSON.parse(await ok(loa(['db', 'prune', '--older-than', '400d', '--json']))) as { deleted: Record<string, number> };
    expect(pruned.deleted.acks).toBe(1);
    expect(await pgdb.query('SELECT seq FROM acks WHERE db = $1', [D])).toEqual([{ seq: 2 }]);
  });

  it('an unreachable PostgreSQL is one clear error line and exit 1', async () => {
    const bad = join(dir, 'bad-fleet.yaml');
    writeFileSync(bad, fleetYaml(broker.url, broker.stationUrl).replace(pgdb.url, 'postgres://nobody:secret@127.0.0.1:1/nowhere'));
    const r = await runLoa(bad, ['stations']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^loa: cannot open the central database postgres:\/\/nobody:\*\*\*@127\.0\.0\.1:1\/nowhere: /);
    expect(r.stderr).not.toContain('secret');
  });
});
