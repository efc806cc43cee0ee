// Access control on a real mosquitto started from exactly what `loa broker config` wrote
// (password file, ACL, TLS listener with the generated CA). Every negative check has a positive
// control next to it, so a check that "received nothing" cannot pass because nothing works.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import { type Central, sleep, startCentral, TOPICS, tempDir } from './lib.js';

export interface AclRow {
  case: string;
  expected: string;
  got: string;
  verdict: 'PASS' | 'FAIL';
}
export interface AclReport {
  rows: AclRow[];
  tls: string;
  seconds: number;
}

const A = 'acl-a';
const B = 'acl-b';
/** A bridged ward broker that carries station A only. */
const BRIDGE = 'acl-bridge-a';
const R = TOPICS.root;

function connect(url: string, opts: IClientOptions = {}): Promise<MqttClient> {
  return new Promise((resolve, reject) => {
    const c = mqtt.connect(url, { reconnectPeriod: 0, connectTimeout: 5000, protocolVersion: 4, clientId: `acl-${Math.random().toString(16).slice(2)}`, ...opts });
    c.once('connect', () => resolve(c));
    c.once('error', (e) => {
      c.end(true);
      reject(e);
    });
    c.once('close', () => reject(new Error('connection closed')));
  });
}

async function refused(p: Promise<MqttClient>): Promise<string> {
  try {
    const c = await p;
    c.end(true);
    return 'connected';
  } catch (e) {
    return `refused (${(e as Error).message.slice(0, 60)})`;
  }
}

/** What arrives on `topic` at `reader` within ms after `act` (a refused subscription gets nothing). */
async function seen(reader: MqttClient, topic: string, act: () => Promise<unknown>, ms = 400): Promise<{ got: string[]; granted: number }> {
  const got: string[] = [];
  const on = (t: string, p: Buffer) => {
    if (matches(topic, t)) got.push(p.toString());
  };
  reader.on('message', on);
  const granted = await reader.subscribeAsync(topic, { qos: 1 });
  await act();
  await sleep(ms);
  reader.off('message', on);
  await reader.unsubscribeAsync(topic);
  return { got, granted: granted[0]?.qos ?? -1 };
}

function matches(filter: string, topic: string): boolean {
  const f = filter.split('/');
  const t = topic.split('/');
  for (let i = 0; i < f.length; i++) {
    if (f[i] === '#') return true;
    if (f[i] !== '+' && f[i] !== t[i]) return false;
  }
  return f.length === t.length;
}

export async function acl(): Promise<AclReport> {
  const t0 = Date.now();
  const rows: AclRow[] = [];
  const row = (c: string, expected: string, got: string, ok: boolean) => rows.push({ case: c, expected, got, verdict: ok ? 'PASS' : 'FAIL' });
  const central: Central = await startCentral(
    [
      { id: A, groups: ['ga'] },
      { id: B, groups: ['gb'] },
    ],
    { tls: true, bridges: [{ id: BRIDGE, stations: [A] }] },
  );
  const clients: MqttClient[] = [];
  try {
    const url = central.stationUrl;
    const centralUrl = central.broker.url;
    const as = async (user: string, password: string) => {
      const c = await connect(user === central.centralUser ? centralUrl : url, { username: user, password });
      clients.push(c);
      return c;
    };

    // Authentication.
    const anon = await refused(connect(url));
    row('anonymous client', 'refused', anon, anon.startsWith('refused'));
    const wrong = await refused(connect(url, { username: A, password: 'not-the-password' }));
    row('station A, wrong password', 'refused', wrong, wrong.startsWith('refused'));
    const swapped = await refused(connect(url, { username: B, password: central.stationPassword(A) }));
    row("B's user name with A's password", 'refused', swapped, swapped.startsWith('refused'));
    const asCentral = await refused(connect(centralUrl, { username: central.centralUser, password: central.stationPassword(A) }));
    row("central's user name with A's password", 'refused', asCentral, asCentral.startsWith('refused'));
    const aOnCentral = await refused(connect(centralUrl, { username: A, password: central.stationPassword(A), clientId: A }));
    row("A's credentials on the central listener", 'refused', aOnCentral, aOnCentral.startsWith('refused'));
    const centralOnStations = await refused(connect(url, { username: central.centralUser, password: central.centralPassword }));
    row("central's credentials on the station listener", 'refused', centralOnStations, centralOnStations.startsWith('refused'));

    // Session takeover: A's own credentials with B's client id, or the collector's, must not
    // touch those sessions (the broker renames A's client id to "acl-a").
    {
      const collector = await connect(centralUrl, { username: central.centralUser, password: central.centralPassword, clientId: 'loa-central', clean: false });
      clients.push(collector);
      const bDurable = await connect(url, { username: B, password: central.stationPassword(B), clientId: B, clean: false });
      await bDurable.subscribeAsync(`${R}/station/${B}/cmd`, { qos: 1 });
      await bDurable.endAsync();
      for (let i = 1; i <= 3; i++) await collector.publishAsync(`${R}/station/${B}/cmd`, `queued-${i}`, { qos: 1 });
      let collectorDropped = false;
      collector.once('close', () => (collectorDropped = true));
      const asB = await refused(
        connect(url, { username: A, password: central.stationPassword(A), clientId: B, clean: true }).then(async (c) => {
          await sleep(200);
          return c;
        }),
      );
      const asCollector = await refused(
        connect(url, { username: A, password: central.stationPassword(A), clientId: 'loa-central', clean: true }).then(async (c) => {
          await sleep(200);
          return c;
        }),
      );
      await sleep(300);
      const got: string[] = [];
      const bBack = await new Promise<MqttClient>((resolve, reject) => {
        const c = mqtt.connect(url, { username: B, password: central.stationPassword(B), clientId: B, clean: false, reconnectPeriod: 0, protocolVersion: 4 });
        c.on('message', (_t, p) => got.push(p.toString()));
        c.once('connect', () => resolve(c));
        c.once('error', reject);
      });
      clients.push(bBack);
      await sleep(800);
      row("A connects with B's client id (clean session)", 'refused or harmless', asB === 'connected' ? 'connected as itself' : asB, true);
      row(
        'B reconnects: every command queued while A held its client id',
        '3 of 3 delivered',
        `${got.length} of 3: ${got.join(',') || 'nothing'}`,
        got.length === 3 && got.every((g, i) => g === `queued-${i + 1}`),
      );
      row("A connects with the collector's client id loa-central", 'refused or harmless', asCollector === 'connected' ? 'connected as itself' : asCollector, true);
      row(
        "the collector's session is untouched",
        'still connected',
        collectorDropped || !collector.connected ? 'dropped' : 'still connected',
        !collectorDropped && collector.connected,
      );
    }

    const cen = await as(central.centralUser, central.centralPassword);
    const a = await as(A, central.stationPassword(A));
    const b = await as(B, central.stationPassword(B));
    row('station A with its generated password (control)', 'connected', 'connected', true);

    const pub =
      (c: MqttClient, topic: string, payload = 'x', retain = false) =>
      () =>
        c.publishAsync(topic, payload, { qos: 1, retain });

    // Writing as someone else.
    for (const kind of ['ack', 'state', 'telemetry'] as const) {
      const topic = `${R}/station/${B}/${kind}`;
      const forged = await seen(cen, topic, pub(a, topic, `forged-${kind}`, kind === 'state'));
      row(`A publishes B's ${kind}`, 'nothing reaches central', forged.got.length ? `central got ${forged.got.join(',')}` : 'nothing arrived', forged.got.length === 0);
      const own = `${R}/station/${A}/${kind}`;
      const mine = await seen(cen, own, pub(a, own, `own-${kind}`));
      row(`A publishes its own ${kind} (control)`, 'central receives it', mine.got.join(',') || 'nothing arrived', mine.got.includes(`own-${kind}`));
    }

    // Reading what is not addressed to A.
    const reads: [string, string, boolean][] = [
      [`${R}/station/${B}/cmd`, "B's commands", false],
      [`${R}/station/${B}/schedule`, "B's schedule", false],
      [`${R}/group/gb/cmd`, "B's group's commands", false],
      [`${R}/central/receipt/${B}`, "B's receipts", false],
      [`${R}/station/${B}/ack`, "B's acks", false],
      [`${R}/station/${A}/cmd`, 'its own commands (control)', true],
      [`${R}/station/${A}/schedule`, 'its own schedule (control)', true],
      [`${R}/group/ga/cmd`, "its group's commands (control)", true],
      [`${R}/all/cmd`, 'all/cmd (control)', true],
      [`${R}/media/${'d'.repeat(64)}`, 'media (control)', true],
      [`${R}/central/state`, 'central/state (control)', true],
      [`${R}/central/receipt/${A}`, 'its own receipts (control)', true],
      [`${R}/central/prefetch`, 'draft prefetch hints (control)', true],
    ];
    for (const [topic, what, allowed] of reads) {
      const writer = topic.endsWith('/ack') ? b : cen;
      const r = await seen(a, topic, pub(writer, topic, 'payload'));
      const got = r.got.length ? `received (granted QoS ${r.granted})` : `nothing (granted ${r.granted === 128 ? 'refused' : `QoS ${r.granted}`})`;
      row(`A reads ${what}`, allowed ? 'received' : 'nothing', got, allowed ? r.got.length === 1 : r.got.length === 0);
    }
    // A wildcard subscription does not widen what A can read.
    {
      const r = await seen(a, `${R}/#`, async () => {
        await pub(cen, `${R}/station/${B}/cmd`, 'for-b')();
        await pub(b, `${R}/station/${B}/ack`, 'b-ack')();
        await pub(cen, `${R}/station/${A}/cmd`, 'for-a')();
      });
      const foreign = r.got.filter((p) => p === 'for-b' || p === 'b-ack');
      row(
        `A subscribes to ${R}/#`,
        "only A's own traffic",
        `got ${r.got.filter((p) => ['for-a', 'for-b', 'b-ack'].includes(p)).join(',') || 'nothing'}`,
        foreign.length === 0 && r.got.includes('for-a'),
      );
    }

    // Writing commands, schedules, media or central topics.
    const writes = [
      `${R}/station/${A}/cmd`,
      `${R}/station/${B}/cmd`,
      `${R}/group/ga/cmd`,
      `${R}/all/cmd`,
      `${R}/station/${A}/schedule`,
      `${R}/station/${B}/schedule`,
      `${R}/media/${'e'.repeat(64)}`,
      `${R}/central/state`,
      `${R}/central/receipt/${A}`,
      `${R}/central/receipt/${B}`,
      `${R}/central/prefetch`,
    ];
    for (const topic of writes) {
      const r = await seen(cen, topic, pub(a, topic, 'evil'));
      row(`A publishes to ${topic.replace(`${R}/`, '')}`, 'nothing reaches anyone', r.got.length ? `delivered: ${r.got.join(',')}` : 'nothing arrived', r.got.length === 0);
    }
    // And central can (control for the whole block).
    {
      const topic = `${R}/station/${A}/cmd`;
      const r = await seen(a, topic, pub(cen, topic, 'from-central'));
      row("central publishes A's cmd (control)", 'A receives it', r.got.join(',') || 'nothing', r.got.includes('from-central'));
    }

    // A bridged ward broker's user: exactly what its station may do, nothing of B's, no command.
    {
      const onCentral = await refused(connect(centralUrl, { username: BRIDGE, password: central.bridgePassword(BRIDGE) }));
      row("the bridge's credentials on the central listener", 'refused', onCentral, onCentral.startsWith('refused'));
      const br = await as(BRIDGE, central.bridgePassword(BRIDGE));
      for (const topic of [`${R}/station/${B}/ack`, `${R}/station/${B}/state`, `${R}/station/${A}/cmd`, `${R}/all/cmd`, `${R}/central/state`, `${R}/central/receipt/${A}`]) {
        const r = await seen(cen, topic, pub(br, topic, 'bridge-evil'));
        row(
          `bridge of A publishes to ${topic.replace(`${R}/`, '')}`,
          'nothing reaches anyone',
          r.got.length ? `delivered: ${r.got.join(',')}` : 'nothing arrived',
          r.got.length === 0,
        );
      }
      const own = `${R}/station/${A}/ack`;
      const mine = await seen(cen, own, pub(br, own, 'bridged-ack'));
      row("bridge of A publishes A's ack (control)", 'central receives it', mine.got.join(',') || 'nothing arrived', mine.got.includes('bridged-ack'));
      const foreign = await seen(br, `${R}/station/${B}/cmd`, pub(cen, `${R}/station/${B}/cmd`, 'for-b'));
      row("bridge of A reads B's commands", 'nothing', foreign.got.length ? 'received' : 'nothing', foreign.got.length === 0);
      const ownCmd = await seen(br, `${R}/station/${A}/cmd`, pub(cen, `${R}/station/${A}/cmd`, 'for-a'));
      row("bridge of A reads A's commands (control)", 'received', ownCmd.got.length ? 'received' : 'nothing', ownCmd.got.length === 1);
    }

    // TLS with the generated CA; a wrong CA and no CA are refused. TLS is the station listener.
    const tlsUrl = central.broker.tlsUrl!;
    const ca = readFileSync(central.caFile!);
    const ok = await refused(connect(tlsUrl, { username: A, password: central.stationPassword(A), ca, rejectUnauthorized: true }));
    row('TLS listener, generated CA', 'connected', ok, ok === 'connected');
    const other = tempDir('acl-ca');
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:prime256v1',
        '-nodes',
        '-keyout',
        path.join(other, 'ca.key'),
        '-out',
        path.join(other, 'ca.crt'),
        '-days',
        '1',
        '-subj',
        '/CN=Not the Loa CA',
      ],
      { stdio: 'ignore' },
    );
    const bad = await refused(connect(tlsUrl, { username: A, password: central.stationPassword(A), ca: readFileSync(path.join(other, 'ca.crt')), rejectUnauthorized: true }));
    row('TLS listener, a different CA', 'refused', bad, bad.startsWith('refused'));
    const none = await refused(connect(tlsUrl, { username: A, password: central.stationPassword(A), rejectUnauthorized: true }));
    row('TLS listener, system CAs only', 'refused', none, none.startsWith('refused'));
    const anonTls = await refused(connect(tlsUrl, { ca, rejectUnauthorized: true }));
    row('TLS listener, anonymous', 'refused', anonTls, anonTls.startsWith('refused'));
    return { rows, tls: 'generated by loa broker config', seconds: Math.round((Date.now() - t0) / 1000) };
  } finally {
    for (const c of clients) c.end(true);
    await central.stop();
  }
}
