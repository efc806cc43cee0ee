// CAP end to end on real parts: `loa broker config` on a real mosquitto, `loa provision`ed
// `loa-station` daemons with locations, the collector, and `loa cap watch` on a directory.
// A CAP Alert dropped into the directory becomes an unsigned draft; two officials approve it,
// each with their own key in their own key directory; it airs only at the two stations inside
// its polygon; a later CAP Cancel, approved the same way, stops it there. An Exercise then needs
// one approval and reaches all four stations: the positive control for "nothing reached the
// stations outside the polygon".
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { parse, stringify } from 'yaml';
import type { CapResult } from '../controller-cli/cap-import.js';
import { Ack, Topics } from '../protocol/index.js';
import { fixture, wavInfo } from '../support/audio.js';
import { capTime, type RouteServer, serveRoutes, writeCapFleet } from '../support/cap.js';
import { runLoa, startCollector } from '../support/cli.js';
import { type MosquittoBroker, startMosquitto } from '../support/mosquitto.js';
import { LOA_BIN, type Proc, spawnProc, until } from '../support/proof/lib.js';
import { listWavs, type StationProcess, startStation } from '../support/station.js';
import { tempDir } from '../support/tmp.js';

const STATIONS = [
  { id: 'phuong-minh-an', groups: ['hoi-an'], location: { lat: 15.8771, lon: 108.328 } },
  { id: 'phuong-cam-pho', groups: ['hoi-an'], location: { lat: 15.879, lon: 108.319 } },
  { id: 'xa-cam-thanh', groups: ['hoi-an-dong'], location: { lat: 15.872, lon: 108.37 } },
  { id: 'xa-tan-hiep', groups: ['tan-hiep'], location: { lat: 15.955, lon: 108.51 } },
];
const INSIDE = ['phuong-cam-pho', 'phuong-minh-an'];
const OUTSIDE = ['xa-cam-thanh', 'xa-tan-hiep'];
const SENDER = 'pccc@hoian.example.vn';

function capDoc(o: { identifier: string; sent: string; status?: string; msgType?: string; references?: string; info?: string }): string {
  return `<?xml version="1.0" encoding="UTF-8"?>
<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2">
  <identifier>${o.identifier}</identifier>
  <sender>${SENDER}</sender>
  <sent>${o.sent}</sent>
  <status>${o.status ?? 'Actual'}</status>
  <msgType>${o.msgType ?? 'Alert'}</msgType>
  <scope>Public</scope>
  ${o.references ? `<references>${o.references}</references>` : ''}
  ${o.info ?? ''}
</alert>
`;
}

describe('CAP in, end to end: watch → draft → two approvals → air in the polygon → CAP Cancel stops it', () => {
  const dir = tempDir('loa-e2e-cap-');
  const keyDirs = { office: path.join(tempDir('loa-e2e-cap-office-'), 'keys'), duty: path.join(tempDir('loa-e2e-cap-duty-'), 'keys') };
  const fleet = path.join(dir, 'fleet.yaml');
  const inbox = path.join(dir, 'cap-inbox');
  const office = (...args: string[]) => runLoa(fleet, args, { LOA_KEY_DIR: keyDirs.office });
  const duty = (...args: string[]) => runLoa(fleet, args, { LOA_KEY_DIR: keyDirs.duty });
  const out = (id: string) => path.join(dir, 'boxes', id, 'out');
  const stations = new Map<string, StationProcess>();
  const acks: Ack[] = [];
  let broker: MosquittoBroker;
  let collector: Awaited<ReturnType<typeof startCollector>>;
  let observer: MqttClient;
  let watcher: Proc;
  let server: RouteServer;
  const mp3 = readFileSync(fixture('music-10s.mp3'));

  /** Written aside and renamed in, as a feed client or `scp` + `mv` would: never read half-written. */
  const drop = (name: string, xml: string) => {
    writeFileSync(path.join(inbox, `${name}.part`), xml);
    renameSync(path.join(inbox, `${name}.part`), path.join(inbox, name));
  };
  const results = () =>
    watcher
      .logs()
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as CapResult);
  const result = (identifier: string) =>
    until(
      () => results().find((r) => r.identifier === identifier),
      30_000,
      () => `a result for ${identifier}:\n${watcher.logs()}`,
    );
  const ackFrom = (station: string, pred: (a: Ack) => boolean) => acks.some((a) => a.station === station && pred(a));

  beforeAll(async () => {
    server = await serveRoutes({ '/chay.mp3': { body: mp3, type: 'audio/mpeg' } });
    writeCapFleet(fleet, {
      stations: STATIONS,
      cap: { sources: [{ sender: SENDER }], repeat: { immediateExtreme: 6 } },
    });
    expect((await office('keys', 'init', 'office')).code).toBe(0);
    expect((await duty('keys', 'init', 'duty')).code).toBe(0);
    const cfg = await office('broker', 'config', '--out', path.join(dir, 'broker'), '--no-tls');
    expect(cfg.code, cfg.stderr).toBe(0);
    broker = await startMosquitto({ configText: readFileSync(path.join(dir, 'broker', 'mosquitto.conf'), 'utf8') });
    const f = parse(readFileSync(fleet, 'utf8'));
    f.broker.urls = [broker.url];
    f.broker.stationUrls = [broker.stationUrl];
    writeFileSync(fleet, stringify(f));
    for (const s of STATIONS) {
      const p = await office('provision', s.id, '--out', path.join(dir, 'boxes', s.id));
      expect(p.code, p.stderr).toBe(0);
    }
    await broker.restart(); // the broker reloads the rotated password file
    for (const s of STATIONS) {
      const file = path.join(dir, 'boxes', s.id, 'station.yaml');
      const y = parse(readFileSync(file, 'utf8'));
      y.dataDir = path.join(dir, 'boxes', s.id, 'data');
      y.zones = y.zones.map((z: { id: string }) => ({ ...z, output: { type: 'file', dir: out(s.id) } }));
      y.telemetrySec = 1;
      writeFileSync(file, stringify(y));
      stations.set(s.id, startStation(file));
    }
    for (const st of stations.values()) await st.waitForLog(/"msg":"subscribed"/, 30_000);
    collector = await startCollector(fleet);

    const password = readFileSync(path.join(dir, 'secrets', 'central.password'), 'utf8').trim();
    observer = await mqtt.connectAsync(broker.url, { username: 'loa-central', password, clean: true, clientId: `e2e-cap-observer-${process.pid}` });
    observer.on('message', (_t, p) => acks.push(Ack.parse(JSON.parse(p.toString()))));
    await observer.subscribeAsync(new Topics().allAcks(), { qos: 1 });

    mkdirSync(inbox);
    watcher = spawnProc(LOA_BIN, ['--fleet', fleet, 'cap', 'watch', inbox, '--json']);
    await watcher.waitForLog(/cap watch: watching/, 20_000);
  }, 180_000);

  afterAll(async () => {
    await watcher?.stop();
    await observer?.endAsync();
    await collector?.stop();
    await Promise.all([...stations.values()].map((s) => s.stop()));
    await broker?.stop();
    server?.close();
  });

  test('the CAP Alert airs only inside its polygon after two approvals; the CAP Cancel, approved twice, stops it', async () => {
    const sent = capTime(Date.now());
    drop(
      'chay-01.xml',
      capDoc({
        identifier: 'HOIAN-E2E-CHAY-01',
        sent,
        info: `<info>
    <language>vi-VN</language>
    <category>Fire</category>
    <event>Cháy</event>
    <urgency>Immediate</urgency>
    <severity>Extreme</severity>
    <certainty>Observed</certainty>
    <expires>${capTime(Date.now() + 2 * 3600_000)}</expires>
    <headline>Cháy lớn trong khu phố cổ</headline>
    <instruction>Tránh xa khu vực đường Trần Phú</instruction>
    <resource>
      <resourceDesc>Bản tin cảnh báo</resourceDesc>
      <mimeType>audio/mpeg</mimeType>
      <uri>${server.url}/chay.mp3</uri>
      <digest>${createHash('sha1').update(mp3).digest('hex')}</digest>
    </resource>
    <area>
      <areaDesc>Phố cổ và Cẩm Phô</areaDesc>
      <polygon>15.870,108.310 15.870,108.335 15.885,108.335 15.885,108.310 15.870,108.310</polygon>
    </area>
  </info>`,
      }),
    );
    const drafted = await result('HOIAN-E2E-CHAY-01');
    expect(drafted).toMatchObject({ action: 'alert', created: true, test: false, needed: 2, targets: INSIDE, repeat: 6, audio: { source: 'resource' } });
    const draft = JSON.parse(readFileSync(drafted.draft!, 'utf8'));
    expect(draft.envelopes[0].sigs).toEqual([]); // nobody has signed yet: only people approve
    const alertId: string = draft.envelopes[0].id;

    // First official: signs (becoming the issuer), nothing is sent yet.
    const first = await office('alert', 'approve', drafted.draft!, '--key', 'office', '--json');
    expect(first.code, first.stderr + first.stdout).toBe(0);
    expect(JSON.parse(first.stdout)).toMatchObject({ signatures: ['office'], needed: 2 });
    expect(acks.some((a) => a.commandId === alertId)).toBe(false);
    // Second official, own key directory: sent, and both stations in the polygon start it.
    const second = await duty('alert', 'approve', drafted.draft!, '--key', 'duty', '--wait', '60', '--json');
    expect(second.code, second.stderr + second.stdout).toBe(0);
    expect(JSON.parse(second.stdout).delivery.delivered.sort()).toEqual(INSIDE);
    for (const id of INSIDE) expect(ackFrom(id, (a) => a.broadcastId === alertId && a.state === 'started' && a.priority === 'emergency')).toBe(true);

    drop('chay-02.xml', capDoc({ identifier: 'HOIAN-E2E-CHAY-02', sent: capTime(Date.now()), msgType: 'Cancel', references: `${SENDER},HOIAN-E2E-CHAY-01,${sent}` }));
    const cancel = await result('HOIAN-E2E-CHAY-02');
    expect(cancel).toMatchObject({ action: 'cancel', created: true, needed: 2, cancels: [alertId], targets: INSIDE });
    expect((await office('alert', 'approve', cancel.draft!, '--key', 'office')).code).toBe(0);
    const stop = await duty('alert', 'approve', cancel.draft!, '--key', 'duty');
    expect(stop.code, stop.stderr + stop.stdout).toBe(0);
    await until(
      () => INSIDE.every((id) => ackFrom(id, (a) => a.broadcastId === alertId && a.state === 'cancelled')),
      30_000,
      () => `cancelled acks:\n${JSON.stringify(acks)}`,
    );
    // What the speakers played: the chime and less than one of the six repeats of the 10 s clip.
    for (const id of INSIDE) {
      const wavs = listWavs(out(id));
      expect(wavs).toHaveLength(1);
      expect((await wavInfo(wavs[0]!)).durationMs).toBeLessThan(45_000);
    }

    // Positive control: a CAP Exercise around the whole town, one approval, all four stations.
    drop(
      'dien-tap.xml',
      capDoc({
        identifier: 'HOIAN-E2E-DIEN-TAP',
        sent: capTime(Date.now()),
        status: 'Exercise',
        info: `<info><language>vi-VN</language><category>Safety</category><event>Diễn tập</event>
    <urgency>Expected</urgency><severity>Minor</severity><certainty>Possible</certainty>
    <headline>Diễn tập cảnh báo</headline>
    <area><areaDesc>Toàn thị xã</areaDesc><circle>15.877,108.33 30</circle></area></info>`,
      }),
    );
    const exercise = await result('HOIAN-E2E-DIEN-TAP');
    expect(exercise).toMatchObject({ action: 'alert', test: true, needed: 1, targets: STATIONS.map((s) => s.id).sort() });
    const one = await office('alert', 'approve', exercise.draft!, '--key', 'office', '--wait', '60');
    expect(one.code, one.stderr + one.stdout).toBe(0);
    const exerciseId = path.basename(exercise.draft!, '.json');
    await until(() => STATIONS.every((s) => ackFrom(s.id, (a) => a.broadcastId === exerciseId && a.state === 'completed')), 90_000, 'the exercise completed everywhere');
    for (const id of OUTSIDE) {
      expect(acks.filter((a) => a.station === id && a.commandId === alertId)).toEqual([]);
      expect(listWavs(out(id))).toHaveLength(1); // the exercise only
    }
  }, 240_000);
});
