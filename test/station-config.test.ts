import { copyFileSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { ConfigError, DEFAULT_TEST_PREAMBLE, loadStationConfig, stationConfigWarnings, trustedKeys } from '../daemon/config.js';
import { checkSignature, generateKeyPair, makeEnvelope, signEnvelope } from '../protocol/index.js';
import { cleanupTempDirs, tempDir } from '../support/tmp.js';

const dir = tempDir('loa-config-');
afterAll(cleanupTempDirs);

const ward = generateKeyPair();
const second = generateKeyPair();

// biome-ignore lint/suspicious/noExplicitAny: tests reach into a config they deliberately break
function minimal(): Record<string, any> {
  return {
    station: { id: 'phuong-1', name: 'Phường 1', groups: ['quan-3'] },
    broker: { urls: ['mqtt://127.0.0.1:1883'] },
    keys: [
      { id: 'ward-office', publicKey: ward.publicKey, allow: ['schedule', 'announce', 'alert', 'cancel'] },
      { id: 'district', publicKey: second.publicKey, allow: ['alert'] },
    ],
    zones: [{ id: 'market', name: 'Chợ', output: { type: 'null' } }],
  };
}

let n = 0;
/** Writes the config into its own directory and returns the path. */
function write(config: unknown, name = 'station.yaml'): string {
  const sub = join(dir, `c${n++}`);
  mkdirSync(sub);
  const path = join(sub, name);
  writeFileSync(path, typeof config === 'string' ? config : stringify(config));
  return path;
}

function errorOf(config: unknown): ConfigError {
  const path = write(config);
  try {
    loadStationConfig(path);
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return e as ConfigError;
  }
  throw new Error('expected loadStationConfig to throw');
}

describe('loadStationConfig: valid files', () => {
  it('applies defaults and resolves relative paths against the config directory', () => {
    const c = minimal();
    c.chimes = { normal: 'chimes/normal.wav' };
    c.zones.push({ id: 'school', output: { type: 'file', dir: 'out/school' }, defaultVolume: 60, maxVolume: 90 });
    const path = write(c);
    const base = join(path, '..');
    const cfg = loadStationConfig(path);

    expect(cfg.path).toBe(path);
    expect(cfg.station).toEqual({ id: 'phuong-1', name: 'Phường 1', groups: ['quan-3'] });
    expect(cfg.broker).toEqual({ urls: ['mqtt://127.0.0.1:1883'], topicRoot: 'loa/v1', keepaliveSec: 30 });
    expect(cfg.timezone).toBe('Asia/Ho_Chi_Minh');
    expect(cfg.dataDir).toBe(join(base, 'data'));
    expect(cfg.cache).toEqual({ quotaMB: 2048, maxClipMinutes: 60, concurrency: 2 });
    expect(cfg.testAlerts).toEqual({ maxDurationSec: 120, maxVolume: 80, preamble: DEFAULT_TEST_PREAMBLE });
    expect(existsSync(cfg.testAlerts.preamble)).toBe(true);
    expect(cfg.relay).toEqual({ schemes: ['http', 'https'] });
    expect(cfg.stallSec).toBe(30);
    expect(cfg.central).toEqual({ collector: true });
    expect(cfg.alertQuorum).toBe(2);
    expect(cfg.clockSkewSec).toBe(300);
    expect(cfg.quietHours).toEqual([]);
    expect(cfg.chimes).toEqual({ normal: join(base, 'chimes/normal.wav') });
    expect(cfg.loudness).toEqual({ targetLufs: -16, truePeakDb: -1.5 });
    expect(cfg.graceSec).toBe(60);
    expect(cfg.telemetrySec).toBe(30);
    expect(cfg.asRunRetentionDays).toBe(365);
    expect(cfg.log).toEqual({ level: 'info' });
    expect(cfg.ffmpeg).toBeUndefined();
    expect(cfg.zones).toEqual([
      { id: 'market', name: 'Chợ', output: { type: 'null' }, defaultVolume: 80, maxVolume: 100 },
      { id: 'school', name: 'school', output: { type: 'file', dir: join(base, 'out/school') }, defaultVolume: 60, maxVolume: 90 },
    ]);
  });

  it('loads the full shape written by provisioning, with a password file and relay', () => {
    const c = minimal();
    c.broker = {
      urls: ['mqtts://broker.example:8883', 'mqtts://backup.example:8883'],
      username: 'phuong-1',
      passwordFile: 'secrets/broker-password',
      tls: { ca: 'tls/ca.pem' },
      topicRoot: 'loa/v1',
      keepaliveSec: 20,
    };
    c.timezone = 'Asia/Bangkok';
    c.dataDir = '/var/lib/loa-station';
    c.cache = { quotaMB: 512 };
    c.central = { collector: false };
    c.alertQuorum = 1;
    c.clockSkewSec = 120;
    c.zones = [
      {
        id: 'market',
        name: 'Chợ',
        output: { type: 'command', argv: ['aplay', '-q', '-'] },
        defaultVolume: 70,
        maxVolume: 85,
        relay: { on: ['gpioset', 'gpiochip0', '17=1'], off: ['gpioset', 'gpiochip0', '17=0'] },
      },
      { id: 'school', name: 'Trường', output: { type: 'alsa', device: 'hw:1,0' } },
    ];
    c.quietHours = [{ start: '22:00', end: '05:00' }];
    c.chimes = { emergency: '/usr/share/loa/emergency.wav' };
    c.loudness = { targetLufs: -18, truePeakDb: -2 };
    c.graceSec = 30;
    c.telemetrySec = 15;
    c.asRunRetentionDays = 730;
    c.ffmpeg = '/usr/bin/ffmpeg';
    c.log = { level: 'debug' };
    const path = write(c);
    const base = join(path, '..');
    mkdirSync(join(base, 'secrets'));
    writeFileSync(join(base, 'secrets/broker-password'), 's3cret-pass\n');

    const cfg = loadStationConfig(path);
    expect(cfg.broker).toEqual({
      urls: ['mqtts://broker.example:8883', 'mqtts://backup.example:8883'],
      username: 'phuong-1',
      password: 's3cret-pass',
      passwordFile: join(base, 'secrets/broker-password'),
      tls: { ca: join(base, 'tls/ca.pem') },
      topicRoot: 'loa/v1',
      keepaliveSec: 20,
    });
    expect(cfg.dataDir).toBe('/var/lib/loa-station');
    expect(cfg.central.collector).toBe(false);
    expect(cfg.zones[0]!.relay).toEqual({ on: ['gpioset', 'gpiochip0', '17=1'], off: ['gpioset', 'gpiochip0', '17=0'], timeoutMs: 5000 });
    expect(cfg.zones[1]!.output).toEqual({ type: 'alsa', device: 'hw:1,0' });
    expect(cfg.quietHours).toEqual([{ start: '22:00', end: '05:00' }]);
    expect(cfg.chimes).toEqual({ emergency: '/usr/share/loa/emergency.wav' });
    expect(cfg.loudness).toEqual({ targetLufs: -18, truePeakDb: -2 });
    expect(cfg.ffmpeg).toBe('/usr/bin/ffmpeg');
    expect(cfg.log.level).toBe('debug');
  });

  it('ships a deploy/station.example.yaml that loads', () => {
    // Copied beside a password file, as it would sit in /etc/loa-station/.
    const sub = join(dir, 'example');
    mkdirSync(sub);
    copyFileSync(fileURLToPath(new URL('../deploy/station.example.yaml', import.meta.url)), join(sub, 'station.yaml'));
    writeFileSync(join(sub, 'broker-password'), 'example-password\n', { mode: 0o600 });
    const cfg = loadStationConfig(join(sub, 'station.yaml'));
    expect(cfg.station.id).toBe('phuong-ben-nghe');
    expect(cfg.broker.password).toBe('example-password');
    expect(cfg.broker.tls).toEqual({ ca: join(sub, 'ca.crt') });
    expect(cfg.zones.map((z) => z.id)).toEqual(['cho-ben-thanh', 'truong-hoc']);
    expect(cfg.zones[0]!.relay?.on).toEqual(['/usr/bin/gpioset', 'gpiochip0', '17=1']);
    expect(trustedKeys(cfg).size).toBe(2);
    expect(stationConfigWarnings(cfg)).toEqual([]);
  });

  it('trustedKeys gives the verifier working public keys and permissions', () => {
    const cfg = loadStationConfig(write(minimal()));
    const keys = trustedKeys(cfg);
    expect([...keys.keys()]).toEqual(['ward-office', 'district']);
    expect(keys.get('district')!.allow).toEqual(['alert']);

    const env = signEnvelope(
      makeEnvelope({
        id: 'c-1',
        type: 'cancel',
        issuer: 'ward-office',
        seq: 1,
        now: Date.now(),
        ttlMs: 60_000,
        target: { all: true },
        body: { broadcastId: 'b-1' },
      }),
      ward.privateKeyPem,
    );
    expect(checkSignature(env, env.sigs[0]!, keys.get('ward-office')!.publicKey)).toBe(true);
    expect(checkSignature(env, env.sigs[0]!, keys.get('district')!.publicKey)).toBe(false);
  });

  it('warns (without failing) when the alert quorum cannot be met', () => {
    const c = minimal();
    c.keys = [c.keys[0]];
    const cfg = loadStationConfig(write(c));
    expect(stationConfigWarnings(cfg).join('\n')).toMatch(/alertQuorum is 2 but only 1 key\(s\) may sign alerts/);
  });
});

describe('loadStationConfig: errors name the file, the key path and the expectation', () => {
  it('an unreadable file', () => {
    const missing = join(dir, 'nope', 'station.yaml');
    expect(() => loadStationConfig(missing)).toThrow(ConfigError);
    expect(() => loadStationConfig(missing)).toThrow(`${missing}: cannot read the config file`);
  });

  it('invalid YAML, with its line', () => {
    const e = errorOf('station:\n  id: a\n  name: [unclosed\n');
    expect(e.message).toMatch(/station\.yaml: line \d+, column \d+: invalid YAML/);
  });

  it('duplicate YAML keys', () => {
    const e = errorOf('station: {id: a}\nstation: {id: b}\n');
    expect(e.message).toMatch(/station\.yaml: line 2, column \d+: invalid YAML: .*[Uu]nique/);
  });

  it('an empty file', () => {
    expect(errorOf('').message).toMatch(/station\.yaml: the file is empty/);
  });

  it('a missing key', () => {
    const c = minimal();
    delete c.station.id;
    const e = errorOf(c);
    expect(e.message).toContain('station.yaml: station.id: expected an id of [a-z0-9-]{1,64}, but it is missing');
  });

  it('a missing section', () => {
    const c = minimal();
    delete c.zones;
    expect(errorOf(c).message).toContain('station.yaml: zones: expected a list of zones, but it is missing');
  });

  it('a wrong type, with the line it is on', () => {
    const c = minimal();
    c.zones.push({ id: 'school', output: { type: 'null' }, maxVolume: 'loud' });
    const e = errorOf(c);
    expect(e.message).toMatch(/^.*station\.yaml: zones\.1\.maxVolume: expected a number from 0 to 100, got "loud" \(line \d+\)$/m);
    expect(e.message.startsWith(`${join(dir)}`)).toBe(true);
  });

  it('a number out of range', () => {
    const c = minimal();
    c.zones[0].defaultVolume = 150;
    expect(errorOf(c).message).toContain('station.yaml: zones.0.defaultVolume: expected a number from 0 to 100, got 150');
  });

  it('a path-like id is refused before it can reach a file name', () => {
    const c = minimal();
    c.station.id = '../x';
    expect(errorOf(c).message).toContain('station.yaml: station.id: expected an id of [a-z0-9-]{1,64}, got "../x"');
    const z = minimal();
    z.zones[0].id = 'Zone/1';
    expect(errorOf(z).message).toContain('station.yaml: zones.0.id: expected an id of [a-z0-9-]{1,64}, got "Zone/1"');
  });

  it('an unknown key, with a suggestion when it is a near miss', () => {
    const c = minimal();
    c.zones[0].maxVolum = 90;
    c.alertQuorom = 2;
    const e = errorOf(c);
    expect(e.message).toContain('station.yaml: zones.0.maxVolum: unknown key; did you mean "maxVolume"?');
    expect(e.message).toContain('station.yaml: alertQuorom: unknown key; did you mean "alertQuorum"?');
  });

  it('an unknown key far from any known one lists what is allowed', () => {
    const c = minimal();
    c.broker.colour = 'blue';
    expect(errorOf(c).message).toMatch(/station\.yaml: broker\.colour: unknown key \(expected one of: urls, username, password, passwordFile, tls, topicRoot, keepaliveSec\)/);
  });

  it('an unknown key inside a zone output of a given type', () => {
    const c = minimal();
    c.zones[0].output = { type: 'file', dri: '/tmp/x' };
    const e = errorOf(c);
    expect(e.message).toContain('station.yaml: zones.0.output.dri: unknown key; did you mean "dir"?');
  });

  it('an unknown output type names the type key', () => {
    const c = minimal();
    c.zones[0].output = { type: 'bluetooth' };
    expect(errorOf(c).message).toContain('station.yaml: zones.0.output.type: expected an output with type file, null, command or alsa, got "bluetooth"');
  });

  it('a username needs exactly one of password or passwordFile', () => {
    const none = minimal();
    none.broker.username = 'phuong-1';
    expect(errorOf(none).message).toContain(
      'station.yaml: broker.password: expected password or passwordFile when username is set (there are no default credentials), but it is missing',
    );

    const both = minimal();
    both.broker = { ...both.broker, username: 'phuong-1', password: 'hunter2-secret', passwordFile: 'pw' };
    const e = errorOf(both);
    expect(e.message).toContain('station.yaml: broker.passwordFile: expected only one of password or passwordFile, not both');
    expect(e.message).not.toContain('hunter2-secret');
  });

  it('a password needs a username', () => {
    const c = minimal();
    c.broker.password = 'hunter2-secret';
    const e = errorOf(c);
    expect(e.message).toContain('station.yaml: broker.username: expected a username because password is set, but it is missing');
    expect(e.message).not.toContain('hunter2-secret');

    const f = minimal();
    f.broker.passwordFile = 'pw';
    expect(errorOf(f).message).toContain('station.yaml: broker.username: expected a username because passwordFile is set');
  });

  it('a password of the wrong type is not echoed', () => {
    const c = minimal();
    c.broker.username = 'u';
    c.broker.password = 123456789;
    const e = errorOf(c);
    expect(e.message).toContain('station.yaml: broker.password: expected a non-empty password, got a value that is not shown');
    expect(e.message).not.toContain('123456789');
  });

  it('a password file that cannot be read', () => {
    const c = minimal();
    c.broker.username = 'u';
    c.broker.passwordFile = 'missing-password';
    expect(errorOf(c).message).toMatch(/station\.yaml: broker\.passwordFile: expected a readable file, got \/.*missing-password \(ENOENT\)/);
  });

  it('a public key that does not decode to 32 bytes', () => {
    const c = minimal();
    c.keys[1].publicKey = Buffer.alloc(31, 7).toString('base64');
    expect(errorOf(c).message).toContain('station.yaml: keys.1.publicKey: expected the canonical base64 of a raw 32-byte Ed25519 public key (44 characters ending in =), got "');
    const junk = minimal();
    junk.keys[0].publicKey = 'not a key!';
    expect(errorOf(junk).message).toContain(
      'station.yaml: keys.0.publicKey: expected the canonical base64 of a raw 32-byte Ed25519 public key (44 characters ending in =), got "not a key!"',
    );
  });

  it('one public key listed twice, under two ids or two spellings, is refused (it would count twice toward alertQuorum)', () => {
    const c = minimal();
    c.keys[1].publicKey = c.keys[0].publicKey;
    expect(errorOf(c).message).toContain('station.yaml: keys.1.publicKey: expected a public key not already listed under another id');
    const unpadded = minimal();
    unpadded.keys[1].publicKey = unpadded.keys[0].publicKey.replace(/=$/, '');
    expect(errorOf(unpadded).message).toContain('keys.1.publicKey: expected the canonical base64');
  });

  it('an unknown permission', () => {
    const c = minimal();
    c.keys[0].allow = ['announce', 'reboot'];
    expect(errorOf(c).message).toContain('station.yaml: keys.0.allow.1: expected one of schedule, announce, alert, cancel, control, got "reboot"');
  });

  it('defaultVolume above maxVolume', () => {
    const c = minimal();
    c.zones[0].defaultVolume = 90;
    c.zones[0].maxVolume = 60;
    expect(errorOf(c).message).toContain('station.yaml: zones.0.defaultVolume: expected at most maxVolume (60), got 90');
  });

  it('duplicate zone ids and key ids', () => {
    const c = minimal();
    c.zones.push({ id: 'market', output: { type: 'null' } });
    c.keys.push({ ...c.keys[0] });
    const e = errorOf(c);
    expect(e.message).toContain('station.yaml: zones.1.id: expected a unique zone id, got "market"');
    expect(e.message).toContain('station.yaml: keys.2.id: expected a unique key id, got "ward-office"');
  });

  it('no zones at all', () => {
    const c = minimal();
    c.zones = [];
    expect(errorOf(c).message).toContain('station.yaml: zones: expected at least one zone, got a list');
  });

  it('a bad timezone', () => {
    const c = minimal();
    c.timezone = 'Asia/Saigonn';
    expect(errorOf(c).message).toContain('station.yaml: timezone: expected an IANA time zone like Asia/Ho_Chi_Minh, got "Asia/Saigonn"');
  });

  it('a bad broker URL, quiet hour and alert quorum', () => {
    const c = minimal();
    c.broker.urls = ['http://broker:1883'];
    c.quietHours = [{ start: '22:00', end: '5am' }];
    c.alertQuorum = 0;
    const e = errorOf(c);
    expect(e.message).toContain('station.yaml: broker.urls.0: expected a broker URL like mqtt://host:1883 or mqtts://host:8883, got "http://broker:1883"');
    expect(e.message).toContain('station.yaml: quietHours.0.end: expected a time of day "HH:MM" (00:00 to 23:59), got "5am"');
    expect(e.message).toContain('station.yaml: alertQuorum: expected a number from 1 to 16, got 0');
    expect(e.problems).toHaveLength(3);
  });

  it('a top level that is not a mapping', () => {
    expect(errorOf('- a\n- b\n').message).toMatch(/station\.yaml: expected a mapping at the top level, got a list/);
  });
});
