// `loa keys`, `loa broker config` and `loa provision`, run as real subprocesses against a real
// mosquitto started from exactly the generated config.
import { chmodSync, existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { loadStationConfig } from '../daemon/config.js';
import { runLoa } from '../support/cli.js';
import { type MosquittoBroker, startMosquitto } from '../support/mosquitto.js';
import { cleanupTempDirs, tempDir } from '../support/tmp.js';

const loa = (args: string[], env: Record<string, string> = {}) => runLoa(undefined, args, { LOA_KEY_DIR: join(dir, 'keys-office'), ...env });
/** The second official keeps their key in their own directory (their own account). */
const asDuty = { LOA_KEY_DIR: join(tempDir('loa-cli-duty-'), 'keys') };

function fleetYaml(url: string, stationUrl = url): string {
  return stringify({
    broker: {
      urls: [url],
      stationUrls: [stationUrl],
      username: 'loa-central',
      passwordFile: 'secrets/central.password',
      tls: { ca: 'broker/tls/ca.crt' },
      listener: { stationPort: 1884 },
    },
    signers: [
      { key: 'office', allow: ['schedule', 'announce', 'alert', 'cancel', 'control'] },
      { key: 'duty', allow: ['alert', 'cancel'] },
    ],
    groups: [
      { id: 'east', name: 'Đông' },
      { id: 'west', name: 'Tây' },
    ],
    stations: [
      { id: 'st-a', name: 'Phường A', groups: ['east'] },
      { id: 'st-b', name: 'Phường B', groups: ['east'] },
      { id: 'st-c', name: 'Xã C', groups: ['west'] },
    ],
  });
}

function connect(url: string, username?: string, password?: string): Promise<MqttClient> {
  return new Promise((res, rej) => {
    const c = mqtt.connect(url, { username, password, reconnectPeriod: 0, connectTimeout: 5000, protocolVersion: 4, clientId: `t-${Math.random().toString(16).slice(2)}` });
    c.once('connect', () => res(c));
    c.once('error', (e) => {
      c.end(true);
      rej(e);
    });
  });
}

/** Messages that arrive on `topic` within `ms` (subscription failures count as no messages). */
async function collect(client: MqttClient, topic: string, ms: number, act: () => Promise<void>): Promise<string[]> {
  const got: string[] = [];
  const onMsg = (t: string, p: Buffer) => {
    if (t === topic) got.push(p.toString());
  };
  client.on('message', onMsg);
  await client.subscribeAsync(topic, { qos: 1 });
  await act();
  await new Promise((r) => setTimeout(r, ms));
  client.off('message', onMsg);
  return got;
}

const dir = tempDir('loa-cli-broker-');
const fleet = join(dir, 'fleet.yaml');
let broker: MosquittoBroker;
const clients: MqttClient[] = [];
const pw = (station: string) => readFileSync(join(dir, 'secrets', 'stations', `${station}.password`), 'utf8').trim();
const centralPw = () => readFileSync(join(dir, 'secrets', 'central.password'), 'utf8').trim();

beforeAll(async () => {
  writeFileSync(fleet, fleetYaml('mqtt://127.0.0.1:1'));
  const r = await loa(['--fleet', fleet, 'broker', 'config', '--out', join(dir, 'broker'), '--json']);
  expect(r.code, r.stderr).toBe(0);
  broker = await startMosquitto({ configText: readFileSync(join(dir, 'broker', 'mosquitto.conf'), 'utf8') });
  writeFileSync(fleet, fleetYaml(broker.url, broker.stationUrl));
});

afterAll(async () => {
  for (const c of clients) c.end(true);
  await broker?.stop();
  cleanupTempDirs();
});

describe('loa keys', () => {
  it("creates an Ed25519 key pair: the private key 0600 in its owner's key directory, the public key in the fleet", async () => {
    const r = await loa(['--fleet', fleet, 'keys', 'init', 'office']);
    expect(r.code, r.stderr).toBe(0);
    expect(statSync(join(dir, 'keys-office', 'office.key')).mode & 0o777).toBe(0o600);
    expect(statSync(join(dir, 'keys-office')).mode & 0o777).toBe(0o700);
    expect(readFileSync(join(dir, 'keys-office', 'office.key'), 'utf8')).toContain('BEGIN PRIVATE KEY');
    expect(existsSync(join(dir, 'keys', 'office.key'))).toBe(false);
    expect(readFileSync(join(dir, 'keys', 'office.pub'), 'utf8').trim()).toMatch(/^[A-Za-z0-9+/]{43}=$/);
    // Two alert signers' keys in one account would let one person meet the quorum.
    const same = await loa(['--fleet', fleet, 'keys', 'init', 'duty']);
    expect(same.code).toBe(1);
    expect(same.stderr).toMatch(/already holds the private key of alert signer\(s\) office/);
    expect((await loa(['--fleet', fleet, 'keys', 'init', 'duty'], asDuty)).code).toBe(0);
    const list = await loa(['--fleet', fleet, 'keys', 'list', '--json']);
    expect(list.code).toBe(0);
    const keys = JSON.parse(list.stdout) as { id: string; publicKey: string; allow: string[]; privateMode: string }[];
    expect(keys.map((k) => k.id)).toEqual(['duty', 'office']);
    expect(Buffer.from(keys[1]!.publicKey, 'base64')).toHaveLength(32);
    expect(keys[0]!.allow).toEqual(['alert', 'cancel']);
    expect(keys[1]!.privateMode).toBe('0600');
  });

  it('refuses a key directory other accounts can read, and a public key recorded twice or spelled non-canonically', async () => {
    const open = tempDir('loa-open-keys-');
    chmodSync(open, 0o755);
    const r = await loa(['--fleet', fleet, 'keys', 'init', 'spare'], { LOA_KEY_DIR: open });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/readable by other accounts \(mode 755\)/);
    const office = readFileSync(join(dir, 'keys', 'office.pub'), 'utf8').trim();
    const twice = await loa(['--fleet', fleet, 'keys', 'import', 'office-again', office]);
    expect(twice.code).toBe(1);
    expect(twice.stderr).toMatch(/already recorded as office/);
    const unpadded = await loa(['--fleet', fleet, 'keys', 'import', 'office-again', office.replace(/=$/, '')]);
    expect(unpadded.code).toBe(2);
    expect(existsSync(join(dir, 'keys', 'office-again.pub'))).toBe(false);
  });

  it('refuses to overwrite a key and rejects ids that could escape the keys dir', async () => {
    expect((await loa(['--fleet', fleet, 'keys', 'init', 'office'])).code).toBe(1);
    const bad = await loa(['--fleet', fleet, 'keys', 'init', '../evil']);
    expect(bad.code).toBe(2);
    expect(existsSync(join(dir, 'evil.key'))).toBe(false);
  });

  it('exits 2 on usage errors and 0 on --help', async () => {
    expect((await loa(['--fleet', fleet, 'keys', 'init'])).code).toBe(2);
    expect((await loa(['--fleet', fleet, 'keys', 'frobnicate'])).code).toBe(2);
    expect((await loa(['--fleet', fleet, 'nonsense'])).code).toBe(2);
    const help = await loa(['--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('announce');
    expect((await loa(['alert', 'approve', '--help'])).code).toBe(0);
  });

  it('speaks Vietnamese when LANG is vi', async () => {
    const r = await loa(['--fleet', join(dir, 'nope.yaml'), 'keys', 'list'], { LANG: 'vi_VN.UTF-8' });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('không tìm thấy tệp cấu hình');
  });
});

describe('loa broker config', () => {
  it('writes mosquitto PBKDF2-SHA512 password lines (stations and central apart), an ACL, and listeners that bind client ids', () => {
    const passwd = readFileSync(join(dir, 'broker', 'passwd'), 'utf8')
      .trim()
      .split('\n');
    expect(passwd.map((l) => l.split(':')[0])).toEqual(['st-a', 'st-b', 'st-c']);
    const central = readFileSync(join(dir, 'broker', 'passwd-central'), 'utf8')
      .trim()
      .split('\n');
    expect(central.map((l) => l.split(':')[0])).toEqual(['loa-central']);
    for (const l of [...passwd, ...central]) expect(l).toMatch(/^[a-z-]+:\$7\$101\$[A-Za-z0-9+/]{16}\$[A-Za-z0-9+/]{86}==$/);
    const conf = readFileSync(join(dir, 'broker', 'mosquitto.conf'), 'utf8');
    expect(conf).toMatch(/^per_listener_settings true$/m);
    expect(conf.match(/^allow_anonymous false$/gm)).toHaveLength(3);
    // Both station listeners (plain and TLS) replace the client id with the user name.
    expect(conf.match(/^use_username_as_clientid true$/gm)).toHaveLength(2);
    expect(broker.listeners.map((l) => l.role)).toEqual(['central', 'stations', 'stations-tls']);
    expect(conf).toMatch(/^persistence true$/m);
    expect(conf).toMatch(/^certfile .*server\.crt$/m);
    expect(statSync(join(dir, 'secrets', 'stations', 'st-a.password')).mode & 0o777).toBe(0o600);
    expect(statSync(join(dir, 'secrets', 'tls', 'ca.key')).mode & 0o777).toBe(0o600);
  });

  it('refuses anonymous clients and wrong passwords; stations only on the station listener, central only on its own', async () => {
    await expect(connect(broker.url)).rejects.toThrow();
    await expect(connect(broker.stationUrl!)).rejects.toThrow();
    await expect(connect(broker.stationUrl!, 'st-a', 'wrong')).rejects.toThrow();
    await expect(connect(broker.url, 'st-a', pw('st-a'))).rejects.toThrow();
    await expect(connect(broker.stationUrl!, 'loa-central', centralPw())).rejects.toThrow();
  });

  it('accepts station credentials over the generated TLS listener, verified against the generated CA', async () => {
    const c = await new Promise<MqttClient>((res, rej) => {
      const client = mqtt.connect(broker.tlsUrl!, {
        username: 'st-a',
        password: pw('st-a'),
        ca: readFileSync(join(dir, 'broker', 'tls', 'ca.crt')),
        rejectUnauthorized: true,
        reconnectPeriod: 0,
        connectTimeout: 5000,
      });
      client.once('connect', () => res(client));
      client.once('error', (e) => {
        client.end(true);
        rej(e);
      });
    });
    clients.push(c);
    expect(c.connected).toBe(true);
  });

  it('enforces the ACL: a station writes only its own state/ack and reads only what is addressed to it', async () => {
    const central = await connect(broker.url, 'loa-central', centralPw());
    const a = await connect(broker.stationUrl!, 'st-a', pw('st-a'));
    const b = await connect(broker.stationUrl!, 'st-b', pw('st-b'));
    clients.push(central, a, b);
    const R = 'loa/v1';

    // A cannot forge B's ack; its own ack gets through.
    expect(await collect(central, `${R}/station/st-b/ack`, 300, async () => void (await a.publishAsync(`${R}/station/st-b/ack`, 'forged', { qos: 1 })))).toEqual([]);
    expect(await collect(central, `${R}/station/st-a/ack`, 300, async () => void (await a.publishAsync(`${R}/station/st-a/ack`, 'mine', { qos: 1 })))).toEqual(['mine']);

    // A cannot read B's cmd, but reads its own, its group's and all.
    expect(await collect(a, `${R}/station/st-b/cmd`, 300, async () => void (await central.publishAsync(`${R}/station/st-b/cmd`, 'for-b', { qos: 1 })))).toEqual([]);
    expect(await collect(a, `${R}/station/st-a/cmd`, 300, async () => void (await central.publishAsync(`${R}/station/st-a/cmd`, 'for-a', { qos: 1 })))).toEqual(['for-a']);
    expect(await collect(a, `${R}/group/east/cmd`, 300, async () => void (await central.publishAsync(`${R}/group/east/cmd`, 'east', { qos: 1 })))).toEqual(['east']);
    expect(await collect(a, `${R}/group/west/cmd`, 300, async () => void (await central.publishAsync(`${R}/group/west/cmd`, 'west', { qos: 1 })))).toEqual([]);
    expect(await collect(a, `${R}/all/cmd`, 300, async () => void (await central.publishAsync(`${R}/all/cmd`, 'all', { qos: 1 })))).toEqual(['all']);

    // A cannot publish any command, schedule or central message.
    for (const topic of [
      `${R}/station/st-b/cmd`,
      `${R}/station/st-a/cmd`,
      `${R}/all/cmd`,
      `${R}/group/east/cmd`,
      `${R}/station/st-b/schedule`,
      `${R}/central/state`,
      `${R}/central/receipt/st-b`,
    ]) {
      expect(await collect(central, topic, 200, async () => void (await a.publishAsync(topic, 'evil', { qos: 1 }))), topic).toEqual([]);
    }
    // B cannot read A's receipts; A can.
    expect(await collect(b, `${R}/central/receipt/st-a`, 300, async () => void (await central.publishAsync(`${R}/central/receipt/st-a`, 'r', { qos: 1 })))).toEqual([]);
    expect(await collect(a, `${R}/central/receipt/st-a`, 300, async () => void (await central.publishAsync(`${R}/central/receipt/st-a`, 'r', { qos: 1 })))).toEqual(['r']);
  });
});

describe('loa provision', () => {
  it('writes a station.yaml the daemon loads, rotating the broker password', async () => {
    const before = pw('st-c');
    const r = await loa(['--fleet', fleet, 'provision', 'st-c', '--out', join(dir, 'prov-c')]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/reload/);
    const file = join(dir, 'prov-c', 'station.yaml');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const y = parse(readFileSync(file, 'utf8'));
    expect(y.station).toEqual({ id: 'st-c', name: 'Xã C', groups: ['west'] });
    expect(y.broker.username).toBe('st-c');
    expect(y.broker.urls).toEqual([broker.stationUrl]);
    expect(y.testAlerts).toEqual({ maxDurationSec: 120, maxVolume: 80 });
    expect(y.relay).toEqual({ schemes: ['http', 'https'] });
    expect(y.broker.password).toBe(pw('st-c'));
    expect(y.broker.password).not.toBe(before);
    expect(y.broker.tls.ca).toBe('ca.crt');
    expect(y.keys.map((k: { id: string }) => k.id)).toEqual(['office', 'duty']);
    expect(y.alertQuorum).toBe(2);
    expect(y.zones[0]).toMatchObject({ id: 'main', output: { type: 'alsa', device: 'default' }, defaultVolume: 80, maxVolume: 100 });
    const cfg = loadStationConfig(file);
    expect(cfg.station.id).toBe('st-c');

    // The broker learns the new password on reload; the old one stops working.
    await broker.restart();
    const c = await connect(broker.stationUrl!, 'st-c', y.broker.password);
    clients.push(c);
    await expect(connect(broker.stationUrl!, 'st-c', before)).rejects.toThrow();
  });

  it('names unknown stations and exits 2', async () => {
    const r = await loa(['--fleet', fleet, 'provision', 'st-zz', '--out', join(dir, 'x')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('st-zz');
  });
});
