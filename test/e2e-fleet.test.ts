import { copyFileSync, existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { parse, stringify } from 'yaml';
import { Ack, Topics } from '../protocol/index.js';
import { fixture } from '../support/audio.js';
import { runLoa, startCollector } from '../support/cli.js';
import { type MosquittoBroker, startMosquitto } from '../support/mosquitto.js';
import { until } from '../support/proof/lib.js';
import { listWavs, type StationProcess, startStation } from '../support/station.js';
import { tempDir } from '../support/tmp.js';

// The whole system: `loa broker config` output on a real mosquitto, `loa provision`ed real
// daemons, the real collector, and `loa` commands as a ward office would type them.
describe('loa + loa-station end to end', () => {
  let dir: string;
  let fleet: string;
  let broker: MosquittoBroker;
  let collector: Awaited<ReturnType<typeof startCollector>>;
  const stations = new Map<string, StationProcess>();
  const ids = ['phuong-a', 'phuong-b', 'xa-c'];
  const keyDirs = { office: '', duty: '' };
  const loa = (...args: string[]) => runLoa(fleet, args, { LOA_KEY_DIR: keyDirs.office });
  /** The second official, in their own account (their own key directory). */
  const duty = (...args: string[]) => runLoa(fleet, args, { LOA_KEY_DIR: keyDirs.duty });

  beforeAll(async () => {
    dir = tempDir('loa-e2e-');
    keyDirs.office = path.join(tempDir('loa-e2e-office-'), 'keys');
    keyDirs.duty = path.join(tempDir('loa-e2e-duty-'), 'keys');
    fleet = path.join(dir, 'fleet.yaml');
    const port = 1; // replaced below once the broker has its ports
    writeFileSync(
      fleet,
      stringify({
        broker: {
          urls: [`mqtt://127.0.0.1:${port}`],
          stationUrls: [`mqtt://127.0.0.1:${port}`],
          username: 'loa-central',
          passwordFile: 'secrets/central.password',
          listener: { stationPort: 1884 },
        },
        signers: [
          { key: 'office', allow: ['schedule', 'announce', 'alert', 'cancel', 'control'] },
          { key: 'duty', allow: ['alert', 'cancel'] },
        ],
        defaultKey: 'office',
        alertQuorum: 2,
        stationDefaults: { dataDir: 'unused', output: { type: 'null' }, defaultVolume: 80, maxVolume: 100 },
        groups: [{ id: 'dong', name: 'Đông' }],
        stations: ids.map((id) => ({ id, name: `Trạm ${id}`, groups: id === 'xa-c' ? [] : ['dong'] })),
      }),
    );
    expect((await loa('keys', 'init', 'office')).code).toBe(0);
    expect((await duty('keys', 'init', 'duty')).code).toBe(0);
    const cfg = await loa('broker', 'config', '--out', path.join(dir, 'broker'), '--no-tls');
    expect(cfg.code, cfg.stderr).toBe(0);
    broker = await startMosquitto({ configText: readFileSync(path.join(dir, 'broker', 'mosquitto.conf'), 'utf8') });
    const f = parse(readFileSync(fleet, 'utf8'));
    f.broker.urls = [broker.url];
    f.broker.stationUrls = [broker.stationUrl];
    writeFileSync(fleet, stringify(f));
    for (const id of ids) {
      const p = await loa('provision', id, '--out', path.join(dir, 'boxes', id));
      expect(p.code, p.stderr).toBe(0);
    }
    await broker.restart(); // the broker reloads the rotated password file
    for (const id of ids) {
      const file = path.join(dir, 'boxes', id, 'station.yaml');
      const s = parse(readFileSync(file, 'utf8'));
      // What a technician sets per box: where data lives and what the speakers are.
      s.dataDir = path.join(dir, 'boxes', id, 'data');
      s.zones = s.zones.map((z: { id: string }) => ({ ...z, output: { type: 'file', dir: path.join(dir, 'boxes', id, 'out') } }));
      s.telemetrySec = 1;
      writeFileSync(file, stringify(s));
      const st = startStation(file);
      stations.set(id, st);
      await st.waitForLog(/"msg":"subscribed"/);
    }
    collector = await startCollector(fleet);
    copyFileSync(fixture('tone-3s.wav'), path.join(dir, 'tone.wav'));
  }, 120_000);

  afterAll(async () => {
    await collector?.stop();
    await Promise.all([...stations.values()].map((s) => s.stop()));
    await broker?.stop();
  });

  test('announce to a group and a station: every station airs it, exit 0, JSON delivery', async () => {
    const r = await loa('announce', path.join(dir, 'tone.wav'), '--to', 'dong,xa-c', '--title', 'Họp dân', '--wait', '40', '--json');
    expect(r.code, r.stderr + r.stdout).toBe(0);
    for (const id of ids) expect(listWavs(path.join(dir, 'boxes', id, 'out'))).toHaveLength(1);
    const rows = JSON.parse((await loa('stations', '--json')).stdout) as { station: string; online: boolean }[];
    expect(rows.map((x) => [x.station, x.online])).toEqual(ids.map((id) => [id, true]));
  });

  test('control volume reaches the station: its zone volume becomes 40; a bad action is a usage error', async () => {
    const r = await loa('control', 'volume', '--to', 'phuong-a', '--volume', '40', '--json');
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ action: 'volume', stations: ['phuong-a'] });
    const telemetryVolume = async () => {
      const topics = new Topics();
      const password = readFileSync(path.join(dir, 'secrets', 'central.password'), 'utf8').trim();
      const c = await mqtt.connectAsync(broker.url, { username: 'loa-central', password, clean: true });
      try {
        return await new Promise<number>((resolve) => {
          c.on('message', (_t, p) => resolve(JSON.parse(p.toString()).zones[0].volume));
          void c.subscribeAsync(topics.telemetry('phuong-a'), { qos: 0 });
        });
      } finally {
        await c.endAsync();
      }
    };
    for (let i = 0; i < 20 && (await telemetryVolume()) !== 40; i++);
    expect(await telemetryVolume()).toBe(40);
    expect((await loa('control', 'louder', '--to', 'phuong-a')).code).toBe(2);
  });

  test('one station down: exit 3 and it is listed', async () => {
    await stations.get('xa-c')!.stop();
    const r = await loa('announce', path.join(dir, 'tone.wav'), '--to', 'all', '--wait', '15');
    expect(r.code).toBe(3);
    expect(r.stdout + r.stderr).toContain('xa-c');
    const st = startStation(path.join(dir, 'boxes', 'xa-c', 'station.yaml'));
    stations.set('xa-c', st);
    await st.waitForLog(/"msg":"subscribed"/);
  });

  test("two-person alert: the draft's clip is on every box before approval and nothing airs; a single-signed live alert is rejected by stations; approved, it airs; cancel stops it", async () => {
    // A clip no station has yet, so the prefetch is what brings it.
    copyFileSync(fixture('speech-vi.wav'), path.join(dir, 'bao.wav'));
    const draft = await loa('alert', path.join(dir, 'bao.wav'), '--to', 'all', '--title', 'Bão số 9');
    expect(draft.code, draft.stderr).toBe(0);
    const draftPath = (draft.stdout + draft.stderr).match(/(\S+\.json)/)![1]!;
    const env = JSON.parse(readFileSync(draftPath, 'utf8')).envelopes[0];
    expect(env.sigs).toHaveLength(1);
    const sha = env.body.audio.sha256 as string;
    for (const id of ids) {
      await stations.get(id)!.waitForLog(new RegExp(`"sha":"${sha}","msg":"draft prefetch: fetching`), 20_000);
      await until(
        () => existsSync(path.join(dir, 'boxes', id, 'data', 'cache')) && readdirSync(path.join(dir, 'boxes', id, 'data', 'cache')).some((f) => f.startsWith(sha)),
        30_000,
        `${id} prepared the draft's clip`,
      );
    }
    // Prepared everywhere, aired nowhere: a hint is never a broadcast.
    for (const id of ids) expect(listWavs(path.join(dir, 'boxes', id, 'out')).filter((f) => f.includes(env.id))).toEqual([]);

    // Someone publishes the half-signed draft directly with the central credentials.
    const topics = new Topics();
    const password = readFileSync(path.join(dir, 'secrets', 'central.password'), 'utf8').trim();
    const c = await mqtt.connectAsync(broker.url, { username: 'loa-central', password, clean: true });
    const acks: Ack[] = [];
    c.on('message', (_t, p) => acks.push(Ack.parse(JSON.parse(p.toString()))));
    await c.subscribeAsync(topics.allAcks(), { qos: 1 });
    await c.publishAsync(topics.stationCmd('phuong-a'), JSON.stringify(env), { qos: 1 });
    for (let i = 0; i < 100 && !acks.some((a) => a.commandId === env.id && a.state === 'rejected'); i++) await new Promise((r) => setTimeout(r, 100));
    expect(acks.find((a) => a.commandId === env.id && a.state === 'rejected')?.reason).toBe('quorum_not_met');
    await c.endAsync();

    const before = listWavs(path.join(dir, 'boxes', 'phuong-a', 'out')).length;
    const ok = await duty('alert', 'approve', draftPath, '--key', 'duty', '--wait', '40');
    expect(ok.code, ok.stderr + ok.stdout).toBe(0);
    expect(listWavs(path.join(dir, 'boxes', 'phuong-a', 'out')).length).toBe(before + 1);

    const cancelDraft = await loa('alert', 'cancel', env.id, '--key', 'office', '--json');
    expect(cancelDraft.code, cancelDraft.stderr).toBe(0);
    const cancel = await duty('alert', 'approve', JSON.parse(cancelDraft.stdout).draft, '--key', 'duty', '--wait', '40');
    expect(cancel.code, cancel.stderr + cancel.stdout).toBe(0);
    const report = JSON.parse((await loa('report', '--from', '2020-01-01', '--to', '2099-01-01', '--json')).stdout) as { broadcastId: string; station: string; status: string }[];
    const alertRows = report.filter((r) => r.broadcastId === env.id);
    expect(alertRows.map((r) => r.station).sort()).toEqual(ids);
  });

  test("ACL: a station's credentials cannot publish another station's ack, read its commands, or publish any cmd", async () => {
    const topics = new Topics();
    const conf = parse(readFileSync(path.join(dir, 'boxes', 'phuong-a', 'station.yaml'), 'utf8'));
    const a = await mqtt.connectAsync(broker.stationUrl!, { username: 'phuong-a', password: conf.broker.password, clean: true });
    // Mosquitto grants the SUBACK but never delivers what the ACL forbids reading.
    const leaked: string[] = [];
    let ownCmd = false;
    a.on('message', (t) => {
      if (t === topics.stationCmd('phuong-a')) ownCmd = true;
      else leaked.push(t);
    });
    await a.subscribeAsync([topics.stationCmd('phuong-b'), topics.stationCmd('phuong-a')], { qos: 1 });
    const password = readFileSync(path.join(dir, 'secrets', 'central.password'), 'utf8').trim();
    const central = await mqtt.connectAsync(broker.url, { username: 'loa-central', password, clean: true });
    const seen: string[] = [];
    let control = false;
    central.on('message', (t, p) => {
      if (p.toString().includes('forged')) seen.push(t);
      if (p.toString().includes('control')) control = true;
    });
    await central.subscribeAsync([topics.ack('phuong-b'), topics.stationCmd('phuong-b'), topics.allCmd(), topics.ack('phuong-a')], { qos: 1 });
    await a.publishAsync(topics.ack('phuong-b'), '{"forged":true}', { qos: 1 });
    await a.publishAsync(topics.stationCmd('phuong-b'), '{"forged":true}', { qos: 1 });
    await a.publishAsync(topics.allCmd(), '{"forged":true}', { qos: 1 });
    await central.publishAsync(topics.stationCmd('phuong-b'), '{"from":"central"}', { qos: 1 });
    // Controls after the forgeries, on topics each may use: once they arrive, anything the ACL
    // had let through before them would have arrived too (MQTT keeps a client's order).
    await a.publishAsync(topics.ack('phuong-a'), '{"control":true}', { qos: 1 });
    await central.publishAsync(topics.stationCmd('phuong-a'), '{"from":"central"}', { qos: 1 });
    for (let i = 0; i < 200 && !(control && ownCmd); i++) await new Promise((r) => setTimeout(r, 25));
    expect({ control, ownCmd }).toEqual({ control: true, ownCmd: true });
    // None of A's forgeries got through; A saw nothing of B's commands.
    expect(seen).toEqual([]);
    expect(leaked).toEqual([]);
    await a.endAsync();
    await central.endAsync();
  });
});
