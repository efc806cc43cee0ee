import type { Priority } from '../protocol/index.js';
import type { Clock } from './clock.js';
import type { ZoneConfig } from './config.js';
import type { AckOutbox } from './outbox.js';
import type { PcmSource, PlaybackHandle, PlaybackResult, ZoneOutput } from './outputs/output.js';
import { type DecideInput, type Decision, decide, type Job, localMinutesOf, nextWakeAt, type Playing, type QuietWindow } from './playback/decide.js';
import { followsOperatorVolume, kindOf, maxDurationMs, reairAfterRestart, type TestAlertPolicy, volumeFor } from './playback/policy.js';
import { runRelay } from './relay.js';
import type { JobRow, StationStore } from './store.js';

/** How the engine obtains audio for a job; implemented by the station's media layer. */
export interface AudioResolver {
  /** True when the job's audio can start at once (prepared in cache, or a stream). */
  ready(job: JobRow): boolean;
  /** Sources for one zone (chime, repeats and gaps included); may spawn a stream decoder. */
  sources(job: JobRow, zone: string): Promise<{ sources: PcmSource[]; sha256?: string; url?: string; cleanup?: () => void }>;
  /** Why a job's media is not ready (for the `failed` ack), if known. */
  failure(job: JobRow): string | undefined;
}

interface Airing {
  job: JobRow;
  startedAt: number;
  firstFrameAt?: number;
  handles: Map<string, PlaybackHandle>;
  /** Set when we stop it on purpose; the outcome acked is this, not the output's. */
  endAs?: { state: 'preempted' | 'cancelled'; reason: string };
  sha256?: string;
  url?: string;
}

export interface PlayoutOptions {
  store: StationStore;
  outbox: AckOutbox;
  clock: Clock;
  zones: ZoneConfig[];
  outputs: Map<string, ZoneOutput>;
  audio: AudioResolver;
  timezone: string;
  quietHours: QuietWindow[];
  testAlerts: TestAlertPolicy;
  /** See PlayRequest.stallMs. */
  stallMs: number;
  log: (level: 'info' | 'warn' | 'error', msg: string, extra?: object) => void;
  /** Called when an airing reaches its first frame: the time-to-air measurement point. */
  onFirstFrame?: (key: string, at: number) => void;
  /** Called when an airing's last chunk left for a zone's output (a preempted one: when it really went off air). */
  onLastFrame?: (key: string, zone: string, at: number) => void;
}

/**
 * Puts broadcasts on air: runs the pure playback decision against the live queue and carries
 * out its answers on the zone outputs, with the kind's volume, length and lead from the
 * playback policy. Every state change and its ack are committed in one transaction.
 */
export class Playout {
  private queue = new Map<string, JobRow>();
  private airing = new Map<string, Airing>();
  private timer: NodeJS.Timeout | undefined;
  private coarse: NodeJS.Timeout | undefined;
  private zoneVolume = new Map<string, number>();
  private stopped = false;
  private closed = false;
  private evaluating = false;
  private again = false;

  constructor(private readonly o: PlayoutOptions) {
    for (const z of o.zones) {
      const saved = o.store.getMeta(`volume:${z.id}`);
      this.zoneVolume.set(z.id, saved === undefined ? z.defaultVolume : Number(saved));
    }
    // An operator stop survives a restart: it ends only with `resume`.
    this.stopped = o.store.getMeta('stopped') === '1';
  }

  /** Commit a state change with its ack now, or keep it for when the store recovers (store.ts). */
  private write(label: string, fn: () => void): void {
    this.o.store.durable(label, fn, this.o.clock.now());
  }

  /**
   * Resume after a restart. An emergency that was on air when the process died airs again from
   * the start (a cut-off warning is worse than a repeated one); anything else on air then is
   * acked failed; pending jobs are requeued.
   */
  start(): void {
    for (const job of this.o.store.openJobs()) {
      if (job.state === 'playing' && reairAfterRestart(job.priority)) {
        this.write('reair', () => this.o.store.setJobState(job.key, 'pending'));
        this.queue.set(job.key, { ...job, state: 'pending' });
        this.o.log('warn', 'emergency interrupted by a restart airs again', { key: job.key });
      } else if (job.state === 'playing') {
        this.write('interrupted', () => {
          this.o.store.setJobState(job.key, 'failed');
          this.ack(job, 'failed', { reason: 'interrupted', detail: 'the station restarted while this was on air' });
        });
      } else this.queue.set(job.key, job);
    }
    // Quiet-hours boundaries and DST shifts are not events; a coarse tick catches them.
    this.coarse = setInterval(() => this.evaluate(), 30_000);
    this.evaluate();
  }

  enqueue(job: JobRow): void {
    if (this.closed) return;
    this.queue.set(job.key, job);
    this.evaluate();
  }

  /** Media became ready (or failed): re-decide. */
  poke(): void {
    this.evaluate();
  }

  get isStopped(): boolean {
    return this.stopped;
  }

  /** Whether a broadcast is queued or on air here (the scheduler asks before re-queuing). */
  has(key: string): boolean {
    return this.queue.has(key) || this.airing.has(key);
  }

  nowPlaying(): { zone: string; job: JobRow; since: number }[] {
    const out: { zone: string; job: JobRow; since: number }[] = [];
    for (const a of this.airing.values()) for (const z of a.job.zones) out.push({ zone: z, job: a.job, since: a.firstFrameAt ?? a.startedAt });
    return out;
  }

  queueDepth(): number {
    return this.queue.size;
  }

  pendingKeys(): JobRow[] {
    return [...this.queue.values()];
  }

  volumeOf(zone: string): number {
    return this.zoneVolume.get(zone) ?? 0;
  }

  zoneOnAir(zone: string): boolean {
    for (const a of this.airing.values()) if (a.job.zones.includes(zone)) return true;
    return false;
  }

  setVolume(zone: string | undefined, volume: number): void {
    for (const z of this.o.zones) {
      if (zone !== undefined && z.id !== zone) continue;
      const v = Math.min(volume, z.maxVolume);
      this.zoneVolume.set(z.id, v);
      this.write('volume', () => this.o.store.setMeta(`volume:${z.id}`, v));
      for (const a of this.airing.values()) {
        if (followsOperatorVolume(a.job.priority)) a.handles.get(z.id)?.setVolume(this.volumeFor(a.job, z));
      }
    }
  }

  /** `cancel`: stop a broadcast wherever it is. Returns whether anything was cancelled. */
  cancel(broadcastId: string, reason: string): boolean {
    const a = this.airing.get(broadcastId);
    if (a) {
      this.endEarly(a, 'cancelled', reason);
      return true;
    }
    const job = this.queue.get(broadcastId);
    if (job) {
      this.queue.delete(broadcastId);
      this.write('cancel', () => {
        this.o.store.setJobState(job.key, 'cancelled');
        this.ack(job, 'cancelled', { reason });
      });
      this.evaluate();
      return true;
    }
    return false;
  }

  /**
   * `stop`: everything except emergencies goes off air, and nothing but an emergency starts
   * until `resume` (the decision's stop gate). Queued items stay queued: one still within its
   * window when `resume` comes plays then; one whose window closes first is acked missed
   * (stopped). Returns how many airings were cut.
   */
  stopAll(reason: string): number {
    let n = 0;
    this.stopped = true;
    this.write('stop', () => this.o.store.setMeta('stopped', '1'));
    for (const a of [...this.airing.values()]) {
      if (a.job.priority === 'emergency') continue;
      this.endEarly(a, 'cancelled', reason);
      n++;
    }
    this.evaluate();
    return n;
  }

  /** `resume`: lift an operator stop. */
  resume(): void {
    this.stopped = false;
    this.write('resume', () => this.o.store.setMeta('stopped', '0'));
    this.evaluate();
  }

  /** SIGTERM: fade everything out and record why. */
  async shutdown(fadeMs = 300): Promise<void> {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    if (this.coarse) clearInterval(this.coarse);
    const done: Promise<unknown>[] = [];
    for (const a of this.airing.values()) {
      a.endAs = { state: 'cancelled', reason: 'station_shutdown' };
      for (const h of a.handles.values()) {
        h.stop(fadeMs);
        done.push(h.done);
      }
    }
    await Promise.race([Promise.allSettled(done), new Promise((r) => setTimeout(r, fadeMs + 2000))]);
  }

  private endEarly(a: Airing, state: 'preempted' | 'cancelled', reason: string): void {
    if (a.endAs) return;
    a.endAs = { state, reason };
    for (const h of a.handles.values()) h.stop(state === 'preempted' ? 0 : 150);
    // The zones are free from this instant: the decision must not wait for the outputs to drain.
    this.airing.delete(a.job.key);
    const end = this.o.clock.now();
    this.write(state, () => {
      this.o.store.setJobState(a.job.key, state);
      this.ack(a.job, state, { reason, startedAt: a.firstFrameAt, endedAt: end, sha256: a.sha256 });
    });
  }

  private evaluate(): void {
    if (this.closed) return;
    if (this.evaluating) {
      this.again = true;
      return;
    }
    this.evaluating = true;
    try {
      let input = this.input();
      // Decide until nothing changes; then arm the timer from that same snapshot. Reading the
      // clock twice (once to decide, once to arm) lost a start that fell between the two reads.
      for (let round = 0; round < 100; round++) {
        this.again = false;
        const decisions = decide(input);
        for (const d of decisions) this.apply(d);
        if (decisions.length === 0 && !this.again) break;
        input = this.input();
      }
      this.arm(input);
    } catch (e) {
      this.o.log('error', 'playback decision failed', { err: (e as Error).stack });
    } finally {
      this.evaluating = false;
    }
  }

  private input(): DecideInput {
    const now = this.o.clock.now();
    const queue: Job[] = [...this.queue.values()].map((j) => ({
      key: j.key,
      priority: j.priority,
      zones: j.zones,
      readyAt: j.readyAt,
      enqueuedAt: j.enqueuedAt,
      policy: j.spec.policy,
      maxDelayMs: j.spec.maxDelaySec * 1000,
      mediaReady: this.o.audio.ready(j),
    }));
    const playing: Playing[] = [...this.airing.values()].map((a) => ({
      key: a.job.key,
      priority: a.job.priority,
      zones: a.job.zones,
      startedAt: a.startedAt,
      policy: a.job.spec.policy,
    }));
    // Local time matters only to quiet hours; without any, no time-zone arithmetic (ICU's date
    // formatting keeps megabytes resident once used).
    const localMinutes = this.o.quietHours.length > 0 ? localMinutesOf(now, this.o.timezone) : 0;
    return { now, queue, playing, quietHours: this.o.quietHours, localMinutes, stopped: this.stopped };
  }

  private arm(input: DecideInput): void {
    if (this.timer) clearTimeout(this.timer);
    const wake = nextWakeAt(input);
    if (wake === undefined) return;
    const delay = Math.max(0, Math.min(wake - input.now, 30_000));
    this.timer = setTimeout(() => this.evaluate(), delay);
  }

  private apply(d: Decision): void {
    switch (d.kind) {
      case 'missed': {
        const job = this.queue.get(d.key);
        if (!job) return;
        this.queue.delete(d.key);
        // A scheduled item's max delay is the station's grace window: say so in its words, the
        // same reason the scheduler gives an occurrence it finds already too late.
        const reason = job.commandType === 'schedule' && d.reason === 'max_delay' ? 'grace_exceeded' : d.reason;
        this.write('missed', () => {
          this.o.store.setJobState(job.key, 'missed');
          this.ack(job, 'missed', { reason });
          this.asRun(job, job.zones, { outcome: 'missed', reason });
        });
        return;
      }
      case 'fail': {
        const job = this.queue.get(d.key);
        if (!job) return;
        this.queue.delete(d.key);
        const why = this.o.audio.failure(job) ?? 'media not ready at air time';
        const code = reasonCode(why) ?? 'media_not_ready';
        this.write('failed', () => {
          this.o.store.setJobState(job.key, 'failed');
          this.ack(job, 'failed', { reason: code, detail: why });
          this.asRun(job, job.zones, { outcome: 'failed', reason: why });
        });
        return;
      }
      case 'preempt': {
        const a = this.airing.get(d.key);
        if (a) this.endEarly(a, 'preempted', `preempted by ${d.by}`);
        return;
      }
      case 'start': {
        const job = this.queue.get(d.key);
        if (!job) return;
        this.queue.delete(d.key);
        this.startAiring(job);
        return;
      }
    }
  }

  /** Fail every queued job waiting for a clip that cannot be had, now rather than at its deadline. */
  failJobsFor(sha256: string, reason: string, detail: string): void {
    for (const job of [...this.queue.values()]) {
      if (job.spec.audio.kind === 'media' && job.spec.audio.sha256 === sha256) this.failJob(job.key, reason, detail);
    }
  }

  /** Fail a queued job now (its media cannot be had), rather than at its deadline. */
  failJob(key: string, reason: string, detail: string): void {
    const job = this.queue.get(key);
    if (!job) return;
    this.queue.delete(key);
    this.write('failed', () => {
      this.o.store.setJobState(key, 'failed');
      this.ack(job, 'failed', { reason, detail });
      this.asRun(job, job.zones, { outcome: 'failed', reason: detail });
    });
    this.evaluate();
  }

  private startAiring(job: JobRow): void {
    const now = this.o.clock.now();
    const airing: Airing = { job, startedAt: now, handles: new Map() };
    this.airing.set(job.key, airing);
    // No database write before the first frame: an fsync here would delay air time. The job
    // becomes 'playing' with its `started` ack; a crash before that leaves it pending (requeued).
    void this.run(airing).catch((e) => {
      this.o.log('error', 'airing failed', { key: job.key, err: (e as Error).stack });
      this.finish(airing, [{ outcome: 'failed', framesWritten: 0, durationMs: 0, reason: (e as Error).message }]);
    });
  }

  private volumeFor(job: JobRow, zone: ZoneConfig): number {
    return volumeFor(
      {
        kind: kindOf({ commandType: job.commandType, test: job.spec.test }),
        zoneMax: zone.maxVolume,
        zoneVolume: this.zoneVolume.get(zone.id) ?? zone.defaultVolume,
        requested: job.spec.volume,
      },
      this.o.testAlerts,
    );
  }

  private async run(a: Airing): Promise<void> {
    const { job } = a;
    const zones = job.zones.map((id) => this.o.zones.find((z) => z.id === id)).filter((z): z is ZoneConfig => !!z);
    const relayErrors: string[] = [];
    await Promise.all(
      zones.map(async (z) => {
        if (!z.relay) return;
        const r = await runRelay(z.relay.on, z.relay.timeoutMs);
        if (!r.ok) relayErrors.push(`${z.id}: relay on ${r.reason ?? 'failed'}`);
      }),
    );
    // Reported (telemetry lastError) but not fatal: the amplifier may already be on.
    if (relayErrors.length) this.o.log('error', 'relay on failed', { key: job.key, err: relayErrors.join('; ') });
    if (a.endAs) {
      await this.relaysOff(zones);
      return;
    }
    const cleanups: (() => void)[] = [];
    const results = await Promise.all(
      zones.map(async (z) => {
        const src = await this.o.audio.sources(job, z.id);
        if (src.cleanup) cleanups.push(src.cleanup);
        a.sha256 ??= src.sha256;
        a.url ??= src.url;
        if (a.endAs) return { outcome: 'stopped', framesWritten: 0, durationMs: 0 } as PlaybackResult;
        const output = this.o.outputs.get(z.id)!;
        const handle = output.play({
          sources: src.sources,
          volume: this.volumeFor(job, z),
          label: `${z.id}-${job.key}`.slice(0, 100),
          maxDurationMs: maxDurationMs(kindOf({ commandType: job.commandType, test: job.spec.test }), job.spec.maxDurationSec, this.o.testAlerts),
          stallMs: this.o.stallMs,
        });
        a.handles.set(z.id, handle);
        handle.firstFrame.then(
          (t) => this.firstFrame(a, t),
          () => undefined,
        );
        return handle.done.then((r) => {
          if (r.lastFrameAt !== undefined) this.o.onLastFrame?.(job.key, z.id, r.lastFrameAt);
          return r;
        });
      }),
    );
    cleanups.forEach((c) => c());
    await this.relaysOff(zones);
    this.finish(
      a,
      results,
      zones.map((z) => z.id),
    );
  }

  private async relaysOff(zones: ZoneConfig[]): Promise<void> {
    await Promise.all(
      zones.map(async (z) => {
        if (!z.relay) return;
        // Another airing may have taken the zone meanwhile (preemption): leave it powered.
        if (this.zoneOnAir(z.id)) return;
        const r = await runRelay(z.relay.off, z.relay.timeoutMs);
        if (!r.ok) this.o.log('error', 'relay off failed', { zone: z.id, err: r.reason });
      }),
    );
  }

  private firstFrame(a: Airing, t: number): void {
    if (a.firstFrameAt !== undefined || a.endAs) return;
    // Outputs report performance-derived wall time; acks use the station clock.
    a.firstFrameAt = this.o.clock.now() - Math.max(0, Date.now() - t);
    this.o.onFirstFrame?.(a.job.key, t);
    this.write('started', () => {
      this.o.store.setJobState(a.job.key, 'playing');
      this.ack(a.job, 'started', { startedAt: a.firstFrameAt, sha256: a.sha256, url: a.url });
    });
  }

  private finish(a: Airing, results: PlaybackResult[], zoneIds: string[] = a.job.zones): void {
    const { job } = a;
    const end = this.o.clock.now();
    const wasCurrent = this.airing.get(job.key) === a;
    if (wasCurrent) this.airing.delete(job.key);
    const failed = results.find((r) => r.outcome === 'failed');
    this.write('finished', () => {
      results.forEach((r, i) => {
        const zone = zoneIds[i] ?? job.zones[i]!;
        const outcome = a.endAs?.state ?? (r.outcome === 'completed' ? 'completed' : r.outcome === 'failed' ? 'failed' : 'stopped');
        this.asRun(job, [zone], { outcome, reason: r.reason ?? a.endAs?.reason, startedAt: a.firstFrameAt, endedAt: end, sha256: a.sha256, file: r.file });
      });
      if (a.endAs) return; // already acked preempted/cancelled when it was stopped
      if (failed || a.firstFrameAt === undefined) {
        const detail = failed?.reason ?? 'no_audio: no audio reached the output';
        this.o.store.setJobState(job.key, 'failed');
        this.ack(job, 'failed', { reason: reasonCode(detail) ?? 'playback_failed', detail, startedAt: a.firstFrameAt, endedAt: end, sha256: a.sha256 });
      } else {
        this.o.store.setJobState(job.key, 'completed');
        this.ack(job, 'completed', { startedAt: a.firstFrameAt, endedAt: end, sha256: a.sha256, url: a.url });
      }
    });
    this.evaluate();
  }

  private ack(
    job: JobRow,
    state: 'started' | 'completed' | 'failed' | 'preempted' | 'cancelled' | 'missed',
    extra: {
      reason?: string;
      detail?: string;
      startedAt?: number;
      endedAt?: number;
      sha256?: string;
      url?: string;
    },
  ): void {
    this.o.outbox.add({
      state,
      commandId: job.commandId,
      commandType: job.commandType,
      broadcastId: job.key,
      itemId: job.itemId,
      priority: job.priority as Priority,
      zones: job.zones,
      plannedAt: job.readyAt,
      test: job.spec.test,
      sha256: extra.sha256 ?? (job.spec.audio.kind === 'media' ? job.spec.audio.sha256 : undefined),
      ...extra,
    });
  }

  private asRun(job: JobRow, zones: string[], r: { outcome: string; reason?: string; startedAt?: number; endedAt?: number; sha256?: string; file?: string }): void {
    for (const zone of zones) {
      this.o.store.addAsRun({
        broadcastId: job.key,
        itemId: job.itemId,
        title: job.spec.title,
        zone,
        priority: job.priority,
        plannedAt: job.readyAt,
        startedAt: r.startedAt,
        endedAt: r.endedAt,
        outcome: r.outcome,
        sha256: r.sha256 ?? (job.spec.audio.kind === 'media' ? job.spec.audio.sha256 : undefined),
        reason: r.reason,
        file: r.file,
        test: job.spec.test,
      });
    }
  }
}

/**
 * Failure reasons acks carry as `reason` (docs/protocol.md lists each). A failure message that
 * starts with one of these codes ("no_audio: …") is acked with that code.
 */
export const FAILURE_REASONS = [
  'no_audio',
  'media_missing',
  'disk_full',
  'fetch_failed',
  'transcode_failed',
  'sha_mismatch',
  'too_large',
  'quota',
  'relay_failed',
  'no_test_preamble',
  'write_failed',
  'internal_error',
] as const;

const REASON_IN_MESSAGE = new RegExp(`\\b(${FAILURE_REASONS.join('|')}): `);

/** The first known failure code in a message (it may be wrapped: "live PCM stream failed: disk_full: …"). */
function reasonCode(message: string): string | undefined {
  return REASON_IN_MESSAGE.exec(message)?.[1];
}
