import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import { afterEach, describe, expect, it } from 'vitest';
import { runFfmpeg } from '../io/ffmpeg.js';
import { startAedes } from '../support/aedes.js';
import { detectSilence, fixture, meanVolumeDb, measureLoudness, wavInfo } from '../support/audio.js';
import { findMosquitto, type MosquittoBroker, startMosquitto } from '../support/mosquitto.js';
import { tempDir } from '../support/tmp.js';

const clients: MqttClient[] = [];
const brokers: Array<{ stop(): Promise<void> }> = [];
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.endAsync(true)));
  await Promise.all(brokers.splice(0).map((b) => b.stop()));
});

async function connect(url: string, opts: IClientOptions = {}): Promise<MqttClient> {
  const c = await mqtt.connectAsync(url, { reconnectPeriod: 0, connectTimeout: 5_000, ...opts });
  clients.push(c);
  return c;
}

function nextMessage(c: MqttClient, topic: string, timeoutMs = 5_000): Promise<{ payload: string; retain: boolean }> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no message on ${topic} within ${timeoutMs} ms`)), timeoutMs);
    c.on('message', (t, payload, packet) => {
      if (t !== topic) return;
      clearTimeout(timer);
      resolve({ payload: payload.toString(), retain: packet.retain });
    });
  });
}

async function mosquitto(opts: Parameters<typeof startMosquitto>[0] = {}): Promise<MosquittoBroker> {
  const b = await startMosquitto(opts);
  brokers.push(b);
  return b;
}

describe('mosquitto harness', () => {
  it('starts a private broker on a free 127.0.0.1 port and relays messages', async () => {
    const b = await mosquitto();
    expect(b.port).not.toBe(1883);
    expect(b.url).toBe(`mqtt://127.0.0.1:${b.port}`);
    expect(readFileSync(b.confPath, 'utf8')).toMatch(new RegExp(`^listener ${b.port} 127\\.0\\.0\\.1$`, 'm'));
    const sub = await connect(b.url);
    await sub.subscribeAsync('loa/test/#', { qos: 1 });
    const got = nextMessage(sub, 'loa/test/hello');
    const pub = await connect(b.url);
    await pub.publishAsync('loa/test/hello', 'xin chào', { qos: 1 });
    expect((await got).payload).toBe('xin chào');
    expect(b.logs()).toMatch(/mosquitto version/);
  });

  it('keeps retained messages across kill -9 and restart when persistence is on', async () => {
    const b = await mosquitto({ persistence: true });
    const port = b.port;
    const pub = await connect(b.url);
    await pub.publishAsync('loa/state/station-1', 'online', { qos: 1, retain: true });
    await pub.endAsync();
    // Mosquitto writes its DB on autosave (here: on every change); a crash loses anything
    // not yet saved, so wait until the DB exists before crashing it.
    const db = path.join(b.dataDir, 'mosquitto.db');
    for (let i = 0; i < 100 && !existsSync(db); i++) await new Promise((r) => setTimeout(r, 50));
    expect(existsSync(db)).toBe(true);
    const oldPid = b.pid();
    await b.kill9();
    await b.restart();
    expect(b.port).toBe(port);
    expect(b.pid()).not.toBe(oldPid);
    const sub = await connect(b.url);
    const got = nextMessage(sub, 'loa/state/station-1');
    await sub.subscribeAsync('loa/state/#', { qos: 1 });
    expect(await got).toEqual({ payload: 'online', retain: true });
  });

  it('loses retained messages across restart without persistence', async () => {
    const b = await mosquitto();
    const pub = await connect(b.url);
    await pub.publishAsync('loa/x', 'gone', { qos: 1, retain: true });
    await pub.endAsync();
    await b.restart();
    const sub = await connect(b.url);
    let received = false;
    sub.on('message', () => (received = true));
    await sub.subscribeAsync('loa/x', { qos: 1 });
    await new Promise((r) => setTimeout(r, 300));
    expect(received).toBe(false);
  });

  it('enforces a password file and ACL', async () => {
    const dir = tempDir();
    const passwd = path.join(dir, 'passwd');
    writeFileSync(passwd, '');
    execFileSync('mosquitto_passwd', ['-b', passwd, 'station-1', 's3cret']);
    execFileSync('mosquitto_passwd', ['-b', passwd, 'central', 'c3ntral']);
    const acl = path.join(dir, 'acl');
    writeFileSync(acl, 'user station-1\ntopic readwrite loa/station-1/#\n\nuser central\ntopic readwrite loa/#\n');
    const b = await mosquitto({ passwordFile: passwd, aclFile: acl });
    await expect(connect(b.url)).rejects.toThrow(/Not authorized|Bad username|Connection refused/i);
    await expect(connect(b.url, { username: 'station-1', password: 'wrong' })).rejects.toThrow();
    const central = await connect(b.url, { username: 'central', password: 'c3ntral' });
    const topics: string[] = [];
    central.on('message', (t) => topics.push(t));
    await central.subscribeAsync('loa/#', { qos: 1 });
    const station = await connect(b.url, { username: 'station-1', password: 's3cret' });
    // Mosquitto accepts a denied publish and silently drops it: observe delivery instead.
    await station.publishAsync('loa/station-2/state', 'spoofed', { qos: 1 });
    await station.publishAsync('loa/station-1/state', 'mine', { qos: 1 });
    await new Promise((r) => setTimeout(r, 200));
    expect(topics).toEqual(['loa/station-1/state']);
  });

  it('serves TLS on a second port', async () => {
    const dir = tempDir();
    const f = (n: string) => path.join(dir, n);
    const ssl = (...args: string[]) => execFileSync('openssl', args, { stdio: 'pipe' });
    ssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=loa-test-ca', '-keyout', f('ca.key'), '-out', f('ca.crt'));
    ssl('req', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=127.0.0.1', '-keyout', f('server.key'), '-out', f('server.csr'));
    writeFileSync(f('ext.cnf'), 'subjectAltName=IP:127.0.0.1\n');
    ssl('x509', '-req', '-in', f('server.csr'), '-CA', f('ca.crt'), '-CAkey', f('ca.key'), '-CAcreateserial', '-days', '1', '-extfile', f('ext.cnf'), '-out', f('server.crt'));
    const b = await mosquitto({ tls: { caFile: f('ca.crt'), certFile: f('server.crt'), keyFile: f('server.key') } });
    expect(b.tlsPort).toBeGreaterThan(0);
    expect(b.tlsUrl).toBe(`mqtts://127.0.0.1:${b.tlsPort}`);
    const c = await connect(b.tlsUrl!, { ca: readFileSync(f('ca.crt')) });
    const got = nextMessage(c, 'loa/tls');
    await c.subscribeAsync('loa/tls', { qos: 1 });
    await c.publishAsync('loa/tls', 'encrypted', { qos: 1 });
    expect((await got).payload).toBe('encrypted');
    await expect(connect(b.tlsUrl!, { rejectUnauthorized: true })).rejects.toThrow(/certificate/i);
  });

  it('starts from config text with {{PORT}}/{{DIR}} placeholders', async () => {
    const b = await mosquitto({
      configText: 'listener {{PORT}} 127.0.0.1\nallow_anonymous true\npersistence true\npersistence_location {{DIR}}/data/\n',
    });
    const c = await connect(b.url);
    await c.publishAsync('loa/p', 'ok', { qos: 1, retain: true });
    await b.restart(); // graceful: persistence saved
    const c2 = await connect(b.url);
    const got = nextMessage(c2, 'loa/p');
    await c2.subscribeAsync('loa/p', { qos: 1 });
    expect((await got).payload).toBe('ok');
    expect(existsSync(path.join(b.dir, 'data', 'mosquitto.db'))).toBe(true);
  });

  it('adapts a production config without placeholders (listener, persistence, log paths)', async () => {
    const prod = [
      'per_listener_settings false',
      'listener 8883 0.0.0.0',
      'allow_anonymous true',
      'persistence true',
      'persistence_location /var/lib/mosquitto/',
      'log_dest file /var/log/mosquitto/mosquitto.log',
      'pid_file /run/mosquitto/mosquitto.pid',
      'user mosquitto',
    ].join('\n');
    const confFile = path.join(tempDir(), 'mosquitto.conf');
    writeFileSync(confFile, prod);
    const b = await mosquitto({ confFile });
    const conf = readFileSync(b.confPath, 'utf8');
    expect(conf).toMatch(new RegExp(`^listener ${b.port} 127\\.0\\.0\\.1$`, 'm'));
    expect(conf).not.toMatch(/\/var\/lib|\/var\/log|\/run\/|^user mosquitto/m);
    const c = await connect(b.url);
    await c.publishAsync('loa/q', 'ok', { qos: 1 });
  });

  it('fails loudly with an install hint when the binary is missing', async () => {
    const saved = process.env.LOA_MOSQUITTO;
    process.env.LOA_MOSQUITTO = '/nonexistent/mosquitto';
    try {
      expect(() => findMosquitto()).toThrow(/LOA_MOSQUITTO=\/nonexistent\/mosquitto.*apt-get install -y mosquitto/);
    } finally {
      if (saved === undefined) delete process.env.LOA_MOSQUITTO;
      else process.env.LOA_MOSQUITTO = saved;
    }
  });

  it('reports a config mosquitto rejects, with its log', async () => {
    await expect(startMosquitto({ extraConfig: 'no_such_option 1' })).rejects.toThrow(/exited during start-up[\s\S]*no_such_option/);
  });

  it('removes its temp dir on stop', async () => {
    const b = await startMosquitto();
    expect(existsSync(b.dir)).toBe(true);
    await b.stop();
    expect(existsSync(b.dir)).toBe(false);
    await expect(b.restart()).rejects.toThrow(/after stop/);
  });
});

describe('aedes harness', () => {
  it('relays messages through an in-process broker', async () => {
    const b = await startAedes();
    brokers.push(b);
    expect(b.url).toBe(`mqtt://127.0.0.1:${b.port}`);
    const seen: string[] = [];
    b.broker.on('publish', (packet, client) => {
      if (client) seen.push(packet.topic);
    });
    const sub = await connect(b.url);
    await sub.subscribeAsync('loa/a', { qos: 1 });
    const got = nextMessage(sub, 'loa/a');
    const pub = await connect(b.url);
    await pub.publishAsync('loa/a', 'hi', { qos: 1 });
    expect((await got).payload).toBe('hi');
    expect(seen).toContain('loa/a');
  });

  it('stops even with clients still connected', async () => {
    const b = await startAedes();
    await connect(b.url);
    await b.stop();
    await expect(connect(b.url)).rejects.toThrow();
  });
});

describe('audio helpers', () => {
  it('wavInfo parses the header', async () => {
    expect(await wavInfo(fixture('chime-priority.wav'))).toMatchObject({
      audioFormat: 1,
      sampleRate: 48_000,
      channels: 1,
      bitsPerSample: 16,
      dataOffset: 44,
      frames: 43_200,
      durationMs: 900,
    });
  });

  it('measures loudness, level and silence of a known signal', async () => {
    // 1 kHz sine at 0.5 peak for 1 s, 1 s of silence, 1 s of sine.
    const dir = tempDir();
    const file = path.join(dir, 'gap.wav');
    await runFfmpeg(['-hide_banner', '-nostdin', '-f', 'lavfi', '-i', "aevalsrc='0.5*sin(2*PI*1000*t)*not(between(t,1,2))':s=48000:d=3", '-c:a', 'pcm_s16le', file]);
    const silences = await detectSilence(file, { noiseDb: -50, minSec: 0.5 });
    expect(silences).toHaveLength(1);
    expect(silences[0].start).toBeCloseTo(1, 1);
    expect(silences[0].end).toBeCloseTo(2, 1);
    // RMS of the whole file: sine RMS 0.5/sqrt(2) = -9.03 dBFS over 2/3 of the time: -10.79.
    expect(await meanVolumeDb(file)).toBeCloseTo(-10.8, 0);

    const steady = path.join(dir, 'steady.wav');
    await runFfmpeg(['-hide_banner', '-nostdin', '-f', 'lavfi', '-i', "aevalsrc='0.5*sin(2*PI*1000*t)':s=48000:d=3", '-c:a', 'pcm_s16le', steady]);
    const l = await measureLoudness(steady);
    // BS.1770 mono 1 kHz sine: -0.691 + 10*log10(mean square) + K-weighting gain at 1 kHz (~+0.7 dB).
    expect(l.integratedLufs).toBeGreaterThan(-10);
    expect(l.integratedLufs).toBeLessThan(-8.5);
    expect(l.truePeakDb!).toBeCloseTo(-6, 0);
  });

  it('detects silence running to the end of the file', async () => {
    const file = path.join(tempDir(), 'tail.wav');
    await runFfmpeg(['-hide_banner', '-nostdin', '-f', 'lavfi', '-i', "aevalsrc='0.5*sin(2*PI*440*t)*lt(t,1)':s=48000:d=2", '-c:a', 'pcm_s16le', file]);
    const s = await detectSilence(file);
    expect(s).toHaveLength(1);
    expect(s[0].start).toBeCloseTo(1, 1);
    expect(s[0].end).toBeCloseTo(2, 1);
  });
});
