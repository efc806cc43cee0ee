import { join } from 'node:path';
import { findFfmpeg } from '../io/ffmpeg.js';
import { SOFTWARE_VERSION } from '../io/version.js';
import { type Command, type PrefetchContext, type StationState, Topics, verifyPrefetch } from '../protocol/index.js';
import { AckPublisher } from './ack-publisher.js';
import type { Clock } from './clock.js';
import { type StationConfig, trustedKeys } from './config.js';
import { StationEventBus } from './events.js';
import { Inbound } from './inbound.js';
import { StationAudio } from './media/audio.js';
import { MediaCache } from './media/cache.js';
import { MediaFetcher } from './media-fetch.js';
import { AckOutbox } from './outbox.js';
import { createOutput, type ZoneOutput } from './outputs/output.js';
import { Playout } from './playout.js';
import { Scheduler } from './scheduler.js';
import { StationStore } from './store.js';
import { CentralClock, StationTelemetry } from './telemetry.js';
import { StationTransport } from './transport.js';

export { SOFTWARE_VERSION };

export type Logger = (level: 'info' | 'warn' | 'error', msg: string, extra?: object) => void;

/**
 * One ward box: the composition of store, transport, inbound, scheduler, media and engine.
 * Everything outside is reached through those small shells; this file only wires them.
 */
export class Station {
  readonly store: StationStore;
  readonly outbox: AckOutbox;
  readonly playout: Playout;
  readonly events: StationEventBus;
  readonly transport: StationTransport;
  readonly acks: AckPublisher;
  readonly scheduler: Scheduler;
  readonly audio: StationAudio;
  readonly cache: MediaCache;
  readonly inbound: Inbound;
  readonly central: CentralClock;
  readonly telemetry: StationTelemetry;
  private readonly media: MediaFetcher;
  private readonly prefetchContext: () => PrefetchContext;
  private readonly outputs = new Map<string, ZoneOutput>();
  private readonly timers: NodeJS.Timeout[] = [];
  private recoveryTimer: NodeJS.Timeout | undefined;
  /** A PUBACK was withheld since the store last recovered: reconnect to get it again. */
  private refusedPuback = false;
  private lastError: string | undefined;
  private ffmpegOk = false;
  private lastHousekeeping = performance.now();

  constructor(
    readonly config: StationConfig,
    readonly clock: Clock,
    private readonly log: Logger,
    hooks: { onFirstFrame?: (key: string, at: number) => void; onLastFrame?: (key: string, zone: string, at: number) => void; onCorruptStore?: () => void } = {},
  ) {
    const topics = new Topics(config.broker.topicRoot);
    const logErr: Logger = (level, msg, extra) => {
      if (level === 'error') this.lastError = `${msg}${extra && 'err' in extra ? `: ${String((extra as { err: unknown }).err).split('\n')[0]}` : ''}`;
      log(level, msg, extra);
    };
    const station = config.station.id;
    const events = new StationEventBus((event, err) => logErr('error', `${event} listener failed`, { err: err.stack }));
    this.events = events;

    this.store = new StationStore(join(config.dataDir, 'station.db'), { now: () => clock.now() });
    if (this.store.reset) {
      logErr('error', 'station database was unreadable: moved aside, started a fresh store', { err: this.store.reset.reason, movedTo: this.store.reset.movedTo });
    }
    this.store.onFault((fault) => events.emit('store-fault', { fault }));
    this.outbox = new AckOutbox(this.store, station, clock, events);
    for (const z of config.zones) {
      this.outputs.set(z.id, createOutput(z.output.type === 'alsa' ? { ...z.output, ffmpegPath: config.ffmpeg } : z.output));
    }
    try {
      findFfmpeg({ configured: config.ffmpeg });
      this.ffmpegOk = true;
    } catch (e) {
      logErr('error', 'ffmpeg not found', { err: (e as Error).message });
    }
    this.cache = new MediaCache({
      dir: join(config.dataDir, 'cache'),
      quotaBytes: config.cache.quotaMB * 1024 * 1024,
      maxClipMs: config.cache.maxClipMinutes * 60_000,
      loudness: config.loudness,
      ffmpegPath: config.ffmpeg,
      log: (msg, extra) => log('info', msg, extra),
      // Automatic eviction must never drop a clip something is still waiting to air.
      pinned: () => this.pinnedMedia(),
    });
    this.central = new CentralClock(clock);
    this.transport = new StationTransport({
      broker: {
        urls: config.broker.urls,
        username: config.broker.username,
        password: config.broker.password,
        tls: config.broker.tls,
        keepaliveSec: config.broker.keepaliveSec,
      },
      station,
      groups: config.station.groups,
      topics,
      nextEpoch: () => this.store.nextEpoch(),
      willEpoch: () => this.store.currentEpoch() + 1,
      log: logErr,
      handlers: {
        inbound: (topic, payload) => this.inbound.handle(topic, payload),
        media: (sha, payload) => this.media.deliver(sha, payload),
        receipt: (payload) => this.acks.receipt(payload),
        prefetch: (payload) => this.prefetchHint(payload),
        centralState: (payload, live) => {
          // The collector came back (maybe with a lost session): send what it has not receipted.
          if (this.central.update(payload, live)) this.acks.resendAll();
        },
        connected: () => {
          this.publishBirth();
          this.acks.connected();
        },
        storeRefused: () => {
          this.refusedPuback = true;
          this.startRecovery();
        },
      },
    });
    this.acks = new AckPublisher({ store: this.store, transport: this.transport, topics, station, collector: config.central.collector, log: logErr });
    this.media = new MediaFetcher(this.transport, topics, logErr);
    this.audio = new StationAudio({
      cache: this.cache,
      dir: join(config.dataDir, 'media'),
      chimes: config.chimes,
      testPreamble: config.testAlerts.preamble,
      ffmpegPath: config.ffmpeg,
      loudness: config.loudness,
      concurrency: config.cache.concurrency,
      relaySchemes: config.relay.schemes,
      fetchMqtt: (sha, timeoutMs) => this.media.fetch(sha, timeoutMs),
      events,
      log: logErr,
    });
    this.playout = new Playout({
      store: this.store,
      outbox: this.outbox,
      clock,
      zones: config.zones,
      outputs: this.outputs,
      audio: this.audio,
      timezone: config.timezone,
      quietHours: config.quietHours,
      testAlerts: { maxDurationMs: config.testAlerts.maxDurationSec * 1000, maxVolume: config.testAlerts.maxVolume },
      stallMs: config.stallSec * 1000,
      log: logErr,
      onFirstFrame: hooks.onFirstFrame,
      onLastFrame: hooks.onLastFrame,
    });
    this.scheduler = new Scheduler({
      store: this.store,
      outbox: this.outbox,
      clock,
      graceMs: config.graceSec * 1000,
      zones: config.zones.map((z) => z.id),
      hooks: {
        has: (key) => this.playout.has(key),
        error: (e) => logErr('error', 'scheduler tick failed', { err: e.stack }),
      },
      events,
    });
    const keys = trustedKeys(config);
    this.prefetchContext = () => ({ station: { id: station, groups: config.station.groups }, keys, now: clock.now(), clockSkewMs: config.clockSkewSec * 1000 });
    this.inbound = new Inbound({
      store: this.store,
      outbox: this.outbox,
      clock,
      zones: config.zones.map((z) => z.id),
      context: () => ({
        station: { id: station, groups: config.station.groups },
        keys,
        alertQuorum: config.alertQuorum,
        clockSkewMs: config.clockSkewSec * 1000,
      }),
      events,
      log: logErr,
    });
    this.telemetry = new StationTelemetry({
      config,
      clock,
      store: this.store,
      playout: this.playout,
      cache: this.cache,
      transport: this.transport,
      central: this.central,
      ffmpegOk: () => this.ffmpegOk,
      lastError: () => this.lastError,
    });

    // ---- who listens to what ------------------------------------------------------------
    // A command arrives: transport → inbound (verify, store, acks) → job-added → media + playout.
    events.on('job-added', ({ job }) => {
      this.audio.prefetch(job.spec.audio, job.priority === 'emergency', job.commandType === 'alert');
      this.playout.enqueue(job);
    });
    events.on('job-queued', ({ job }) => {
      this.audio.prefetch(job.spec.audio);
      this.playout.enqueue(job);
    });
    events.on('schedule-applied', () => {
      const s = this.store.currentSchedule();
      if (s) for (const item of s.body.items) this.audio.prefetch(item.audio);
      this.scheduler.reload();
      this.publishBirth();
    });
    events.on('cancel-requested', ({ broadcastId, reason }) => {
      if (!this.playout.cancel(broadcastId, reason)) log('info', 'cancel: nothing to cancel', { broadcastId });
    });
    events.on('control-requested', ({ command }) => this.control(command));
    events.on('media-ready', () => this.playout.poke());
    events.on('media-failed', ({ sha256, reason, detail }) => {
      this.playout.failJobsFor(sha256, reason, detail);
      this.playout.poke();
    });
    events.on('ack-added', () => this.acks.flush());
    events.on('clock-stepped', ({ deltaMs }) => {
      log('warn', 'wall clock stepped', { deltaMs: Math.round(deltaMs) });
      this.playout.poke();
      this.inbound.recheckHeld();
    });
    events.on('store-fault', ({ fault }) => {
      if (fault === undefined) {
        log('info', 'store recovered: writes succeed again');
        return;
      }
      logErr('error', 'store refuses writes: commands are not acknowledged until it recovers', { err: fault });
      if (/SQLITE_(CORRUPT|NOTADB)/.test(fault)) hooks.onCorruptStore?.();
      this.startRecovery();
    });
  }

  async start(): Promise<void> {
    // Outputs ready before the first command: an airing pays none of their set-up.
    await Promise.all([...this.outputs.values()].map((o) => o.prepare?.()));
    await this.cache.init();
    // Chimes lead every emergency: ready before anything connects. The test preamble is only
    // for test alerts (which wait for it), so it is prepared in the background.
    await this.audio.prepareChimes();
    void this.audio.prepareTestPreamble().then(() => this.playout.poke());
    // Media for anything still pending (after a restart) and the applied schedule.
    for (const job of this.store.openJobs()) this.audio.prefetch(job.spec.audio, job.priority === 'emergency', job.commandType === 'alert');
    const s = this.store.currentSchedule();
    if (s) for (const item of s.body.items) this.audio.prefetch(item.audio);
    this.playout.start();
    this.scheduler.start();
    this.transport.start();
    this.timers.push(
      setInterval(() => this.publishTelemetry(), this.config.telemetrySec * 1000),
      setInterval(() => this.housekeeping(), 3600_000),
      // A box whose clock was behind holds commands; the clock may be set without a step we see.
      setInterval(() => this.inbound.recheckHeld(), 60_000),
    );
    this.housekeeping();
    this.telemetry.writeStatus();
  }

  /**
   * A live alert's draft, signed by its first official: fetch and prepare its clip now, so the
   * approved alert airs from the cache. Never queued or acked; a hint for other stations, or
   * one that does not verify, changes nothing.
   */
  private prefetchHint(payload: Buffer): void {
    const v = verifyPrefetch(payload, this.prefetchContext());
    if (!v.ok) {
      if (!v.detail.startsWith('wrong_target')) this.log('warn', 'draft prefetch hint ignored', { detail: v.detail });
      return;
    }
    this.log('info', 'draft prefetch: fetching the clip of a live alert awaiting approval', { draft: v.id, sha: v.audio.sha256 });
    this.audio.prefetch(v.audio, true);
  }

  private publishBirth(): void {
    const state: StationState = {
      v: 1,
      type: 'state',
      station: this.config.station.id,
      online: true,
      epoch: this.transport.currentEpoch,
      at: new Date(this.clock.now()).toISOString(),
      software: SOFTWARE_VERSION,
      name: this.config.station.name,
      groups: this.config.station.groups,
      zones: this.config.zones.map((z) => ({ id: z.id, name: z.name })),
      scheduleVersion: this.store.currentSchedule()?.version ?? null,
      db: this.store.dbId(),
    };
    const reset = this.store.storeReset();
    if (reset) state.storeReset = reset;
    this.transport.publish(new Topics(this.config.broker.topicRoot).state(this.config.station.id), JSON.stringify(state), { qos: 1, retain: true });
  }

  private publishTelemetry(): void {
    const t = this.telemetry.build();
    this.transport.publish(new Topics(this.config.broker.topicRoot).telemetry(this.config.station.id), JSON.stringify(t), { qos: 0 });
    this.telemetry.writeStatus();
  }

  /**
   * The store refused a write: try it again every few seconds. When it accepts again, the
   * deferred writes go in, and if a PUBACK was withheld meanwhile, reconnecting makes the
   * broker deliver those commands again.
   */
  private startRecovery(): void {
    if (this.recoveryTimer) return;
    const attempt = () => {
      let ok = false;
      try {
        ok = this.store.recover();
      } catch (e) {
        this.log('error', 'deferred write failed', { err: (e as Error).message });
      }
      if (!ok) {
        this.recoveryTimer = setTimeout(attempt, 2000);
        return;
      }
      this.recoveryTimer = undefined;
      this.lastError = undefined;
      this.acks.flush();
      if (this.refusedPuback) {
        this.refusedPuback = false;
        this.transport.reconnect();
      }
      this.publishTelemetry();
    };
    this.recoveryTimer = setTimeout(attempt, 1000);
  }

  private control(cmd: Extract<Command, { type: 'control' }>): void {
    const body = cmd.body;
    switch (body.action) {
      case 'volume':
        this.playout.setVolume(body.zone, body.volume);
        break;
      case 'stop':
        this.playout.stopAll(`stopped by ${cmd.issuer}`);
        this.publishTelemetry();
        break;
      case 'resume':
        this.playout.resume();
        this.publishTelemetry();
        break;
      case 'rebirth':
        this.publishBirth();
        this.publishTelemetry();
        break;
      case 'resync':
        this.publishBirth();
        this.acks.resendAll();
        this.transport.resubscribe(new Topics(this.config.broker.topicRoot).schedule(this.config.station.id));
        break;
    }
  }

  private pinnedMedia(): Set<string> {
    const pinned = this.audio.pinned();
    for (const job of this.playout.pendingKeys()) if (job.spec.audio.kind === 'media') pinned.add(job.spec.audio.sha256);
    const s = this.store.currentSchedule();
    if (s) for (const i of s.body.items) if (i.audio.kind === 'media') pinned.add(i.audio.sha256);
    return pinned;
  }

  /**
   * Hourly: retention (rate-limited by monotonic time, see store.pruneCutoff), cache quota and
   * missing files, and a re-send of acks the collector has not receipted.
   */
  private housekeeping(): void {
    const elapsed = performance.now() - this.lastHousekeeping;
    this.lastHousekeeping = performance.now();
    try {
      const now = this.clock.now();
      const { store } = this;
      store.tx(() => {
        store.pruneCommands(store.pruneCutoff('commands', now - this.config.clockSkewSec * 1000 - 86_400_000, elapsed));
        store.pruneJobs(store.pruneCutoff('jobs', now - 30 * 86_400_000, elapsed));
        store.pruneAsRun(store.pruneCutoff('asrun', now - this.config.asRunRetentionDays * 86_400_000, elapsed));
      });
    } catch (e) {
      this.log('warn', 'housekeeping: retention skipped', { err: (e as Error).message });
    }
    try {
      this.cache.verifyFiles();
      this.cache.evict(this.pinnedMedia());
    } catch (e) {
      this.log('error', 'housekeeping failed', { err: (e as Error).message });
    }
    // Unreceipted acks older than a few minutes: the collector may have lost them.
    this.acks.resendAll();
  }

  async stop(): Promise<void> {
    for (const t of this.timers) clearInterval(t);
    if (this.recoveryTimer) clearTimeout(this.recoveryTimer);
    this.scheduler.stop();
    await this.playout.shutdown(300);
    // Let the final acks go out before saying goodbye.
    this.acks.flush();
    await new Promise((r) => setTimeout(r, 200));
    this.acks.stop();
    this.media.stop();
    const offline = { v: 1, type: 'state', station: this.config.station.id, online: false, epoch: this.transport.currentEpoch, at: new Date().toISOString() };
    await this.transport.stop(JSON.stringify(offline));
    for (const o of this.outputs.values()) await o.close().catch(() => undefined);
    this.store.close();
  }
}
