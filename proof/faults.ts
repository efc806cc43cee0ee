// Fault cases: real mosquitto (generated config, persistence), real `loa-station` daemons with
// `file` outputs, the real `loa collect`. Every case counts acks emitted (the station's ack seqs,
// contiguous from 1), acks the collector committed, lost, duplicated, crashes and on-time airings.
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { occurrenceId, type Ack } from '../protocol/index.js';
import { fixture } from '../test/harness/audio.js';
import { TestController, makeKey, type TestKey } from '../test/harness/station.js';
import {
  centralAcks,
  centralDuplicateRows,
  logicalDuplicates,
  makeTone,
  sleep,
  startCentral,
  startCollector,
  startStation,
  tempDir,
  toneHz,
  until,
  wavSeconds,
  WireObserver,
  type Central,
  type Proc,
  type Station,
  type StationSpec,
} from './lib.js';

/** A scheduled item counts as on time when its first frame is within this of its planned time. */
export const ON_TIME_MS = 1500;

export interface Check { what: string; ok: boolean; detail?: string }

export interface FaultResult {
  case: string;
  runs: number;
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
  stations: Station[];
  checks: Check[];
  onTime: { ok: number; total: number; worstLateMs: number };
}

const H = 3600_000;
const iso = (t: number) => new Date(t).toISOString();

async function setup(specs: Omit<StationSpec, 'keys'>[], env: Record<string, string> = {}): Promise<Ctx> {
  const key = makeKey('office', ['schedule', 'announce', 'alert', 'cancel', 'control']);
  const central = await startCentral(specs.map((s) => ({ id: s.id, groups: s.groups })));
  const collector = await startCollector(central);
  const observer = await WireObserver.start(central);
  const ctl = await TestController.connect(central.broker.url, { username: central.centralUser, password: central.centralPassword });
  const stations: Station[] = [];
  for (const s of specs) {
    const st = await startStation(central, { ...s, keys: [key] }, env);
    await primeSeq(ctl, st, key);
    stations.push(st);
  }
  return { central, collector, collectors: [collector], observer, ctl, key, stations, checks: [], onTime: { ok: 0, total: 0, worstLateMs: 0 } };
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
}

function check(ctx: Ctx, what: string, ok: boolean, detail?: string): void {
  ctx.checks.push({ what, ok, ...(detail ? { detail } : {}) });
}

async function waitCentral(ctx: Ctx, pred: (a: Ack) => boolean, timeoutMs: number, what: string): Promise<Ack> {
  return until(() => centralAcks(ctx.central).find(pred), timeoutMs, () => `${what}; central has: ${centralAcks(ctx.central).map((a) => `${a.seq}:${a.state}:${a.broadcastId ?? a.commandId ?? ''}`).join(' ')}`);
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
  return st.wavs().filter((f) => f.includes(`-${broadcastId}`)).map((f) => path.join(st.outDir, f));
}

/** Wait until the collector holds every seq every station emitted and every outbox is drained. */
async function settle(ctx: Ctx, timeoutMs = 45_000): Promise<void> {
  await until(
    () => {
      for (const st of ctx.stations) {
        const last = st.lastSeq();
        const got = new Set(centralAcks(ctx.central, st.id).map((a) => a.seq));
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
    const e = st.emitted();
    const last = st.lastSeq();
    const rows = centralAcks(ctx.central, st.id);
    const got = new Set(rows.map((a) => a.seq).filter((s) => s >= st.firstSeq! && s <= last));
    const outside = rows.filter((a) => a.seq < st.firstSeq! || a.seq > last).length;
    check(ctx, `${st.id}: no central row outside the station's seq range`, outside === 0, `${outside} rows`);
    emitted += e;
    received += got.size;
    check(ctx, `${st.id}: outbox drained by receipts`, st.outboxDepth() === 0, `depth ${st.outboxDepth()}`);
  }
  const all = centralAcks(ctx.central);
  const duplicated = centralDuplicateRows(ctx.central) + logicalDuplicates(all) + ctx.observer.conflicts();
  const crashes = ctx.stations.reduce((n, s) => n + s.crashes(), 0) + ctx.collectors.filter((c) => c.crashed()).length;
  const lost = emitted - received;
  const onTimeOk = ctx.onTime.ok === ctx.onTime.total;
  const verdict = lost === 0 && duplicated === 0 && crashes === 0 && emitted > 0 && onTimeOk && ctx.checks.every((c) => c.ok) ? 'PASS' : 'FAIL';
  return {
    case: name,
    runs,
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

async function run(name: string, runs: number, specs: Omit<StationSpec, 'keys'>[], body: (ctx: Ctx) => Promise<void>, env?: Record<string, string>): Promise<FaultResult> {
  const t = Date.now();
  const ctx = await setup(specs, env);
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

// ---- cases ---------------------------------------------------------------------------------

/** Broker `kill -9` while a 10 s announcement is on air, then restart; `reps` times. */
export function brokerKill(reps: number): Promise<FaultResult> {
  return run('broker kill -9 mid-broadcast', reps, [{ id: 'fa-broker' }], async (ctx) => {
    const st = ctx.stations[0]!;
    const clip = await ctx.ctl.publishMedia(fixture('music-10s.mp3'));
    for (let i = 0; i < reps; i++) {
      await until(() => ctx.ctl.client.connected, 20_000, 'controller reconnected');
      const env = announce(ctx, st.id, { title: `broker kill ${i + 1}`, audio: { kind: 'media', ...clip } });
      await ctx.ctl.send(st.id, env);
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
      await ctx.ctl.send(st.id, env);
      await waitCentral(ctx, (a) => a.broadcastId === env.id && a.state === 'started', 30_000, `${env.id} started`);
      await sleep(2000);
      await st.proc.kill9();
      await sleep(300);
      await st.start();
      const failed = await waitCentral(ctx, (a) => a.broadcastId === env.id && ['failed', 'completed'].includes(a.state), 30_000, `${env.id} outcome`);
      check(ctx, `run ${i + 1}: interrupted airing acked failed/interrupted`, failed.state === 'failed' && failed.reason === 'interrupted', `${failed.state} ${failed.reason ?? ''}`);
      await sleep(1500);
      const wav = wavFor(st, env.id);
      check(ctx, `run ${i + 1}: not aired again after the restart`, wav.length === 1, `${wav.length} WAV files`);
    }
    // After all the kills the daemon still plays a normal announcement.
    const tone = await ctx.ctl.publishMedia(fixture('tone-3s.wav'));
    const env = announce(ctx, st.id, { title: 'after kills', audio: { kind: 'media', ...tone } });
    await ctx.ctl.send(st.id, env);
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
      await ctx.ctl.send(st.id, env);
      await ctx.ctl.waitForAck((a) => a.broadcastId === env.id && a.state === 'completed', 30_000);
      const waiting = st.outboxDepth();
      check(ctx, `run ${i + 1}: acks wait in the station outbox while the collector is down`, waiting >= 4, `outbox depth ${waiting}`);
      const missing = centralAcks(ctx.central).filter((a) => a.broadcastId === env.id).length;
      check(ctx, `run ${i + 1}: nothing of it reached the database before the collector started`, missing === 0, `${missing} rows`);
      ctx.collector = await startCollector(ctx.central);
      ctx.collectors.push(ctx.collector);
      const rows = await until(() => {
        const r = centralAcks(ctx.central).filter((a) => a.broadcastId === env.id);
        return r.length >= 4 ? r : undefined;
      }, 30_000, `${env.id} rows after the collector started`);
      check(ctx, `run ${i + 1}: received, scheduled, started, completed all arrive`, rows.map((a) => a.state).sort().join(',') === 'completed,received,scheduled,started', rows.map((a) => a.state).join(','));
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
      const env = ctx.ctl.envelope('schedule', {
        station: st.id, version: i + 1, items: [{ id: item, at: iso(at), title: `scheduled ${i + 1}`, audio: { kind: 'media', ...tone } }],
      }, { stations: [st.id] }, ctx.key);
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
      const started = centralAcks(ctx.central).find((a) => a.broadcastId === id && a.state === 'started');
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
        await ctx.ctl.send(st.id, env);
        await waitCentral(ctx, (a) => a.broadcastId === env.id && a.state === 'completed', 30_000, `${c.hz} Hz completed`);
      }
      const at0 = Math.ceil((Date.now() + 25_000) / 1000) * 1000;
      const envs = pending.map((c, k) => {
        const env = announce(ctx, st.id, { title: `quota pending ${c.hz}`, at: iso(at0 + k * 3000), maxDurationSec: 2, audio: { kind: 'media', sha256: c.sha256, size: c.size } });
        return { c, env };
      });
      for (const { env } of envs) await ctx.ctl.send(st.id, env);
      for (const { c, env } of envs) {
        await waitCentral(ctx, (a) => a.broadcastId === env.id && ['completed', 'failed'].includes(a.state), 60_000, `${c.hz} Hz outcome`);
        const started = centralAcks(ctx.central).find((a) => a.broadcastId === env.id && a.state === 'started');
        recordOnTime(ctx, started, `${c.hz} Hz`);
        const wav = wavFor(st, env.id);
        const hz = wav[0] ? toneHz(wav[0]) : 0;
        const secs = wav[0] ? wavSeconds(wav[0]) : 0;
        check(ctx, `run ${i + 1}: pending ${c.hz} Hz clip aired with its own audio`, wav.length === 1 && Math.abs(hz - c.hz) / c.hz < 0.03 && Math.abs(secs - 2) < 0.1, `${wav.length} WAV, ${hz.toFixed(0)} Hz, ${secs.toFixed(2)} s`);
      }
      const evictedNow = st.proc.jsonLogs(mark).filter((l) => l.msg === 'media evicted').map((l) => String(l.sha256));
      const pendingEvicted = pending.filter((c) => evictedNow.includes(c.sha256));
      const overQuota = st.proc.jsonLogs(mark).filter((l) => l.msg === 'media cache over quota: remaining clips are pinned').map((l) => l.usageBytes);
      check(ctx, `run ${i + 1}: the quota evicted clips nothing waits for`, evictedNow.length > 0, `${evictedNow.length} evicted; cache over quota ${overQuota.length}x (usage ${overQuota.join(', ')} B, quota ${16 * 1024 * 1024} B)`);
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
  const sum = (k: 'emitted' | 'received' | 'lost' | 'duplicated' | 'crashes') => results.reduce((n, r) => n + r[k], 0);
  const onTime = { ok: results.reduce((n, r) => n + r.onTime.ok, 0), total: results.reduce((n, r) => n + r.onTime.total, 0), worstLateMs: Math.max(...results.map((r) => r.onTime.worstLateMs ?? 0)) };
  return {
    case: 'wall clock stepped back and forward 1 h',
    runs: reps,
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
  return run(`clock step ${runNo}`, 1, [{ id: 'fa-clock', graceSec: 60 }], async (ctx) => {
    const st = ctx.stations[0]!;
    const tone = await ctx.ctl.publishMedia(fixture('tone-3s.wav'));
    const t0 = Math.ceil((Date.now() + 9000) / 1000) * 1000;
    const audio = { kind: 'media', ...tone };
    // Planned times in station-clock ms. See docs/proof.md for the timeline.
    const items: Record<string, number> = {
      a: t0 + 5000, w: t0 + 13_000, n: t0 - H + 18_000, m: t0 - H / 2, b: t0 + 24_000, x: t0 + 33_000, s1: t0 + H / 2, c: t0 + H + 38_000,
    };
    const env = ctx.ctl.envelope('schedule', {
      station: st.id, version: 1, items: Object.entries(items).map(([id, at]) => ({ id, at: iso(at), title: `clock ${id}`, audio })),
    }, { stations: [st.id] }, ctx.key);
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

    const acks = centralAcks(ctx.central);
    const of = (k: string, state: string) => acks.filter((a) => a.broadcastId === idOf(k) && a.state === state);
    for (const k of ['a', 'b', 'c']) recordOnTime(ctx, of(k, 'started')[0], `item ${k}`);
    const w = of('w', 'started')[0];
    const wLate = w?.startedAt ? Date.parse(w.startedAt) - items.w! : NaN;
    check(ctx, 'w (due while the clock was an hour behind) airs once the clock is right, late within grace', wLate > 0 && wLate < 60_000, `${wLate} ms late`);
    for (const k of ['n', 'm', 'x', 's1']) {
      const missed = of(k, 'missed');
      check(ctx, `${k} (skipped by a forward step) acked missed once`, missed.length === 1 && missed[0]!.reason === 'grace_exceeded' && of(k, 'started').length === 0, `${missed.length} missed, ${of(k, 'started').length} started`);
    }
    for (const k of ['a', 'w', 'b', 'c']) {
      check(ctx, `${k} aired exactly once`, of(k, 'started').length === 1 && of(k, 'completed').length === 1 && wavFor(st, idOf(k)).length === 1, `${of(k, 'started').length} started, ${wavFor(st, idOf(k)).length} WAV`);
    }
    const terminal = acks.filter((a) => a.broadcastId && ['completed', 'missed', 'failed'].includes(a.state));
    check(ctx, 'every occurrence has exactly one outcome (no silent loss)', terminal.length === Object.keys(items).length, `${terminal.length} outcomes for ${Object.keys(items).length} occurrences`);
    check(ctx, 'only the 4 aired items made WAV files', st.wavs().length === 4, `${st.wavs().length} WAV files`);
  }, { LOA_CLOCK_FILE: clockFile });
}

export const FAULT_CASES: Record<string, (reps: number) => Promise<FaultResult>> = {
  brokerKill,
  daemonKill,
  collectorDown,
  brokerDownAtSchedule,
  cacheQuota,
  clockStep,
};
