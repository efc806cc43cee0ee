// Fault cases: real mosquitto (generated config, persistence), real `loa-station` daemons with
// `file` outputs, the real `loa collect`. Every case counts acks emitted (the station's ack seqs,
// contiguous from 1), acks the collector committed, lost, duplicated, crashes and on-time airings.
import { createHash } from 'node:crypto';
import { closeSync, openSync, readdirSync, readFileSync, rmSync, statSync, truncateSync as truncateFile, unlinkSync, writeFileSync, writeSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import mqtt from 'mqtt';
import { type Ack, CentralState, occurrenceId, type SignedEnvelope } from '../../protocol/index.js';
import { fixture } from '../audio.js';
import { createTestDatabase, type TestDatabase } from '../postgres.js';
import { makeKey, TestController, type TestKey } from '../station.js';
import {
  type Central,
  centralAcks,
  centralDuplicateRows,
  logicalDuplicates,
  makeTone,
  type Proc,
  type Station,
  type StationSpec,
  sleep,
  startCentral,
  startCollector,
  startStation,
  tempDir,
  toneHz,
  until,
  WireObserver,
  wavSeconds,
} from './lib.js';

/** A scheduled item counts as on time when its first frame is within this of its planned time. */
export const ON_TIME_MS = 1500;

export interface Check {
  what: string;
  ok: boolean;
  detail?: string;
}

export interface FaultResult {
  case: string;
  runs: number;
  /** Commands the case sent to stations, and how many of them never got any ack at central. */
  commandsSent: number;
  commandsLost: number;
  emitted: number;
  received: number;
  lost: number;
  duplicated: number;
  crashes: number;
  onTime: { ok: number; total: number; worstLateMs?: number };
  checks: Check[];
  verdict: 'PASS' | 'FAIL';
  seconds: number;
}

interface Ctx {
  central: Central;
  collector: Proc;
  collectors: Proc[];
  observer: WireObserver;
  ctl: TestController;
  key: TestKey;
  /** A second official's key: live alerts need both (alertQuorum 2). */
  key2: TestKey;
  /** Every command sent through send(): each must end with an ack at central. */
  sent: string[];
  stations: Station[];
  checks: Check[];
  onTime: { ok: number; total: number; worstLateMs: number };
  /** The case's own PostgreSQL database, dropped at teardown. */
  pg?: TestDatabase;
}

interface SetupOptions {
  /** The central database in PostgreSQL (a database of the case's own) instead of SQLite. */
  postgres?: boolean;
  /** This many collectors on one shared subscription (`--shared collectors --client-id loa-central-N`) instead of one. */
  sharedCollectors?: number;
}

export const SHARED_GROUP = 'collectors';

const H = 3600_000;
const sha256hex = (s: string) => createHash('sha256').update(s).digest('hex');
const iso = (t: number) => new Date(t).toISOString();

async function setup(specs: Omit<StationSpec, 'keys'>[], env: Record<string, string> = {}, opts: SetupOptions = {}): Promise<Ctx> {
  const key = makeKey('office', ['schedule', 'announce', 'alert', 'cancel', 'control']);
  const key2 = makeKey('duty', ['alert', 'cancel']);
  const pgdb = opts.postgres ? await createTestDatabase('loa_proof') : undefined;
  const central = await startCentral(
    specs.map((s) => ({ id: s.id, groups: s.groups })),
    pgdb ? { database: pgdb.url } : {},
  );
  const collectors: Proc[] = [];
  if (opts.sharedCollectors)
    for (let i = 1; i <= opts.sharedCollectors; i++) collectors.push(await startCollector(central, { shared: SHARED_GROUP, clientId: `loa-central-${i}` }));
  else collectors.push(await startCollector(central));
  const collector = collectors[0]!;
  const observer = await WireObserver.start(central);
  const ctl = await TestController.connect(central.broker.url, { username: central.centralUser, password: central.centralPassword });
  const stations: Station[] = [];
  for (const s of specs) {
    const st = await startStation(central, { ...s, keys: [key, key2] }, env);
    await primeSeq(ctl, st, key);
    stations.push(st);
  }
  return {
    central,
    collector,
    collectors,
    observer,
    ctl,
    key,
    key2,
    sent: [],
    stations,
    checks: [],
    onTime: { ok: 0, total: 0, worstLateMs: 0 },
    ...(pgdb ? { pg: pgdb } : {}),
  };
}

/**
 * Ack seqs are contiguous per station database, starting at a base the database picks on its
 * first ack (its creation time in µs). Learn the base before any fault: one control command,
 * its `received` ack seen on the wire, and the station's counter showing exactly that seq.
 */
async function primeSeq(ctl: TestController, st: Station, key: TestKey): Promise<void> {
  if (st.lastSeq() !== 0) throw new Error(`station ${st.id} emitted acks before the proof began`);
  const env = ctl.envelope('control', { action: 'rebirth' }, { stations: [st.id] }, key);
  await ctl.send(st.id, env);
  const ack = await ctl.waitForAck((a) => a.commandId === env.id && a.state === 'received', 15_000);
  const last = st.lastSeq();
  if (last !== ack.seq) throw new Error(`station ${st.id}: first ack has seq ${ack.seq} but the station's counter is at ${last}`);
  st.firstSeq = ack.seq;
}

async function teardown(ctx: Ctx): Promise<void> {
  await ctx.ctl.close().catch(() => undefined);
  await ctx.observer.close().catch(() => undefined);
  for (const s of ctx.stations) await s.stop();
  for (const c of ctx.collectors) await c.stop();
  await ctx.central.stop();
  await ctx.pg?.drop();
}

function check(ctx: Ctx, what: string, ok: boolean, detail?: string): void {
  ctx.checks.push({ what, ok, ...(detail ? { detail } : {}) });
}

async function waitCentral(ctx: Ctx, pred: (a: Ack) => boolean, timeoutMs: number, what: string): Promise<Ack> {
  return until(async () => (await centralAcks(ctx.central)).find(pred), timeoutMs, what).catch(async (e: Error) => {
    const have = (await centralAcks(ctx.central)).map((a) => `${a.seq}:${a.state}:${a.broadcastId ?? a.commandId ?? ''}`).join(' ');
    throw new Error(`${e.message}; central has: ${have}`);
  });
}

function recordOnTime(ctx: Ctx, started: Ack | undefined, label: string): void {
  ctx.onTime.total++;
  if (!started?.startedAt || !started.plannedAt) {
    check(ctx, `${label} started`, false, 'no started ack with times');
    return;
  }
  const late = Date.parse(started.startedAt) - Date.parse(started.plannedAt);
  ctx.onTime.worstLateMs = Math.max(ctx.onTime.worstLateMs, late);
  if (Math.abs(late) <= ON_TIME_MS) ctx.onTime.ok++;
  else check(ctx, `${label} on time`, false, `first frame ${late} ms after its planned time`);
}

function wavFor(st: Station, broadcastId: string): string[] {
  return st
    .wavs()
    .filter((f) => f.includes(`-${broadcastId}`))
    .map((f) => path.join(st.outDir, f));
}

/** Wait until the collector holds every seq every station emitted and every outbox is drained. */
async function settle(ctx: Ctx, timeoutMs = 45_000): Promise<void> {
  await until(
    async () => {
      for (const st of ctx.stations) {
        const last = st.lastSeq();
        const got = new Set((await centralAcks(ctx.central, st.id)).map((a) => a.seq));
        for (let s = st.firstSeq!; s <= last; s++) if (!got.has(s)) return false;
        if (st.proc.alive() && st.outboxDepth() !== 0) return false;
      }
      return true;
    },
    timeoutMs,
    'every emitted ack committed centrally and receipted',
  ).catch((e: Error) => check(ctx, 'settled', false, e.message.slice(0, 300)));
}

async function account(ctx: Ctx, name: string, runs: number, started: number): Promise<FaultResult> {
  await settle(ctx);
  let emitted = 0;
  let received = 0;
  for (const st of ctx.stations) {
    // Every store the station has had (a reset starts a new one), each numbered from its first seq.
    const stores = [...st.pastStores, { db: st.dbId(), firstSeq: st.firstSeq!, lastSeq: st.lastSeq() }];
    const rows = await centralAcks(ctx.central, st.id);
    for (const store of stores) {
      const mine = rows.filter((a) => a.db === store.db);
      const got = new Set(mine.map((a) => a.seq).filter((s) => s >= store.firstSeq && s <= store.lastSeq));
      const outside = mine.filter((a) => a.seq < store.firstSeq || a.seq > store.lastSeq).length;
      check(ctx, `${st.id} store ${store.db}: no central row outside the store's seq range`, outside === 0, `${outside} rows`);
      emitted += store.lastSeq === 0 ? 0 : store.lastSeq - store.firstSeq + 1;
      received += got.size;
    }
    const foreign = rows.filter((a) => !stores.some((x) => x.db === a.db)).length;
    check(ctx, `${st.id}: no central row from a store the station never had`, foreign === 0, `${foreign} rows`);
    check(ctx, `${st.id}: outbox drained by receipts`, st.outboxDepth() === 0, `depth ${st.outboxDepth()}`);
  }
  // Commands lost before any ack existed: sent, and nothing about them ever reached central.
  const all0 = await centralAcks(ctx.central);
  const commandsLost = ctx.sent.filter((id) => !all0.some((a) => a.commandId === id)).length;
  check(ctx, 'every command sent has at least one ack at central (none lost before an ack existed)', commandsLost === 0, `${commandsLost} of ${ctx.sent.length} without any ack`);
  const all = await centralAcks(ctx.central);
  const duplicated = (await centralDuplicateRows(ctx.central)) + logicalDuplicates(all) + ctx.observer.conflicts();
  const crashes = ctx.stations.reduce((n, s) => n + s.crashes(), 0) + ctx.collectors.filter((c) => c.crashed()).length;
  const lost = emitted - received;
  const onTimeOk = ctx.onTime.ok === ctx.onTime.total;
  const verdict = lost === 0 && commandsLost === 0 && duplicated === 0 && crashes === 0 && emitted > 0 && onTimeOk && ctx.checks.every((c) => c.ok) ? 'PASS' : 'FAIL';
  return {
    case: name,
    runs,
    commandsSent: ctx.sent.length,
    commandsLost,
    emitted,
    received,
    lost,
    duplicated,
    crashes,
    onTime: { ok: ctx.onTime.ok, total: ctx.onTime.total, ...(ctx.onTime.total ? { worstLateMs: ctx.onTime.worstLateMs } : {}) },
    checks: ctx.checks,
    verdict,
    seconds: Math.round((Date.now() - started) / 1000),
  };
}

async function run(
  name: string,
  runs: number,
  specs: Omit<StationSpec, 'keys'>[],
  body: (ctx: Ctx) => Promise<void>,
  env?: Record<string, string>,
  opts?: SetupOptions,
): Promise<FaultResult> {
  const t = Date.now();
  const ctx = await setup(specs, env, opts);
  try {
    try {
      await body(ctx);
    } catch (e) {
      check(ctx, 'scenario completed', false, (e as Error).message.slice(0, 500));
    }
    return await account(ctx, name, runs, t);
  } finally {
    await teardown(ctx);
  }
}

const announce = (ctx: Ctx, station: string, body: object) => ctx.ctl.envelope('announce', body, { stations: [station] }, ctx.key);
/** A live alert with both officials' signatures. */
const liveAlert = (ctx: Ctx, station: string, body: object) => ctx.ctl.cosign(ctx.ctl.envelope('alert', { test: false, ...body }, { stations: [station] }, ctx.key), ctx.key2);

/** Send a command and remember it: account() checks every one got an ack at central. */
async function send(ctx: Ctx, station: string, env: SignedEnvelope): Promise<void> {
  ctx.sent.push(env.id);
  await ctx.ctl.send(station, env);
}

// ---- cases ---------------------------------------------------------------------------------

/** Broker `kill -9` while a 10 s announcement is on air, then restart; `reps` times. */
export function brokerKill(reps: number): Promise<FaultResult> {
  return run('broker kill -9 mid-broadcast', reps, [{ id: 'fa-broker' }], async (ctx) => {
    const st = ctx.stations[0]!;
    const clip = await ctx.ctl.publishMedia(fixture('music-10s.mp3'));
    for (let i = 0; i < reps; i++) {
      await until(() => ctx.ctl.client.connected, 20_000, 'controller reconnected');
      const env = announce(ctx, st.id, { title: `broker kill ${i + 1}`, audio: { kind: 'media', ...clip } });
      await send(ctx, st.id, env);
      await waitCentral(ctx, (a) => a.broadcastId === env.id && a.state === 'started', 30_000, `${env.id} started`);
      await sleep(1500);
      const mark = st.proc.logs().length;
      await ctx.central.broker.kill9();
      await sleep(2000);
      await ctx.central.broker.restart();
      // The kill may have lost the station's session (autosave_interval 60): wait for its resubscribe.
      await st.proc.waitForLog(/"msg":"subscribed"/, 30_000, mark);
      await waitCentral(ctx, (a) => a.broadcastId === env.id && a.state === 'completed', 40_000, `${env.id} completed`);
      const wav = wavFor(st, env.id);
      const secs = wav[0] ? wavSeconds(wav[0]) : 0;
      check(ctx, `run ${i + 1}: aired once, whole (10 s) through the broker crash`, wav.length === 1 && Math.abs(secs - 10.03) < 0.3, `${wav.length} WAV, ${secs.toFixed(2)} s`);
    }
  });
}

/** `loa-station` SIGKILLed 2 s into a 10 s announcement, restarted; `reps` times. */
export function daemonKill(reps: number): Promise<FaultResult> {
  return run('daemon SIGKILL mid-playback', reps, [{ id: 'fa-daemon' }], async (ctx) => {
    const st = ctx.stations[0]!;
    const clip = await ctx.ctl.publishMedia(fixture('music-10s.mp3'));
    for (let i = 0; i < reps; i++) {
      const env = announce(ctx, st.id, { title: `daemon kill ${i + 1}`, audio: { kind: 'media', ...clip } });
      await send(ctx, st.id, env);
      await waitCentral(ctx, (a) => a.broadcastId === env.id && a.state === 'started', 30_000, `${env.id} started`);
      await sleep(2000);
      await st.proc.kill9();
      await sleep(300);
      await st.start();
      const failed = await waitCentral(ctx, (a) => a.broadcastId === env.id && ['failed', 'completed'].includes(a.state), 30_000, `${env.id} outcome`);
      check(
        ctx,
        `run ${i + 1}: interrupted airing acked failed/interrupted`,
        failed.state === 'failed' && failed.reason === 'interrupted',
        `${failed.state} ${failed.reason ?? ''}`,
      );
      await sleep(1500);
      const wav = wavFor(st, env.id);
      check(ctx, `run ${i + 1}: not aired again after the restart`, wav.length === 1, `${wav.length} WAV files`);
    }
    // After all the kills the daemon still plays a normal announcement.
    const tone = await ctx.ctl.publishMedia(fixture('tone-3s.wav'));
    const env = announce(ctx, st.id, { title: 'after kills', audio: { kind: 'media', ...tone } });
    await send(ctx, st.id, env);
    await waitCentral(ctx, (a) => a.broadcastId === env.id && a.state === 'completed', 30_000, `${env.id} completed`);
    const wav = wavFor(st, env.id);
    check(ctx, 'afterwards a new announcement airs whole', wav.length === 1 && Math.abs(wavSeconds(wav[0]!) - 3) < 0.1, `${wav.length} WAV`);
  });
}

/** The collector is down (SIGTERM, then SIGKILL on alternate runs) for a whole broadcast, then started. */
export function collectorDown(reps: number): Promise<FaultResult> {
  return run('collector down for a whole broadcast', reps, [{ id: 'fa-collector' }], async (ctx) => {
    const st = ctx.stations[0]!;
    const tone = await ctx.ctl.publishMedia(fixture('tone-3s.wav'));
    for (let i = 0; i < reps; i++) {
      if (i % 2 === 0) await ctx.collector.stop();
      else await ctx.collector.kill9();
      const env = announce(ctx, st.id, { title: `collector down ${i + 1}`, audio: { kind: 'media', ...tone } });
      await send(ctx, st.id, env);
      await ctx.ctl.waitForAck((a) => a.broadcastId === env.id && a.state === 'completed', 30_000);
      const waiting = st.outboxDepth();
      check(ctx, `run ${i + 1}: acks wait in the station outbox while the collector is down`, waiting >= 4, `outbox depth ${waiting}`);
      const missing = (await centralAcks(ctx.central)).filter((a) => a.broadcastId === env.id).length;
      check(ctx, `run ${i + 1}: nothing of it reached the database before the collector started`, missing === 0, `${missing} rows`);
      ctx.collector = await startCollector(ctx.central);
      ctx.collectors.push(ctx.collector);
      const rows = await until(
        async () => {
          const r = (await centralAcks(ctx.central)).filter((a) => a.broadcastId === env.id);
          return r.length >= 4 ? r : undefined;
        },
        30_000,
        `${env.id} rows after the collector started`,
      );
      check(
        ctx,
        `run ${i + 1}: received, scheduled, started, completed all arrive`,
        rows
          .map((a) => a.state)
          .sort()
          .join(',') === 'completed,received,scheduled,started',
        rows.map((a) => a.state).join(','),
      );
    }
  });
}

/** The broker is killed 4 s before a scheduled `at` item and restarted after it aired. */
export function brokerDownAtSchedule(reps: number): Promise<FaultResult> {
  return run('broker down at a scheduled time', reps, [{ id: 'fa-sched' }], async (ctx) => {
    const st = ctx.stations[0]!;
    const tone = await ctx.ctl.publishMedia(fixture('tone-3s.wav'));
    for (let i = 0; i < reps; i++) {
      await until(() => ctx.ctl.client.connected, 20_000, 'controller reconnected');
      const at = Math.ceil((Date.now() + 10_000) / 1000) * 1000;
      const item = `sched-${i + 1}`;
      const env = ctx.ctl.envelope(
        'schedule',
        {
          station: st.id,
          version: i + 1,
          items: [{ id: item, at: iso(at), title: `scheduled ${i + 1}`, audio: { kind: 'media', ...tone } }],
        },
        { stations: [st.id] },
        ctx.key,
      );
      await ctx.ctl.pushSchedule(st.id, env);
      await waitCentral(ctx, (a) => a.commandId === env.id && a.state === 'applied', 10_000, `schedule v${i + 1} applied`);
      await until(() => st.proc.logs().includes(tone.sha256) && /"msg":"media prepared"/.test(st.proc.logs()), 8000, 'clip prepared');
      await sleep(Math.max(0, at - 4000 - Date.now()));
      await ctx.central.broker.kill9();
      const id = occurrenceId(item, at);
      await sleep(Math.max(0, at + 5000 - Date.now()));
      const aired = wavFor(st, id);
      check(ctx, `run ${i + 1}: aired with no broker`, aired.length === 1, `${aired.length} WAV for ${id}`);
      const mark = st.proc.logs().length;
      await ctx.central.broker.restart();
      await st.proc.waitForLog(/"msg":"subscribed"/, 30_000, mark);
      const done = await waitCentral(ctx, (a) => a.broadcastId === id && a.state === 'completed', 30_000, `${id} completed`);
      const started = (await centralAcks(ctx.central)).find((a) => a.broadcastId === id && a.state === 'started');
      recordOnTime(ctx, started, id);
      check(ctx, `run ${i + 1}: its acks are marked historical`, done.historical === true && started?.historical === true, `completed.historical=${done.historical}`);
    }
  });
}

/**
 * cache.quotaMB 16 (the minimum): per run two 60 s clips air first, then three more are sent
 * for later (`at`), together over the quota. Eviction may only take clips nothing waits for;
 * each pending clip airs (2 s, maxDurationSec) with its own tone.
 */
export function cacheQuota(reps: number): Promise<FaultResult> {
  return run('cache quota exceeded', reps, [{ id: 'fa-quota', quotaMB: 16 }], async (ctx) => {
    const st = ctx.stations[0]!;
    const dir = tempDir('quota-audio');
    for (let i = 0; i < reps; i++) {
      const base = 300 + i * 500;
      const freqs = [base, base + 100, base + 200, base + 300, base + 400];
      const clips = [];
      for (const f of freqs) clips.push({ hz: f, ...(await ctx.ctl.publishMedia(await makeTone(dir, f, 60))) });
      const mark = st.proc.logs().length;
      const played = clips.slice(0, 2);
      const pending = clips.slice(2);
      for (const c of played) {
        const env = announce(ctx, st.id, { title: `quota played ${c.hz}`, maxDurationSec: 2, audio: { kind: 'media', sha256: c.sha256, size: c.size } });
        await send(ctx, st.id, env);
        await waitCentral(ctx, (a) => a.broadcastId === env.id && a.state === 'completed', 30_000, `${c.hz} Hz completed`);
      }
      const at0 = Math.ceil((Date.now() + 25_000) / 1000) * 1000;
      const envs = pending.map((c, k) => {
        const env = announce(ctx, st.id, { title: `quota pending ${c.hz}`, at: iso(at0 + k * 3000), maxDurationSec: 2, audio: { kind: 'media', sha256: c.sha256, size: c.size } });
        return { c, env };
      });
      for (const { env } of envs) await send(ctx, st.id, env);
      for (const { c, env } of envs) {
        await waitCentral(ctx, (a) => a.broadcastId === env.id && ['completed', 'failed'].includes(a.state), 60_000, `${c.hz} Hz outcome`);
        const started = (await centralAcks(ctx.central)).find((a) => a.broadcastId === env.id && a.state === 'started');
        recordOnTime(ctx, started, `${c.hz} Hz`);
        const wav = wavFor(st, env.id);
        const hz = wav[0] ? toneHz(wav[0]) : 0;
        const secs = wav[0] ? wavSeconds(wav[0]) : 0;
        check(
          ctx,
          `run ${i + 1}: pending ${c.hz} Hz clip aired with its own audio`,
          wav.length === 1 && Math.abs(hz - c.hz) / c.hz < 0.03 && Math.abs(secs - 2) < 0.1,
          `${wav.length} WAV, ${hz.toFixed(0)} Hz, ${secs.toFixed(2)} s`,
        );
      }
      const evictedNow = st.proc
        .jsonLogs(mark)
        .filter((l) => l.msg === 'media evicted')
        .map((l) => String(l.sha256));
      const pendingEvicted = pending.filter((c) => evictedNow.includes(c.sha256));
      const overQuota = st.proc
        .jsonLogs(mark)
        .filter((l) => l.msg === 'media cache over quota: remaining clips are pinned')
        .map((l) => l.usageBytes);
      check(
        ctx,
        `run ${i + 1}: the quota evicted clips nothing waits for`,
        evictedNow.length > 0,
        `${evictedNow.length} evicted; cache over quota ${overQuota.length}x (usage ${overQuota.join(', ')} B, quota ${16 * 1024 * 1024} B)`,
      );
      check(ctx, `run ${i + 1}: no pending clip evicted`, pendingEvicted.length === 0, `${pendingEvicted.length} pending evicted`);
    }
  });
}

/**
 * The wall clock (LOA_CLOCK_FILE) steps back by an hour, returns, then steps forward by an hour.
 * Occurrences the steps skip are acked missed; an aired item the clock passes again is not aired
 * twice; items after each step air on time.
 */
export async function clockStep(reps: number): Promise<FaultResult> {
  const t = Date.now();
  const results: FaultResult[] = [];
  for (let i = 0; i < reps; i++) results.push(await clockStepOnce(i + 1));
  const sum = (k: 'commandsSent' | 'commandsLost' | 'emitted' | 'received' | 'lost' | 'duplicated' | 'crashes') => results.reduce((n, r) => n + r[k], 0);
  const onTime = {
    ok: results.reduce((n, r) => n + r.onTime.ok, 0),
    total: results.reduce((n, r) => n + r.onTime.total, 0),
    worstLateMs: Math.max(...results.map((r) => r.onTime.worstLateMs ?? 0)),
  };
  return {
    case: 'wall clock stepped back and forward 1 h',
    runs: reps,
    commandsSent: sum('commandsSent'),
    commandsLost: sum('commandsLost'),
    emitted: sum('emitted'),
    received: sum('received'),
    lost: sum('lost'),
    duplicated: sum('duplicated'),
    crashes: sum('crashes'),
    onTime,
    checks: results.flatMap((r, k) => r.checks.map((c) => ({ ...c, what: `run ${k + 1}: ${c.what}` }))),
    verdict: results.every((r) => r.verdict === 'PASS') ? 'PASS' : 'FAIL',
    seconds: Math.round((Date.now() - t) / 1000),
  };
}

async function clockStepOnce(runNo: number): Promise<FaultResult> {
  const clockFile = path.join(tempDir('clock'), 'offset');
  writeFileSync(clockFile, '0');
  return run(
    `clock step ${runNo}`,
    1,
    [{ id: 'fa-clock', graceSec: 60 }],
    async (ctx) => {
      const st = ctx.stations[0]!;
      const tone = await ctx.ctl.publishMedia(fixture('tone-3s.wav'));
      const t0 = Math.ceil((Date.now() + 9000) / 1000) * 1000;
      const audio = { kind: 'media', ...tone };
      // Planned times in station-clock ms. See docs/proof.md for the timeline.
      const items: Record<string, number> = {
        a: t0 + 5000,
        w: t0 + 13_000,
        n: t0 - H + 18_000,
        m: t0 - H / 2,
        b: t0 + 24_000,
        x: t0 + 33_000,
        s1: t0 + H / 2,
        c: t0 + H + 38_000,
      };
      const env = ctx.ctl.envelope(
        'schedule',
        {
          station: st.id,
          version: 1,
          items: Object.entries(items).map(([id, at]) => ({ id, at: iso(at), title: `clock ${id}`, audio })),
        },
        { stations: [st.id] },
        ctx.key,
      );
      await ctx.ctl.pushSchedule(st.id, env);
      await waitCentral(ctx, (a) => a.commandId === env.id && a.state === 'applied', 10_000, 'schedule applied');
      await until(() => /"msg":"media prepared"/.test(st.proc.logs()), 8000, 'clip prepared');
      const stepAt = async (real: number, offset: number) => {
        await sleep(Math.max(0, real - Date.now()));
        writeFileSync(clockFile, String(offset));
      };
      await stepAt(t0 + 10_000, -H);
      await stepAt(t0 + 16_000, 0);
      await stepAt(t0 + 30_000, H);
      const idOf = (k: string) => occurrenceId(k, items[k]!);
      await waitCentral(ctx, (a) => a.broadcastId === idOf('c') && a.state === 'completed', 30_000, 'c completed');
      await sleep(1500);

      const acks = await centralAcks(ctx.central);
      const of = (k: string, state: string) => acks.filter((a) => a.broadcastId === idOf(k) && a.state === state);
      for (const k of ['a', 'b', 'c']) recordOnTime(ctx, of(k, 'started')[0], `item ${k}`);
      const w = of('w', 'started')[0];
      const wLate = w?.startedAt ? Date.parse(w.startedAt) - items.w! : NaN;
      check(ctx, 'w (due while the clock was an hour behind) airs once the clock is right, late within grace', wLate > 0 && wLate < 60_000, `${wLate} ms late`);
      for (const k of ['n', 'm', 'x', 's1']) {
        const missed = of(k, 'missed');
        check(
          ctx,
          `${k} (skipped by a forward step) acked missed once`,
          missed.length === 1 && missed[0]!.reason === 'grace_exceeded' && of(k, 'started').length === 0,
          `${missed.length} missed, ${of(k, 'started').length} started`,
        );
      }
      for (const k of ['a', 'w', 'b', 'c']) {
        check(
          ctx,
          `${k} aired exactly once`,
          of(k, 'started').length === 1 && of(k, 'completed').length === 1 && wavFor(st, idOf(k)).length === 1,
          `${of(k, 'started').length} started, ${wavFor(st, idOf(k)).length} WAV`,
        );
      }
      const terminal = acks.filter((a) => a.broadcastId && ['completed', 'missed', 'failed'].includes(a.state));
      check(
        ctx,
        'every occurrence has exactly one outcome (no silent loss)',
        terminal.length === Object.keys(items).length,
        `${terminal.length} outcomes for ${Object.keys(items).length} occurrences`,
      );
      check(ctx, 'only the 4 aired items made WAV files', st.wavs().length === 4, `${st.wavs().length} WAV files`);
    },
    { LOA_TEST_HOOKS: '1', LOA_CLOCK_FILE: clockFile },
  );
}

// ---- the disk, the store, the clock (issue 11) --------------------------------------------

/** Fill a file system to the last byte; returns the filler's path. */
function fill(dir: string): string {
  const filler = path.join(dir, `filler-${process.pid}`);
  const fd = openSync(filler, 'w');
  const chunk = Buffer.alloc(64 * 1024);
  try {
    for (;;) writeSync(fd, chunk);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOSPC') throw e;
    // The last few bytes: keep writing smaller pieces until nothing fits.
    for (let n = 32 * 1024; n >= 1; n = Math.floor(n / 2)) {
      try {
        for (;;) writeSync(fd, chunk.subarray(0, n));
      } catch {
        /* next size */
      }
    }
  } finally {
    closeSync(fd);
  }
  return filler;
}

/** Make the station's next write need new blocks: empty its WAL (a checkpoint from outside). */
function truncateWal(st: Station): void {
  const db = new Database(st.dbPath);
  try {
    db.pragma('busy_timeout = 5000');
    db.pragma('wal_checkpoint(TRUNCATE)');
  } finally {
    db.close();
  }
}

/**
 * The data directory's file system fills up (a 24 MB tmpfs, filled to the last byte) while live
 * alerts and announcements arrive. The station must not PUBACK what it could not store: the
 * broker keeps it, and once the disk is freed every command is stored, acked and aired.
 */
export function diskFull(reps: number): Promise<FaultResult> {
  return run('data disk full while alerts arrive', reps, [{ id: 'fa-disk', tmpfsMB: 24, chimes: { emergency: fixture('chime-emergency.wav') } }], async (ctx) => {
    const st = ctx.stations[0]!;
    const tone = await ctx.ctl.publishMedia(fixture('tone-3s.wav'));
    // The clip is cached before the disk fills, so what is tested is the store, not the cache.
    const warm = announce(ctx, st.id, { title: 'warm-up', audio: { kind: 'media', ...tone } });
    await send(ctx, st.id, warm);
    await waitCentral(ctx, (a) => a.broadcastId === warm.id && a.state === 'completed', 30_000, 'warm-up completed');
    for (let i = 0; i < reps; i++) {
      const mark = st.proc.logs().length;
      truncateWal(st);
      const filler = fill(st.dataDir);
      const cmds = [
        liveAlert(ctx, st.id, { title: `bão ${i + 1}a`, audio: { kind: 'media', ...tone } }),
        announce(ctx, st.id, { title: `disk full ${i + 1}`, audio: { kind: 'media', ...tone } }),
        liveAlert(ctx, st.id, { title: `bão ${i + 1}b`, audio: { kind: 'media', ...tone } }),
      ];
      for (const env of cmds) await send(ctx, st.id, env);
      await st.proc.waitForLog(/PUBACK withheld/, 15_000, mark).then(
        () => check(ctx, `run ${i + 1}: a command that could not be stored was not PUBACKed`, true),
        () => check(ctx, `run ${i + 1}: a command that could not be stored was not PUBACKed`, false, 'no "PUBACK withheld" in the station log'),
      );
      await sleep(3000);
      const early = (await centralAcks(ctx.central)).filter((a) => cmds.some((c) => c.id === a.commandId));
      check(ctx, `run ${i + 1}: nothing acked while the disk is full`, early.length === 0, `${early.length} acks`);
      const faulty = st.proc.jsonLogs(mark).some((l) => l.msg === 'store refuses writes: commands are not acknowledged until it recovers');
      check(ctx, `run ${i + 1}: the station says its store refuses writes`, faulty);
      unlinkSync(filler);
      for (const env of cmds) {
        const done = await waitCentral(ctx, (a) => a.broadcastId === env.id && ['completed', 'failed'].includes(a.state), 60_000, `${env.id} outcome after the disk was freed`);
        check(
          ctx,
          `run ${i + 1}: ${env.type} stored and aired once the disk was freed`,
          done.state === 'completed' && wavFor(st, env.id).length === 1,
          `${done.state} ${done.reason ?? ''}, ${wavFor(st, env.id).length} WAV`,
        );
      }
      const recovered = st.proc.jsonLogs(mark).some((l) => l.msg === 'store recovered: writes succeed again');
      check(ctx, `run ${i + 1}: the station recovered by itself`, recovered);
    }
  });
}

/**
 * Airings whose audio does not come must not hold the speakers: a prepared clip deleted behind
 * the cache index is fetched again and airs; an emergency whose clip never arrives fails
 * (no_audio) within the stall bound and frees its zone for the next broadcast; an emergency
 * whose clip cannot be written (disk full) fails with disk_full.
 */
export function silentAiring(reps: number): Promise<FaultResult> {
  return run('airings whose audio does not come', reps, [{ id: 'fa-silent', tmpfsMB: 24, stallSec: 5, chimes: { emergency: fixture('chime-emergency.wav') } }], async (ctx) => {
    const st = ctx.stations[0]!;
    for (let i = 0; i < reps; i++) {
      // 1. The prepared file vanishes behind the index: fetched again, airs whole.
      const tone = await ctx.ctl.publishMedia(await makeTone(tempDir('silent-audio'), 500 + i * 100, 3));
      const first = announce(ctx, st.id, { title: `cached ${i + 1}`, audio: { kind: 'media', ...tone } });
      await send(ctx, st.id, first);
      await waitCentral(ctx, (a) => a.broadcastId === first.id && a.state === 'completed', 30_000, 'first airing');
      const cacheDir = path.join(st.dataDir, 'cache');
      for (const f of readdirSync(cacheDir).filter((x) => x.startsWith(tone.sha256))) unlinkSync(path.join(cacheDir, f));
      const again = announce(ctx, st.id, { title: `vanished ${i + 1}`, audio: { kind: 'media', ...tone } });
      await send(ctx, st.id, again);
      const outcome = await waitCentral(ctx, (a) => a.broadcastId === again.id && ['completed', 'failed'].includes(a.state), 40_000, 'airing of the vanished clip');
      check(
        ctx,
        `run ${i + 1}: a prepared clip deleted behind the index is fetched again and airs`,
        outcome.state === 'completed' && wavFor(st, again.id).length === 1,
        `${outcome.state} ${outcome.reason ?? ''}`,
      );

      // 2. An emergency whose clip never arrives: chime, then no_audio within the stall bound.
      const ghost = { kind: 'media', sha256: sha256hex(`never published ${Date.now()} ${i}`), size: 1000 } as const;
      const t0 = Date.now();
      const lost = liveAlert(ctx, st.id, { title: `ghost ${i + 1}`, audio: ghost });
      await send(ctx, st.id, lost);
      const failed = await waitCentral(ctx, (a) => a.broadcastId === lost.id && ['completed', 'failed'].includes(a.state), 60_000, 'ghost alert outcome');
      const tookS = Math.round((Date.now() - t0) / 1000);
      check(
        ctx,
        `run ${i + 1}: an emergency whose clip never arrives fails no_audio in bounded time`,
        failed.state === 'failed' && failed.reason === 'no_audio' && tookS < 30,
        `${failed.state} ${failed.reason ?? ''} after ${tookS} s`,
      );
      const next = announce(ctx, st.id, { title: `after ghost ${i + 1}`, audio: { kind: 'media', ...tone } });
      await send(ctx, st.id, next);
      const nextDone = await waitCentral(ctx, (a) => a.broadcastId === next.id && ['completed', 'failed'].includes(a.state), 30_000, 'the next broadcast');
      check(ctx, `run ${i + 1}: the zone is free again for the next broadcast`, nextDone.state === 'completed', nextDone.state);

      // 3. An emergency whose clip cannot be kept: the disk is full after the command was stored.
      const big = await ctx.ctl.publishMedia(await makeTone(tempDir('silent-audio'), 700 + i * 100, 120));
      truncateWal(st);
      const filler = fill(st.dataDir);
      // Leave room for the store (a few hundred kB) but not for a 2-minute clip.
      truncateFile(filler, statSync(filler).size - 600 * 1024);
      const noRoom = liveAlert(ctx, st.id, { title: `no room ${i + 1}`, audio: { kind: 'media', ...big } });
      await send(ctx, st.id, noRoom);
      const full = await waitCentral(ctx, (a) => a.broadcastId === noRoom.id && ['completed', 'failed'].includes(a.state), 60_000, 'no-room alert outcome');
      check(
        ctx,
        `run ${i + 1}: an emergency whose clip cannot be written fails disk_full`,
        full.state === 'failed' && full.reason === 'disk_full',
        `${full.state} ${full.reason ?? ''}: ${full.detail ?? ''}`,
      );
      unlinkSync(filler);
    }
  });
}

/**
 * The station database is unreadable (overwritten with garbage while the daemon was stopped).
 * The daemon moves it aside, starts a fresh store under a new store id, says so (state,
 * telemetry, log), re-applies the retained schedule and keeps working; no ack collides.
 */
export function corruptStore(reps: number): Promise<FaultResult> {
  return run('station database unreadable at start', reps, [{ id: 'fa-corrupt' }], async (ctx) => {
    const st = ctx.stations[0]!;
    const tone = await ctx.ctl.publishMedia(fixture('tone-3s.wav'));
    const sched = ctx.ctl.envelope(
      'schedule',
      { station: st.id, version: 1, items: [{ id: 'later', at: iso(Date.now() + 86_400_000), title: 'tomorrow', audio: { kind: 'media', ...tone } }] },
      { stations: [st.id] },
      ctx.key,
    );
    await ctx.ctl.pushSchedule(st.id, sched);
    await waitCentral(ctx, (a) => a.commandId === sched.id && a.state === 'applied', 15_000, 'schedule applied');
    for (let i = 0; i < reps; i++) {
      const before = announce(ctx, st.id, { title: `before ${i + 1}`, audio: { kind: 'media', ...tone } });
      await send(ctx, st.id, before);
      await waitCentral(ctx, (a) => a.broadcastId === before.id && a.state === 'completed', 30_000, 'before completed');
      await settle(ctx);
      const oldDb = st.dbId();
      const oldLast = st.lastSeq();
      await st.proc.stop();
      st.pastStores.push({ db: oldDb, firstSeq: st.firstSeq!, lastSeq: oldLast });
      // Garbage over the header: SQLite calls it "not a database".
      const fd = openSync(st.dbPath, 'r+');
      writeSync(fd, Buffer.alloc(4096, 0x5a), 0, 4096, 0);
      closeSync(fd);
      for (const f of ['-wal', '-shm']) rmSync(st.dbPath + f, { force: true });
      const p = await st.start();
      const moved = readdirSync(path.dirname(st.dbPath)).filter((f) => f.startsWith('station.db.unreadable-') && !f.endsWith('-wal') && !f.endsWith('-shm'));
      check(ctx, `run ${i + 1}: the unreadable file is kept aside for inspection`, moved.length === i + 1, moved.join(', '));
      check(
        ctx,
        `run ${i + 1}: the log says so loudly`,
        p.jsonLogs().some((l) => l.msg === 'station database was unreadable: moved aside, started a fresh store' && l.level === 50),
      );
      const newDb = st.dbId();
      check(ctx, `run ${i + 1}: the fresh store has a new store id`, newDb !== oldDb, `${oldDb} -> ${newDb}`);
      st.firstSeq = 1;
      const birth = await until(() => latestState(ctx, st.id, newDb), 15_000, 'birth with the new store id');
      check(
        ctx,
        `run ${i + 1}: the birth message reports the reset`,
        !!birth.storeReset && birth.storeReset.movedTo.includes('unreadable'),
        JSON.stringify(birth.storeReset ?? null),
      );
      // The retained schedule applies again on the fresh store.
      await waitCentral(ctx, (a) => a.db === newDb && a.commandId === sched.id && a.state === 'applied', 20_000, 'schedule re-applied on the fresh store');
      const after = announce(ctx, st.id, { title: `after ${i + 1}`, audio: { kind: 'media', ...tone } });
      await send(ctx, st.id, after);
      const done = await waitCentral(ctx, (a) => a.broadcastId === after.id && a.state === 'completed', 30_000, 'after completed');
      check(ctx, `run ${i + 1}: the station keeps working on the fresh store`, done.db === newDb);
    }
  });
}

/** The newest state row the collector stored for a station, if it carries this store id. */
function latestState(ctx: Ctx, station: string, db: string): { storeReset?: { movedTo: string } } | undefined {
  const d = new Database(ctx.central.database, { readonly: true, fileMustExist: true });
  try {
    const row = d.prepare('SELECT json FROM station_state WHERE station = ?').get(station) as { json: string } | undefined;
    const state = row ? (JSON.parse(row.json) as { db?: string; storeReset?: { movedTo: string } }) : undefined;
    return state?.db === db ? state : undefined;
  } finally {
    d.close();
  }
}

/**
 * The box's clock is an hour behind when an announcement arrives: it is rejected as not yet
 * valid but held, and plays as soon as the clock is put right. Then the clock jumps ten years
 * ahead across a restart: the as-run log and the replay memory survive it, and a replay of an
 * old command is still refused when the clock comes back.
 */
export function clockWrong(reps: number): Promise<FaultResult> {
  const clockFile = path.join(tempDir('clock-wrong'), 'offset');
  writeFileSync(clockFile, '0');
  return run(
    'station clock wrong',
    reps,
    [{ id: 'fa-clockwrong' }],
    async (ctx) => {
      const st = ctx.stations[0]!;
      const tone = await ctx.ctl.publishMedia(fixture('tone-3s.wav'));
      for (let i = 0; i < reps; i++) {
        writeFileSync(clockFile, String(-H));
        await sleep(1500);
        const env = announce(ctx, st.id, { title: `clock behind ${i + 1}`, audio: { kind: 'media', ...tone } });
        await send(ctx, st.id, env);
        const held = await waitCentral(ctx, (a) => a.commandId === env.id && a.state === 'rejected', 15_000, 'rejected while the clock is behind');
        check(ctx, `run ${i + 1}: rejected not_yet_valid and held`, held.reason === 'not_yet_valid' && /held/.test(held.detail ?? ''), `${held.reason}: ${held.detail ?? ''}`);
        writeFileSync(clockFile, '0');
        const done = await waitCentral(ctx, (a) => a.broadcastId === env.id && a.state === 'completed', 30_000, 'aired once the clock was right');
        check(ctx, `run ${i + 1}: the held command aired once the clock was put right`, wavFor(st, env.id).length === 1, `${done.state}`);
      }
      // Ten years ahead across a restart: housekeeping runs at start and must prune nothing.
      const asRun = () => readStationCount(st.dbPath, 'SELECT count(*) AS n FROM asrun');
      const replay = () => readStationCount(st.dbPath, 'SELECT count(*) AS n FROM commands');
      const [asRun0, replay0] = [asRun(), replay()];
      await st.proc.stop();
      writeFileSync(clockFile, String(10 * 365 * 86_400_000));
      await st.start({ LOA_TEST_HOOKS: '1', LOA_CLOCK_FILE: clockFile });
      await sleep(2000);
      check(ctx, 'a 10-year forward jump does not wipe the as-run log', asRun() >= asRun0, `${asRun0} -> ${asRun()} rows`);
      check(ctx, 'a 10-year forward jump does not wipe the replay memory', replay() >= replay0, `${replay0} -> ${replay()} rows`);
      await st.proc.stop();
      writeFileSync(clockFile, '0');
      await st.start({ LOA_TEST_HOOKS: '1', LOA_CLOCK_FILE: clockFile });
      const old = ctx.sent[ctx.sent.length - 1]!;
      const raw = readStationRaw(st.dbPath, old);
      if (raw) {
        await ctx.ctl.send(st.id, raw);
        const again = await waitCentral(ctx, (a) => a.commandId === old && a.state === 'rejected' && a.reason === 'replayed', 15_000, 'replay refused');
        check(ctx, 'after the clock comes back, replaying an old command is still refused', again.reason === 'replayed');
      } else check(ctx, 'the replayed command is still in the replay memory', false, 'not found');
    },
    { LOA_TEST_HOOKS: '1', LOA_CLOCK_FILE: clockFile },
  );
}

function readStationCount(dbPath: string, sql: string): number {
  const db = new Database(dbPath, { readonly: true, fileMustExist: true });
  try {
    return (db.prepare(sql).get() as { n: number }).n;
  } finally {
    db.close();
  }
}

function readStationRaw(dbPath: string, id: string): string | undefined {
  const db = new Database(dbPath, { readonly: true, fileMustExist: true });
  try {
    return (db.prepare('SELECT raw FROM commands WHERE id = ?').get(id) as { raw: string } | undefined)?.raw;
  } finally {
    db.close();
  }
}

/**
 * Long downtime: a minutely item while the daemon was off for three hours (its clock jumps
 * ahead across a restart). Catch-up records one `missed` per item, not one per minute.
 */
export function catchUp(reps: number): Promise<FaultResult> {
  const clockFile = path.join(tempDir('catch-up'), 'offset');
  writeFileSync(clockFile, '0');
  return run(
    'catch-up after three hours off',
    reps,
    [{ id: 'fa-catchup' }],
    async (ctx) => {
      const st = ctx.stations[0]!;
      const tone = await ctx.ctl.publishMedia(fixture('tone-3s.wav'));
      for (let i = 0; i < reps; i++) {
        // Three hours pass for everyone, not only the box: from the second run on, central signs
        // at the time the station's clock now (rightly) shows. A schedule lives for days, as the
        // CLI signs it, so the retained copy is still valid after the downtime.
        const sched = ctx.ctl.envelope(
          'schedule',
          { station: st.id, version: i + 1, items: [{ id: `minutely-${i + 1}`, cron: '* * * * *', maxDurationSec: 1, title: 'every minute', audio: { kind: 'media', ...tone } }] },
          { stations: [st.id] },
          ctx.key,
          { now: Date.now() + Number(readFileSync(clockFile, 'utf8')), ttlMs: 7 * 24 * H },
        );
        ctx.sent.push(sched.id);
        await ctx.ctl.pushSchedule(st.id, sched);
        await waitCentral(ctx, (a) => a.commandId === sched.id && a.state === 'applied', 15_000, 'schedule applied');
        await st.proc.stop();
        const offset = Number(readFileSync(clockFile, 'utf8')) + 3 * H;
        writeFileSync(clockFile, String(offset));
        await st.start({ LOA_TEST_HOOKS: '1', LOA_CLOCK_FILE: clockFile });
        const missed = await waitCentral(ctx, (a) => a.itemId === `minutely-${i + 1}` && a.state === 'missed', 20_000, 'missed ack');
        await sleep(2000);
        const all = (await centralAcks(ctx.central)).filter((a) => a.itemId === `minutely-${i + 1}` && a.state === 'missed');
        check(
          ctx,
          `run ${i + 1}: one missed ack for ~180 skipped minutes`,
          all.length === 1 && /occurrences/.test(missed.detail ?? ''),
          `${all.length} missed acks: ${missed.detail ?? ''}`,
        );
      }
    },
    { LOA_TEST_HOOKS: '1', LOA_CLOCK_FILE: clockFile },
  );
}

/** Every central/state message as a station sees it, from a subscriber of its own. */
async function watchCentralState(ctx: Ctx): Promise<{ seen: CentralState[]; close(): Promise<void> }> {
  const seen: CentralState[] = [];
  const c = mqtt.connect(ctx.central.broker.url, {
    clientId: `proof-central-state-${process.pid}-${Math.random().toString(16).slice(2, 8)}`,
    username: ctx.central.centralUser,
    password: ctx.central.centralPassword,
    protocolVersion: 4,
    reconnectPeriod: 250,
  });
  c.on('message', (_topic, payload) => {
    try {
      const r = CentralState.safeParse(JSON.parse(payload.toString('utf8')));
      if (r.success) seen.push(r.data);
    } catch {
      // an empty retained message clears the topic: nothing to record
    }
  });
  await new Promise<void>((resolve, reject) => {
    c.once('connect', () => resolve());
    c.once('error', reject);
  });
  await c.subscribeAsync(ctx.ctl.topics.centralState(), { qos: 1 });
  return { seen, close: () => c.endAsync(true) };
}

export const FAILOVER_STATIONS = 13;

/**
 * Two collectors share the acks (`loa collect --shared`, PostgreSQL); one of them is frozen
 * (SIGSTOP) while 13 stations' acks for a broadcast to `all` stream in, so its share piles up
 * unacknowledged, then SIGKILLed. The other takes over without a restart, central/state never
 * says offline, and what the dead one took with it is re-sent by the stations when
 * central/state's view changes. Then the dead one is started again.
 */
export function collectorFailover(reps: number): Promise<FaultResult> {
  const specs = Array.from({ length: FAILOVER_STATIONS }, (_, i) => ({ id: `fo-${String(i + 1).padStart(2, '0')}` }));
  return run(
    'one of two collectors SIGKILLed mid-broadcast (shared subscription, PostgreSQL)',
    reps,
    specs,
    async (ctx) => {
      const watch = await watchCentralState(ctx);
      try {
        await until(() => watch.seen.some((s) => s.online && s.collectors === 2), 20_000, 'central/state online with 2 collectors');
        const tone = await ctx.ctl.publishMedia(fixture('tone-3s.wav'));
        const ids = ctx.stations.map((s) => s.id);
        const live = ctx.collectors.slice(-2);
        for (let i = 0; i < reps; i++) {
          const victim = i % 2;
          const env = ctx.ctl.envelope('announce', { title: `failover ${i + 1}`, audio: { kind: 'media', ...tone } }, { all: true }, ctx.key);
          ctx.sent.push(env.id);
          const mark = watch.seen.length;
          await ctx.ctl.client.publishAsync(ctx.ctl.topics.allCmd(), JSON.stringify(env), { qos: 1 });
          // Mid-stream: every `received` is in, `started` and `completed` are still coming.
          await until(
            async () => (await centralAcks(ctx.central)).filter((a) => a.commandId === env.id && a.state === 'received').length === ids.length,
            30_000,
            `${env.id}: received from all ${ids.length} stations`,
          );
          // Frozen first, so its share of the stream piles up unacknowledged in its session
          // (QoS 1 in flight and queued at the broker) and dies with it: the worst case.
          const frozen = live[victim]!;
          process.kill(frozen.pid, 'SIGSTOP');
          try {
            for (const id of ids) await ctx.ctl.waitForAck((a) => a.commandId === env.id && a.station === id && a.state === 'completed', 30_000);
          } finally {
            const committed = new Set((await centralAcks(ctx.central)).filter((a) => a.commandId === env.id).map((a) => a.id));
            const onWire = new Set(ctx.ctl.acks.filter((a) => a.commandId === env.id).map((a) => a.id));
            const held = [...onWire].filter((id) => !committed.has(id)).length;
            await frozen.kill9();
            check(ctx, `run ${i + 1}: the killed collector held acks nobody had committed`, held > 0, `${held} of ${onWire.size} acks on the wire not committed at the kill`);
          }
          await until(
            async () => {
              const done = new Set((await centralAcks(ctx.central)).filter((a) => a.commandId === env.id && a.state === 'completed').map((a) => a.station));
              return ids.every((id) => done.has(id));
            },
            60_000,
            `${env.id}: completed from every station after the kill`,
          );
          const after = watch.seen.slice(mark);
          check(
            ctx,
            `run ${i + 1}: central/state never said offline while a collector lived`,
            after.every((s) => s.online),
            JSON.stringify(after.filter((s) => !s.online)),
          );
          check(
            ctx,
            `run ${i + 1}: central/state announced 1 collector after the kill (stations re-send)`,
            after.some((s) => s.online && s.collectors === 1),
          );
          for (const st of ctx.stations) {
            const wav = wavFor(st, env.id);
            if (wav.length !== 1) check(ctx, `run ${i + 1}: ${st.id} aired it once`, false, `${wav.length} WAV`);
          }
          // The dead one comes back under its own client id; the group is two again.
          const again = await startCollector(ctx.central, { shared: SHARED_GROUP, clientId: `loa-central-${victim + 1}` });
          ctx.collectors.push(again);
          live[victim] = again;
          await until(() => watch.seen.slice(mark).some((s) => s.online && s.collectors === 2), 20_000, 'central/state with 2 collectors again');
        }
      } finally {
        await watch.close();
      }
    },
    undefined,
    { postgres: true, sharedCollectors: 2 },
  );
}

export const FAULT_CASES: Record<string, (reps: number) => Promise<FaultResult>> = {
  brokerKill,
  daemonKill,
  collectorDown,
  collectorFailover,
  brokerDownAtSchedule,
  cacheQuota,
  clockStep,
  diskFull,
  silentAiring,
  corruptStore,
  clockWrong,
  catchUp,
};
