// Hostile input on every topic a station reads: station/group/all cmd, schedule, media and
// receipts. Each case is sent to a real `loa-station` behind mosquitto started from the
// generated config. A case passes when the daemon answers with the stated reason (a `rejected`
// ack, or `failed` for media problems; for receipts and media, which get no ack, the observable
// effect), nothing airs, the process is alive and answers a valid command, and its RSS grows
// by less than RSS_BOUND_KIB.
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import type { Ack, SignedEnvelope } from '../../protocol/index.js';
import { fixture } from '../audio.js';
import { freePort } from '../mosquitto.js';
import { makeKey, TestController, type TestKey } from '../station.js';
import { type Central, ffmpegArgs, makeTone, rssKiB, type Station, sleep, startCentral, startStation, TOPICS, tempDir, toneHz, wavSeconds } from './lib.js';

export const RSS_BOUND_KIB = 100 * 1024;
const MB10 = 10 * 1024 * 1024;

export const HOSTILE_GROUPS = ['malformed', 'paths', 'signatures', 'receipts', 'media', 'afterwards'] as const;
export type HostileGroup = (typeof HOSTILE_GROUPS)[number];

export interface HostileRow {
  group: HostileGroup;
  case: string;
  topic: string;
  expected: string;
  got: string;
  played: boolean;
  alive: boolean;
  rssDeltaKiB: number;
  verdict: 'PASS' | 'FAIL';
  ms: number;
}

export interface HostileReport {
  rows: HostileRow[];
  rssStartKiB: number;
  rssEndKiB: number;
  seconds: number;
}

interface Ctx {
  central: Central;
  ctl: TestController;
  st: Station;
  office: TestKey;
  official: TestKey;
  deputy: TestKey;
  clerk: TestKey;
  stranger: TestKey;
  rows: HostileRow[];
  audioDir: string;
  group: HostileGroup;
}

const ST = 'hs-target';
const GROUP = 'hg';
const T = {
  cmd: TOPICS.stationCmd(ST),
  group: TOPICS.groupCmd(GROUP),
  all: TOPICS.allCmd(),
  schedule: TOPICS.schedule(ST),
  receipt: TOPICS.receipt(ST),
};
const short = (t: string) => t.replace('loa/v1/', '');

function sha256(b: Buffer): string {
  return createHash('sha256').update(b).digest('hex');
}

async function publish(ctx: Ctx, topic: string, payload: string | Buffer): Promise<void> {
  await ctx.ctl.client.publishAsync(topic, payload, { qos: 1 });
}

/** A valid command the daemon must answer after every case: it is alive and still serving. */
async function probe(ctx: Ctx): Promise<boolean> {
  const env = ctx.ctl.envelope('control', { action: 'rebirth' }, { stations: [ST] }, ctx.office);
  await ctx.ctl.send(ST, env);
  try {
    await ctx.ctl.waitForAck((a) => a.commandId === env.id && a.state === 'received', 10_000);
    return true;
  } catch {
    return false;
  }
}

function alive(ctx: Ctx): boolean {
  return ctx.st.proc.alive();
}

function ackDesc(a: Ack | undefined): string {
  if (!a) return 'no ack';
  if (!a.reason) return a.state === 'completed' ? 'completed (it aired)' : a.state;
  return `${a.state}: ${a.reason}${a.detail ? ` (${a.detail.slice(0, 70)})` : ''}`;
}

function push(ctx: Ctx, r: Omit<HostileRow, 'verdict' | 'group'>, ok: boolean, group: HostileGroup = ctx.group): void {
  const verdict = ok && !r.played && r.alive && r.rssDeltaKiB < RSS_BOUND_KIB ? 'PASS' : 'FAIL';
  ctx.rows.push({ ...r, group, verdict });
}

/** Send `payload` `reps` times; each must draw a `rejected` ack with `reason`. */
async function expectRejected(ctx: Ctx, name: string, topic: string, make: () => string | Buffer | SignedEnvelope, reason: string, reps: number): Promise<void> {
  const t = Date.now();
  const wav0 = ctx.st.wavs().length;
  const rss0 = rssKiB(ctx.st.proc.pid);
  let got = '';
  let ok = true;
  let answered = true;
  for (let i = 0; i < reps; i++) {
    const before = ctx.ctl.acks.length;
    const p = make();
    await publish(ctx, topic, typeof p === 'string' || Buffer.isBuffer(p) ? p : JSON.stringify(p));
    let ack: Ack | undefined;
    try {
      ack = await ctx.ctl.waitForAck((a) => ctx.ctl.acks.indexOf(a) >= before && a.station === ST && a.state === 'rejected', 10_000);
    } catch {
      ack = undefined;
    }
    got = ackDesc(ack);
    if (!ack || ack.reason !== reason || !ack.detail) ok = false;
    answered = (await probe(ctx)) && answered;
  }
  push(
    ctx,
    {
      case: name,
      topic: short(topic),
      expected: `rejected: ${reason}`,
      got: reps > 1 ? `${got} ×${reps}` : got,
      played: ctx.st.wavs().length !== wav0,
      alive: alive(ctx) && answered,
      rssDeltaKiB: rssKiB(ctx.st.proc.pid) - rss0,
      ms: Date.now() - t,
    },
    ok,
  );
}

function deepJson(depth: number): string {
  return '{"v":1,"body":' + '['.repeat(depth) + ']'.repeat(depth) + '}';
}

function invalidUtf8(): Buffer {
  return Buffer.concat([Buffer.from('{"v":1,"id":"'), Buffer.from([0xc3, 0x28, 0xff, 0xfe, 0xed, 0xa0, 0x80]), Buffer.from('"}')]);
}

async function setup(): Promise<Ctx> {
  const office = makeKey('office', ['schedule', 'announce', 'cancel', 'control']);
  const official = makeKey('official', ['alert']);
  const deputy = makeKey('deputy', ['alert']);
  const clerk = makeKey('clerk', ['announce']);
  const stranger = makeKey('stranger', ['schedule', 'announce', 'alert', 'cancel', 'control']);
  const central = await startCentral([
    { id: ST, groups: [GROUP] },
    { id: 'hs-other', groups: ['hg-other'] },
  ]);
  const ctl = await TestController.connect(central.broker.url, { username: central.centralUser, password: central.centralPassword });
  // collector: true and no collector running: acks stay in the outbox until a receipt drops them,
  // which is what the receipt cases observe.
  const st = await startStation(central, { id: ST, groups: [GROUP], keys: [office, official, deputy, clerk], alertQuorum: 2, collector: true });
  return { central, ctl, st, office, official, deputy, clerk, stranger, rows: [], audioDir: tempDir('hostile-audio'), group: 'malformed' };
}

// ---- the cases -------------------------------------------------------------------------------

async function malformedEverywhere(ctx: Ctx, reps: number): Promise<void> {
  const media = { kind: 'media', sha256: 'a'.repeat(64), size: 1000 };
  const validFor = (topic: string): SignedEnvelope => {
    if (topic === T.schedule) return ctx.ctl.envelope('schedule', { station: ST, version: 1, items: [] }, { stations: [ST] }, ctx.office);
    const target = topic === T.group ? { groups: [GROUP] } : topic === T.all ? { all: true } : { stations: [ST] };
    return ctx.ctl.envelope('announce', { audio: media }, target, ctx.office);
  };
  for (const topic of [T.cmd, T.group, T.all, T.schedule]) {
    await expectRejected(ctx, 'malformed JSON', topic, () => '{"v":1,"id":"x",', 'invalid', reps);
    await expectRejected(ctx, 'wrong types', topic, () => JSON.stringify({ ...validFor(topic), v: '1', seq: 'many', sigs: 'none' }), 'invalid', reps);
    await expectRejected(ctx, 'unknown field (signed envelope + field)', topic, () => JSON.stringify({ ...validFor(topic), admin: true }), 'invalid', reps);
    await expectRejected(ctx, '10 MB payload', topic, () => '{"v":1,"id":"' + 'a'.repeat(MB10) + '"}', 'invalid', reps);
    await expectRejected(ctx, 'deep nesting (100 000 levels)', topic, () => deepJson(100_000), 'invalid', reps);
    await expectRejected(ctx, 'invalid UTF-8', topic, invalidUtf8, 'invalid', reps);
  }
}

async function pathsAndArguments(ctx: Ctx, reps: number): Promise<void> {
  const media = { kind: 'media', sha256: 'b'.repeat(64), size: 1000 };
  const signed = (body: object, opts: { id?: string } = {}, target: object = { stations: [ST] }) => ctx.ctl.envelope('announce', body, target as never, ctx.office, opts);
  const ids: [string, string][] = [
    ['id with ../', '../../etc/passwd'],
    ['id with +', 'cmd+1'],
    ['id with #', 'cmd#1'],
    ['id with NUL', 'cmd\u0000rm'],
    ['id with shell metacharacters', 'x;rm -rf /;$(reboot)`id`|&>'],
  ];
  for (const [name, id] of ids) await expectRejected(ctx, `${name} (signed)`, T.cmd, () => signed({ audio: media }, { id }), 'invalid', reps);
  await expectRejected(
    ctx,
    'issuer with ../',
    T.cmd,
    () => ctx.ctl.envelope('announce', { audio: media }, { stations: [ST] }, { ...ctx.office, id: '../office' }),
    'invalid',
    reps,
  );
  await expectRejected(ctx, 'target station + (wildcard)', T.cmd, () => signed({ audio: media }, {}, { stations: ['+'] }), 'invalid', reps);
  await expectRejected(ctx, 'zone ../../tmp/x', T.cmd, () => signed({ zones: ['../../tmp/x'], audio: media }), 'invalid', reps);
  await expectRejected(ctx, 'media sha256 ../../etc/passwd', T.cmd, () => signed({ audio: { kind: 'media', sha256: '../../../../../../etc/passwd', size: 10 } }), 'invalid', reps);
  await expectRejected(ctx, 'media size 0 (zero-length clip)', T.cmd, () => signed({ audio: { kind: 'media', sha256: sha256(Buffer.alloc(0)), size: 0 } }), 'invalid', reps);
  await expectRejected(ctx, 'media URL file:///etc/passwd', T.cmd, () => signed({ audio: { ...media, urls: ['file:///etc/passwd'] } }), 'invalid', reps);
  for (const url of ['file:///etc/passwd', '-i', 'concat:/etc/passwd|/etc/hosts', '-f lavfi -i sine', 'subfile,,start,0,end,0,,:/etc/shadow', 'http://a b/ c']) {
    await expectRejected(ctx, `stream URL ${JSON.stringify(url)}`, T.cmd, () => signed({ audio: { kind: 'stream', urls: [url], durationSec: 5 } }), 'invalid', reps);
  }
  await expectRejected(
    ctx,
    'schedule item id ../x',
    T.schedule,
    () => ctx.ctl.envelope('schedule', { station: ST, version: 1, items: [{ id: '../x', cron: '0 5 * * *', audio: media }] }, { stations: [ST] }, ctx.office),
    'invalid',
    reps,
  );
  await expectRejected(
    ctx,
    'schedule station ../hs-target',
    T.schedule,
    () => ctx.ctl.envelope('schedule', { station: '../hs-target', version: 1, items: [] }, { stations: [ST] }, ctx.office),
    'invalid',
    reps,
  );
  await expectRejected(
    ctx,
    'schedule cron with shell text',
    T.schedule,
    () => ctx.ctl.envelope('schedule', { station: ST, version: 1, items: [{ id: 'c', cron: '$(reboot) * * * *', audio: media }] }, { stations: [ST] }, ctx.office),
    'invalid',
    reps,
  );
  await expectRejected(
    ctx,
    'schedule tz ../../etc/localtime',
    T.schedule,
    () =>
      ctx.ctl.envelope('schedule', { station: ST, version: 1, tz: '../../etc/localtime', items: [{ id: 'c', cron: '0 5 * * *', audio: media }] }, { stations: [ST] }, ctx.office),
    'invalid',
    reps,
  );
}

async function signatures(ctx: Ctx, reps: number): Promise<void> {
  const media = { kind: 'media', sha256: 'c'.repeat(64), size: 1000 };
  const ann = (key: TestKey, opts: Parameters<TestController['envelope']>[4] = {}, target: object = { stations: [ST] }) =>
    ctx.ctl.envelope('announce', { audio: media }, target as never, key, opts);
  await expectRejected(ctx, 'unsigned (sigs: [])', T.cmd, () => ({ ...ann(ctx.office), sigs: [] }) as never, 'invalid', reps);
  await expectRejected(
    ctx,
    'unsigned (no sigs field)',
    T.cmd,
    () => {
      const { sigs: _s, ...rest } = ann(ctx.office);
      return JSON.stringify(rest);
    },
    'invalid',
    reps,
  );
  await expectRejected(ctx, 'forged: issuer office, signed by another key', T.cmd, () => ann({ ...ctx.stranger, id: 'office' }), 'bad_signature', reps);
  await expectRejected(
    ctx,
    'tampered after signing',
    T.cmd,
    () => {
      const e = ann(ctx.office);
      return { ...e, body: { ...(e.body as object), priority: 'priority' } };
    },
    'bad_signature',
    reps,
  );
  await expectRejected(
    ctx,
    'garbage signature bytes',
    T.cmd,
    () => {
      const e = ann(ctx.office);
      return { ...e, sigs: [{ key: 'office', sig: randomBytes(64).toString('base64') }] };
    },
    'bad_signature',
    reps,
  );
  await expectRejected(ctx, 'signed by an untrusted key', T.cmd, () => ann(ctx.stranger), 'unknown_key', reps);
  await expectRejected(
    ctx,
    'valid signature, key not allowed for the type (clerk signs control)',
    T.cmd,
    () => ctx.ctl.envelope('control', { action: 'stop' }, { stations: [ST] }, ctx.clerk),
    'key_not_allowed',
    reps,
  );
  await expectRejected(
    ctx,
    'valid signature, key not allowed (alert key signs a schedule)',
    T.schedule,
    () => ctx.ctl.envelope('schedule', { station: ST, version: 1, items: [] }, { stations: [ST] }, ctx.official),
    'key_not_allowed',
    reps,
  );
  await expectRejected(ctx, 'expired', T.cmd, () => ann(ctx.office, { now: Date.now() - 7200_000, ttlMs: 3600_000 }), 'expired', reps);
  await expectRejected(ctx, 'future-dated', T.cmd, () => ann(ctx.office, { now: Date.now() + 3600_000 }), 'not_yet_valid', reps);
  await expectRejected(ctx, 'wrong target (other station)', T.cmd, () => ann(ctx.office, {}, { stations: ['hs-other'] }), 'wrong_target', reps);
  await expectRejected(ctx, 'wrong target (other group, on our group topic)', T.group, () => ann(ctx.office, {}, { groups: ['hg-other'] }), 'wrong_target', reps);
  await expectRejected(
    ctx,
    'schedule for another station',
    T.schedule,
    () => ctx.ctl.envelope('schedule', { station: 'hs-other', version: 1, items: [] }, { stations: [ST] }, ctx.office),
    'wrong_target',
    reps,
  );
  await expectRejected(ctx, 'protocol version 0 (downgrade)', T.cmd, () => ({ ...ann(ctx.office), v: 0 }) as never, 'invalid', reps);
  await expectRejected(
    ctx,
    'single-signed live alert (quorum 2)',
    T.cmd,
    () => ctx.ctl.envelope('alert', { test: false, audio: media }, { stations: [ST] }, ctx.official),
    'quorum_not_met',
    reps,
  );
  await expectRejected(
    ctx,
    'live alert signed twice by one key',
    T.cmd,
    () => {
      const e = ctx.ctl.envelope('alert', { test: false, audio: media }, { stations: [ST] }, ctx.official);
      return { ...e, sigs: [e.sigs[0]!, e.sigs[0]!] };
    },
    'invalid',
    reps,
  );
  await expectRejected(
    ctx,
    'live alert co-signed by a key not allowed to',
    T.cmd,
    () => ctx.ctl.cosign(ctx.ctl.envelope('alert', { test: false, audio: media }, { stations: [ST] }, ctx.official), ctx.clerk),
    'key_not_allowed',
    reps,
  );
  // One accepted message must not pin the replay memory for years or make later seqs stale.
  await expectRejected(ctx, 'command valid for 30 days (commands: at most 7)', T.cmd, () => ann(ctx.office, { ttlMs: 30 * 86_400_000 }), 'invalid', reps);
  await expectRejected(ctx, 'seq 9e15 (far ahead of its issue time)', T.cmd, () => ann(ctx.office, { seq: 9_000_000_000_000_000 }), 'invalid', reps);
  await expectRejected(
    ctx,
    'schedule with a seconds field in cron (sub-minute)',
    T.schedule,
    () => ctx.ctl.envelope('schedule', { station: ST, version: 2, items: [{ id: 'flood', cron: '* * * * * *', audio: media }] }, { stations: [ST] }, ctx.office),
    'invalid',
    reps,
  );
  // Replay: a valid command once (received), then byte-identical again.
  const once = ctx.ctl.envelope('control', { action: 'rebirth' }, { stations: [ST] }, ctx.office);
  await ctx.ctl.send(ST, once);
  await ctx.ctl.waitForAck((a) => a.commandId === once.id && a.state === 'received');
  await expectRejected(ctx, 'replayed (byte-identical)', T.cmd, () => once, 'replayed', reps);
  await expectRejected(ctx, 'replayed on the all topic', T.all, () => once, 'replayed', reps);
  await expectRejected(
    ctx,
    "stale seq (far below the issuer's highest)",
    T.cmd,
    () => ctx.ctl.envelope('control', { action: 'rebirth' }, { stations: [ST] }, ctx.office, { seq: 1 }),
    'stale_seq',
    reps,
  );
  // Schedule version downgrade: apply v5, then offer v4.
  const v5 = ctx.ctl.envelope('schedule', { station: ST, version: 5, items: [] }, { stations: [ST] }, ctx.office);
  await publish(ctx, T.schedule, JSON.stringify(v5));
  await ctx.ctl.waitForAck((a) => a.commandId === v5.id && a.state === 'applied');
  await expectRejected(
    ctx,
    'schedule version downgrade (v4 after v5)',
    T.schedule,
    () => ctx.ctl.envelope('schedule', { station: ST, version: 4, items: [] }, { stations: [ST] }, ctx.office),
    'stale_version',
    reps,
  );
}

/** Receipts get no ack: the observable is the outbox, which only a well-formed receipt for this station may shrink. */
async function receipts(ctx: Ctx, reps: number): Promise<void> {
  // Receipts naming seqs this station really has waiting: only the station check can stop them.
  const waiting = () => ctx.st.outboxSeqs(5000);
  const db = ctx.st.dbId();
  const cases: [string, string, () => string | Buffer][] = [
    ['garbage receipt', T.receipt, () => '{"v":1,"type":"receipt",'],
    ['receipt, invalid UTF-8', T.receipt, invalidUtf8],
    ['receipt naming another station', T.receipt, () => JSON.stringify({ v: 1, type: 'receipt', station: 'hs-other', db, seqs: waiting() })],
    ['receipt with wrong types', T.receipt, () => JSON.stringify({ v: 1, type: 'receipt', station: ST, db, seqs: [...waiting().map(String), -3, 1.5] })],
    ['receipt with unknown field', T.receipt, () => JSON.stringify({ v: 1, type: 'receipt', station: ST, db, seqs: waiting(), all: true })],
    [
      'receipt with 10 001 seqs (limit 10 000)',
      T.receipt,
      () => JSON.stringify({ v: 1, type: 'receipt', station: ST, db, seqs: [...waiting(), ...range(1, 10_001 - waiting().length)] }),
    ],
    ['10 MB receipt', T.receipt, () => JSON.stringify({ v: 1, type: 'receipt', station: ST, db, seqs: [], pad: 'x'.repeat(MB10) })],
    ['deeply nested receipt', T.receipt, () => deepJson(100_000)],
    ["receipt on another station's topic", TOPICS.receipt('hs-other'), () => JSON.stringify({ v: 1, type: 'receipt', station: ST, db, seqs: waiting() })],
    [
      "receipt for another store of this station (a replaced box's numbering)",
      T.receipt,
      () => JSON.stringify({ v: 1, type: 'receipt', station: ST, db: db.replace(/^./, (c) => (c === '0' ? '1' : '0')), seqs: waiting() }),
    ],
    ['receipt without a store id (protocol before v2)', T.receipt, () => JSON.stringify({ v: 1, type: 'receipt', station: ST, seqs: waiting() })],
  ];
  for (const [name, topic, make] of cases) {
    const t = Date.now();
    const rss0 = rssKiB(ctx.st.proc.pid);
    const wav0 = ctx.st.wavs().length;
    const d0 = ctx.st.outboxDepth();
    const e0 = ctx.st.lastSeq();
    let answered = true;
    for (let i = 0; i < reps; i++) {
      await publish(ctx, topic, make());
      answered = (await probe(ctx)) && answered;
    }
    // Nothing is receipted here, so every ack emitted meanwhile (the probes') must still be there.
    const d1 = ctx.st.outboxDepth();
    const added = ctx.st.lastSeq() - e0;
    push(
      ctx,
      {
        case: name,
        topic: short(topic),
        expected: 'ignored: outbox not dropped',
        got: `outbox ${d0} → ${d1} (${added} new acks)`,
        played: ctx.st.wavs().length !== wav0,
        alive: alive(ctx) && answered,
        rssDeltaKiB: rssKiB(ctx.st.proc.pid) - rss0,
        ms: Date.now() - t,
      },
      d1 === d0 + added,
    );
  }
  // Control: a well-formed receipt for this station from the central user does drop exactly its
  // seqs. Receipts are unsigned: only the broker ACL (central/receipt/<id> writable by central
  // alone) keeps others from sending this; see proof-acl.
  const t = Date.now();
  const rss0 = rssKiB(ctx.st.proc.pid);
  const d0 = ctx.st.outboxDepth();
  const e0 = ctx.st.lastSeq();
  const oldest = ctx.st.outboxSeqs(3);
  await publish(ctx, T.receipt, JSON.stringify({ v: 1, type: 'receipt', station: ST, db: ctx.st.dbId(), seqs: oldest }));
  const answered = await probe(ctx);
  const d1 = ctx.st.outboxDepth();
  const added = ctx.st.lastSeq() - e0;
  push(
    ctx,
    {
      case: 'control: well-formed receipt for the 3 oldest seqs',
      topic: short(T.receipt),
      expected: 'drops exactly 3 (ACL: central only)',
      got: `outbox ${d0} → ${d1} (${added} new acks)`,
      played: false,
      alive: alive(ctx) && answered,
      rssDeltaKiB: rssKiB(ctx.st.proc.pid) - rss0,
      ms: Date.now() - t,
    },
    d1 === d0 + added - 3,
  );
}

function range(a: number, b: number): number[] {
  return Array.from({ length: b - a + 1 }, (_, i) => a + i);
}

/** Media nobody asked for: 10 MB of garbage, and garbage on an unrelated sha. */
async function mediaGarbage(ctx: Ctx, reps: number): Promise<void> {
  const t = Date.now();
  const rss0 = rssKiB(ctx.st.proc.pid);
  const wav0 = ctx.st.wavs().length;
  let answered = true;
  for (let i = 0; i < reps; i++) {
    await ctx.ctl.client.publishAsync(TOPICS.media(sha256(randomBytes(8))), randomBytes(MB10), { qos: 1 });
    answered = (await probe(ctx)) && answered;
  }
  push(
    ctx,
    {
      case: '10 MB of random bytes on an unrequested media topic',
      topic: 'media/<sha>',
      expected: 'ignored',
      got: answered ? 'ignored, answers commands' : 'no answer',
      played: ctx.st.wavs().length !== wav0,
      alive: alive(ctx) && answered,
      rssDeltaKiB: rssKiB(ctx.st.proc.pid) - rss0,
      ms: Date.now() - t,
    },
    answered,
  );
}

/**
 * Media whose bytes do not match the sha256: the retained message under media/<sha> is garbage
 * when the announcement arrives. The daemon must ignore it (nothing airs, no crash) and air the
 * right clip once the right bytes are published.
 */
async function wrongShaMedia(ctx: Ctx): Promise<void> {
  const t = Date.now();
  const rss0 = rssKiB(ctx.st.proc.pid);
  const good = readFileSync(await makeTone(ctx.audioDir, 880, 3));
  const sha = sha256(good);
  await ctx.ctl.client.publishAsync(TOPICS.media(sha), randomBytes(good.length), { qos: 1, retain: true });
  const mark = ctx.st.proc.logs().length;
  const env = ctx.ctl.envelope('announce', { title: 'wrong sha', audio: { kind: 'media', sha256: sha, size: good.length } }, { stations: [ST] }, ctx.office);
  await ctx.ctl.send(ST, env);
  await ctx.ctl.waitForAck((a) => a.commandId === env.id && a.state === 'scheduled');
  const ignored = await ctx.st.proc.waitForLog(/media bytes do not match their sha256/, 10_000, mark).then(
    () => true,
    () => false,
  );
  await sleep(2000);
  const airedEarly = ctx.st.wavs().some((f) => f.includes(env.id));
  const outcomeEarly = ctx.ctl.acks.find((a) => a.broadcastId === env.id && ['started', 'failed', 'completed'].includes(a.state));
  await ctx.ctl.client.publishAsync(TOPICS.media(sha), good, { qos: 1, retain: true });
  let got = '';
  let ok = false;
  try {
    const done = await ctx.ctl.waitForAck((a) => a.broadcastId === env.id && ['completed', 'failed'].includes(a.state), 30_000);
    const wav = ctx.st
      .wavs()
      .filter((f) => f.includes(env.id))
      .map((f) => path.join(ctx.st.outDir, f));
    const hz = wav[0] ? toneHz(wav[0]) : 0;
    got = `wrong bytes ${ignored ? 'ignored (logged)' : 'NOT logged'}, ${airedEarly || outcomeEarly ? 'acted on early' : 'nothing aired'}; right bytes: ${done.state}, ${hz.toFixed(0)} Hz ${wav[0] ? wavSeconds(wav[0]).toFixed(2) : 0} s`;
    ok = ignored && !airedEarly && !outcomeEarly && done.state === 'completed' && wav.length === 1 && Math.abs(hz - 880) < 20;
  } catch (e) {
    got = (e as Error).message.slice(0, 120);
  }
  const answered = await probe(ctx);
  push(
    ctx,
    {
      case: 'media bytes not matching the sha256, then the right bytes',
      topic: 'media/<sha>',
      expected: 'ignored; the right clip airs',
      got,
      played: airedEarly,
      alive: alive(ctx) && answered,
      rssDeltaKiB: rssKiB(ctx.st.proc.pid) - rss0,
      ms: Date.now() - t,
    },
    ok,
  );
}

interface MediaCase {
  name: string;
  file?: string;
  bytes?: Buffer;
  urls?: string[];
  sizeOverride?: number;
  sha?: string;
  expected: string;
  timeoutMs: number;
}

/** Announcements whose clip is bad: each must end `failed` with a reason and never air. */
async function badAudio(ctx: Ctx, cases: MediaCase[]): Promise<void> {
  const t = Date.now();
  const rss0 = rssKiB(ctx.st.proc.pid);
  const sent: { c: MediaCase; env: SignedEnvelope; at: number }[] = [];
  for (const c of cases) {
    const bytes = c.bytes ?? readFileSync(c.file!);
    const sha = c.sha ?? sha256(bytes);
    if (bytes.length > 0) await ctx.ctl.client.publishAsync(TOPICS.media(sha), bytes, { qos: 1, retain: true });
    const env = ctx.ctl.envelope(
      'announce',
      { title: c.name, audio: { kind: 'media', sha256: sha, size: c.sizeOverride ?? bytes.length, ...(c.urls ? { urls: c.urls } : {}) } },
      { stations: [ST] },
      ctx.office,
    );
    await ctx.ctl.send(ST, env);
    sent.push({ c, env, at: Date.now() });
  }
  await Promise.all(
    sent.map(async ({ c, env, at }) => {
      let ack: Ack | undefined;
      try {
        ack = await ctx.ctl.waitForAck((a) => a.broadcastId === env.id && ['failed', 'completed', 'rejected'].includes(a.state), c.timeoutMs);
      } catch {
        ack = undefined;
      }
      const played = ctx.st.wavs().some((f) => f.includes(env.id));
      const answered = await probe(ctx);
      push(
        ctx,
        {
          case: c.name,
          topic: 'station cmd + media',
          expected: c.expected,
          got: ackDesc(ack),
          played,
          alive: alive(ctx) && answered,
          rssDeltaKiB: rssKiB(ctx.st.proc.pid) - rss0,
          ms: Date.now() - at,
        },
        ack?.state === 'failed' && !!ack.reason && !!ack.detail,
        'media',
      );
    }),
  );
  void t;
}

/** A stream URL that passes the schema (http) but carries shell syntax: argv, never a shell. */
async function shellInStreamUrl(ctx: Ctx): Promise<void> {
  const t = Date.now();
  const rss0 = rssKiB(ctx.st.proc.pid);
  const canary = path.join(ctx.audioDir, `pwned-${randomBytes(4).toString('hex')}`);
  const port = await freePort();
  // biome-ignore lint/suspicious/noTemplateCurlyInString: a literal ${IFS} is the shell payload under test
  const url = `http://127.0.0.1:${port}/x;touch${'${IFS}'}${canary};$(touch${'${IFS}'}${canary})\`touch${'${IFS}'}${canary}\``;
  const env = ctx.ctl.envelope('announce', { title: 'shell url', audio: { kind: 'stream', urls: [url], durationSec: 5 } }, { stations: [ST] }, ctx.office);
  await ctx.ctl.send(ST, env);
  let ack: Ack | undefined;
  try {
    ack = await ctx.ctl.waitForAck((a) => a.broadcastId === env.id && ['failed', 'completed'].includes(a.state), 40_000);
  } catch {
    ack = undefined;
  }
  const answered = await probe(ctx);
  const pwned = existsSync(canary);
  push(
    ctx,
    {
      case: 'stream URL with $( ) ; ` (valid http, dead port)',
      topic: short(T.cmd),
      expected: 'failed: playback_failed, no command run',
      got: `${ackDesc(ack)}${pwned ? ' — CANARY FILE CREATED' : ', canary absent'}`,
      played: ctx.st.wavs().some((f) => f.includes(env.id)),
      alive: alive(ctx) && answered,
      rssDeltaKiB: rssKiB(ctx.st.proc.pid) - rss0,
      ms: Date.now() - t,
    },
    ack?.state === 'failed' && !!ack.reason && !pwned,
  );
}

/** A relay whose scheme this fleet does not allow (rtsp; the station allows http, https): never started. */
async function relaySchemeNotAllowed(ctx: Ctx): Promise<void> {
  const t = Date.now();
  const rss0 = rssKiB(ctx.st.proc.pid);
  const env = ctx.ctl.envelope('announce', { title: 'rtsp relay', audio: { kind: 'stream', urls: ['rtsp://127.0.0.1:1/live'], durationSec: 5 } }, { stations: [ST] }, ctx.office);
  await ctx.ctl.send(ST, env);
  let ack: Ack | undefined;
  try {
    ack = await ctx.ctl.waitForAck((a) => a.broadcastId === env.id && ['failed', 'completed'].includes(a.state), 30_000);
  } catch {
    ack = undefined;
  }
  const answered = await probe(ctx);
  push(
    ctx,
    {
      case: 'relay URL with a scheme the fleet does not allow (rtsp)',
      topic: short(T.cmd),
      expected: 'failed: relay_failed, not allowed',
      got: ackDesc(ack),
      played: ctx.st.wavs().some((f) => f.includes(env.id)),
      alive: alive(ctx) && answered,
      rssDeltaKiB: rssKiB(ctx.st.proc.pid) - rss0,
      ms: Date.now() - t,
    },
    ack?.state === 'failed' && ack.reason === 'relay_failed' && /not allowed/.test(ack.detail ?? ''),
  );
}

/** Serves one URL with an empty body (the only way to hand a station a zero-byte clip). */
async function emptyServer(): Promise<{ url: string; close: () => void }> {
  const srv = http.createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'audio/mpeg', 'content-length': '0' });
    res.end();
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  return { url: `http://127.0.0.1:${(srv.address() as AddressInfo).port}/empty.mp3`, close: () => srv.close() };
}

export interface HostileOptions {
  /** Times each payload is sent (the full run repeats to show memory stays bounded). */
  reps: number;
}

/** Every hostile case against one daemon. */
export async function hostile(opts: HostileOptions): Promise<HostileReport> {
  const t = Date.now();
  const ctx = await setup();
  const reps = opts.reps;
  try {
    const rssStart = rssKiB(ctx.st.proc.pid);
    // At production settings (2 GB cache), an hours-long clip is refused by its duration before
    // any transcoding: start it first anyway, collect it last.
    const long = path.join(ctx.audioDir, 'three-hours-silent.mp3');
    await ffmpegArgs(['-f', 'lavfi', '-i', 'anullsrc=r=8000:cl=mono', '-t', '10800', '-c:a', 'libmp3lame', '-b:a', '8k', long]);
    const longCase = badAudio(ctx, [{ name: 'hours long: 3 h silent 8 kb/s MP3 (10.8 MB), default 2 GB cache', file: long, expected: 'failed (media)', timeoutMs: 30_000 }]);

    ctx.group = 'malformed';
    await malformedEverywhere(ctx, reps);
    ctx.group = 'paths';
    await pathsAndArguments(ctx, reps);
    await shellInStreamUrl(ctx);
    await relaySchemeNotAllowed(ctx);
    ctx.group = 'signatures';
    await signatures(ctx, reps);
    ctx.group = 'receipts';
    await receipts(ctx, reps);
    ctx.group = 'media';
    await mediaGarbage(ctx, reps);
    await wrongShaMedia(ctx);

    const dir = ctx.audioDir;
    const tone = readFileSync(fixture('tone-3s.wav'));
    const mp3 = readFileSync(fixture('music-10s.mp3'));
    const cut = (name: string, b: Buffer) => {
      const f = path.join(dir, name);
      writeFileSync(f, b);
      return f;
    };
    const empty = await emptyServer();
    try {
      await badAudio(ctx, [
        { name: 'truncated WAV (cut inside the header, 30 B)', file: cut('t30.wav', tone.subarray(0, 30)), expected: 'failed (media)', timeoutMs: 30_000 },
        { name: 'truncated WAV (header only, no samples)', file: cut('t44.wav', tone.subarray(0, 44)), expected: 'failed (media)', timeoutMs: 30_000 },
        { name: 'truncated WAV (half of its declared 3 s)', file: cut('thalf.wav', tone.subarray(0, 66_000)), expected: 'failed (media)', timeoutMs: 30_000 },
        { name: 'truncated MP3 (first 300 B)', file: cut('m300.mp3', mp3.subarray(0, 300)), expected: 'failed (media)', timeoutMs: 30_000 },
        { name: 'truncated MP3 (half of its declared 10 s)', file: cut('mhalf.mp3', mp3.subarray(0, 30_000)), expected: 'failed (media)', timeoutMs: 30_000 },
        { name: 'not audio (text)', file: fixture('not-audio.txt'), expected: 'failed (media)', timeoutMs: 30_000 },
        { name: 'not audio (3000 random bytes as .mp3)', file: fixture('corrupt.mp3'), expected: 'failed (media)', timeoutMs: 30_000 },
        { name: 'zero-length clip (empty body over HTTP)', bytes: Buffer.alloc(0), sizeOverride: 1, urls: [empty.url], expected: 'failed (media)', timeoutMs: 60_000 },
      ]);
    } finally {
      empty.close();
    }
    await longCase;

    // Still a working station: a valid announcement airs whole.
    const good = await ctx.ctl.publishMedia(fixture('tone-3s.wav'));
    const env = ctx.ctl.envelope('announce', { title: 'after everything', audio: { kind: 'media', ...good } }, { stations: [ST] }, ctx.office);
    await ctx.ctl.send(ST, env);
    const rssBefore = rssKiB(ctx.st.proc.pid);
    const done = await ctx.ctl.waitForAck((a) => a.broadcastId === env.id && ['completed', 'failed'].includes(a.state), 30_000).catch(() => undefined);
    const wav = ctx.st.wavs().filter((f) => f.includes(env.id));
    ctx.rows.push({
      group: 'afterwards',
      case: 'afterwards: a valid announcement',
      topic: short(T.cmd),
      expected: 'completed, 3 s aired',
      got: `${done?.state ?? 'no ack'}, ${wav.length} WAV`,
      played: wav.length === 1,
      alive: alive(ctx),
      rssDeltaKiB: rssKiB(ctx.st.proc.pid) - rssBefore,
      ms: 0,
      verdict: done?.state === 'completed' && wav.length === 1 && alive(ctx) ? 'PASS' : 'FAIL',
    });
    const rssEnd = rssKiB(ctx.st.proc.pid);
    return { rows: ctx.rows, rssStartKiB: rssStart, rssEndKiB: rssEnd, seconds: Math.round((Date.now() - t) / 1000) };
  } finally {
    await ctx.ctl.close().catch(() => undefined);
    await ctx.st.stop();
    await ctx.central.stop();
  }
}
