// The embedded (Aedes) broker of `npm run demo` enforces what the generated mosquitto.conf does:
// central and station listeners apart, and a station's client id bound to its user name, so one
// station's credentials cannot take over another station's session or the collector's.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { type DemoBroker, startDemoBroker } from '../demo/broker.js';
import { runLoa } from '../support/cli.js';
import { cleanupTempDirs, tempDir } from '../support/tmp.js';

const dir = tempDir('loa-demo-broker-');
const fleet = join(dir, 'fleet.yaml');
let broker: DemoBroker;
const open: MqttClient[] = [];
const secret = (p: string) => readFileSync(join(dir, 'secrets', p), 'utf8').trim();

function connect(url: string, o: IClientOptions): Promise<MqttClient> {
  return new Promise((resolve, reject) => {
    const c = mqtt.connect(url, { reconnectPeriod: 0, connectTimeout: 5000, protocolVersion: 4, ...o });
    c.once('connect', () => {
      open.push(c);
      resolve(c);
    });
    c.once('error', (e) => {
      c.end(true);
      reject(e);
    });
  });
}

beforeAll(async () => {
  writeFileSync(
    fleet,
    stringify({
      broker: { urls: ['mqtt://127.0.0.1:1'], stationUrls: ['mqtt://127.0.0.1:2'], passwordFile: 'secrets/central.password', listener: { stationPort: 2 } },
      stations: [
        { id: 'st-a', name: 'A' },
        { id: 'st-b', name: 'B' },
      ],
    }),
  );
  const r = await runLoa(fleet, ['broker', 'config', '--out', join(dir, 'broker'), '--no-tls']);
  expect(r.code, r.stderr).toBe(0);
  broker = await startDemoBroker({ passwd: join(dir, 'broker', 'passwd'), centralPasswd: join(dir, 'broker', 'passwd-central'), acl: join(dir, 'broker', 'acl') });
});

afterAll(async () => {
  for (const c of open) c.end(true);
  await broker?.stop();
  cleanupTempDirs();
});

describe('demo broker (Aedes) listeners', () => {
  it('a station connects to the station listener with its own id as client id', async () => {
    const a = await connect(broker.stationUrl, { username: 'st-a', password: secret('stations/st-a.password'), clientId: 'st-a' });
    expect(a.connected).toBe(true);
  });

  it("a station's credentials with another client id are refused, and B's queued commands survive", async () => {
    const b = await connect(broker.stationUrl, { username: 'st-b', password: secret('stations/st-b.password'), clientId: 'st-b', clean: false });
    await b.subscribeAsync('loa/v1/station/st-b/cmd', { qos: 1 });
    await b.endAsync();
    const central = await connect(broker.url, { username: 'loa-central', password: secret('central.password'), clientId: 'loa-central', clean: false });
    await central.publishAsync('loa/v1/station/st-b/cmd', 'queued', { qos: 1 });
    await expect(connect(broker.stationUrl, { username: 'st-a', password: secret('stations/st-a.password'), clientId: 'st-b', clean: true })).rejects.toThrow(
      /Not authorized|not authori/i,
    );
    await expect(connect(broker.stationUrl, { username: 'st-a', password: secret('stations/st-a.password'), clientId: 'loa-central', clean: true })).rejects.toThrow();
    expect(central.connected).toBe(true);
    const got: string[] = [];
    const back = mqtt.connect(broker.stationUrl, {
      username: 'st-b',
      password: secret('stations/st-b.password'),
      clientId: 'st-b',
      clean: false,
      protocolVersion: 4,
      reconnectPeriod: 0,
    });
    open.push(back);
    back.on('message', (_t, p) => got.push(p.toString()));
    for (let i = 0; i < 40 && got.length === 0; i++) await new Promise((r) => setTimeout(r, 50));
    expect(got).toEqual(['queued']);
  });

  it('station credentials are refused on the central listener, central credentials on the station listener', async () => {
    await expect(connect(broker.url, { username: 'st-a', password: secret('stations/st-a.password'), clientId: 'st-a' })).rejects.toThrow();
    await expect(connect(broker.stationUrl, { username: 'loa-central', password: secret('central.password'), clientId: 'loa-central' })).rejects.toThrow();
    expect(broker.stats.refusedLogins).toBeGreaterThanOrEqual(4);
  });
});
