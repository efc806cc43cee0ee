import { statfsSync } from 'node:fs';
import { join } from 'node:path';
import { Topics, type Command, type Occurrence, type Telemetry } from '../protocol/index.js';
import { findFfmpeg } from '../io/ffmpeg.js';
import { trustedKeys, type StationConfig } from './config.js';
import type { Clock } from './clock.js';
import { Engine } from './engine.js';
import { Inbound } from './inbound.js';
import { MediaCache } from './media/cache.js';
import { StationAudio } from './media/audio.js';
import { AckOutbox } from './outbox.js';
import { createOutput, type ZoneOutput } from './outputs/output.js';
import { Scheduler } from './scheduler.js';
import { StationSession } from './session.js';
import { StationStore, type JobRow } from './store.js';

export const SOFTWARE_VERSION = 'loa-station/0.1.0';

export type Logger = (level: 'info' | 'warn' | 'error', msg: string, extra?: object) => void;

/**
 * One ward box: the composition of store, session, inbound, scheduler, media and engine.
 * Everything outside is reached through those small shells; this file only wires them.
 */
export class Station {
  readonly store: StationStore;
  readonly outbox: AckOutbox;
  readonly engine: Engine;
  readonly session: StationSession;
  readonly scheduler: Scheduler;
  readonly audio: StationAudio;
  readonly cache: MediaCache;
  private readonly inbound: Inbound;
  private readonly outputs = new Map<string, ZoneOutput>();
  private telemetryTimer: NodeJS.Timeout | undefined;
  private housekeepingTimer: NodeJS.Timeout | undefined;
  private lastError: string | undefined;
  private ffmpegOk = false;
  private centralOnline = false;

  constructor(
    readonly config: StationConfig,
    readonly clock: Clock,
    private readonly log: Logger,
    hooks: { onFirstFrame?: (key: string, at: number) => void } = {},
  ) {
    const topics = new Topics(config.broker.topicRoot);
    const logErr: Logger = (level, msg, extra) => {
      if (level === 'error') this.lastError = `${msg}${extra && 'err' in extra ? `: ${String((extra as { err: unknown }).err).split('\n')[0]}` : ''}`;
      log(level, msg, extra);
    };
    this.store = new StationStore(join(config.dataDir, 'station.db'));
    this.outbox = new AckOutbox(this.store, config.station.id, clock);
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
      loudness: config.loudness,
      ffmpegPath: config.ffmpeg,
      log: (msg, extra) => log('info', msg, extra),
      // Automatic eviction must never drop a clip something is still waiting to air.
      pinned: () => this.pinnedMedia(),
    });
    this.session = new StationSession({
      broker: {
        urls: config.broker.urls,
        username: config.broker.username,
        password: config.broker.password,
        tls: config.broker.tls,
        keepaliveSec: config.broker.keepaliveSec,
      },
      station: config.station.id,
      groups: config.station.groups,
      topics,
      store: this.store,
      collector: config.central.collector,
      log: logErr,
      handlers: {
        onInbound: (topic, payload) => this.inbound.handle(topic, payload),
        onReceipt: (seqs) => this.store.dropOutbox(seqs),
        onCentralState: (online) => {
          // The collector came back (maybe with a lost session): send what it has not receipted.
          if (online && !this.centralOnline) this.session.resendAll();
          this.centralOnline = online;
        },
        onConnect: () => undefined,
        birth: () => ({
          at: new Date(this.clock.now()).toISOString(),
          software: SOFTWARE_VERSION,
          name: config.station.name,
          groups: config.station.groups,
          zones: config.zones.map((z) => ({ id: z.id, name: z.name })),
          scheduleVersion: this.store.currentSchedule()?.version ?? null,
        }),
      },
    });
    this.outbox.onAdded(() => this.session.flush());
    this.audio = new StationAudio({
      cache: this.cache,
      dir: join(config.dataDir, 'media'),
      chimes: config.chimes,
      ffmpegPath: config.ffmpeg,
      fetchMqtt: (sha, timeoutMs) => this.session.fetchMedia(sha, timeoutMs),
      onChange: () => this.engine.poke(),
      onFailed: (sha, reason, detail) => {
        for (const job of this.engine.pendingKeys()) {
          if (job.spec.audio.kind === 'media' && job.spec.audio.sha256 === sha) this.engine.failJob(job.key, reason, detail);
        }
      },
      log: logErr,
    });
    this.engine = new Engine({
      store: this.store,
      outbox: this.outbox,
      clock,
      zones: config.zones,
      outputs: this.outputs,
      audio: this.audio,
      timezone: config.timezone,
      quietHours: config.quietHours,
      log: logErr,
      onFirstFrame: hooks.onFirstFrame,
    });
    this.scheduler = new Scheduler(this.store, clock, config.graceSec * 1000, {
      fire: (occ, version) => this.fireOccurrence(occ, version),
      missed: (occ, version, lateMs) => this.missOccurrence(occ, version, lateMs),
      error: (e) => logErr('error', 'scheduler tick failed', { err: e.stack }),
      clockStepped: (deltaMs) => {
        log('warn', 'wall clock stepped', { deltaMs: Math.round(deltaMs) });
        this.engine.poke();
      },
    });
    const keys = trustedKeys(config);
    this.inbound = new Inbound({
      store: this.store,
      outbox: this.outbox,
      clock,
      zones: config.zones.map((z) => z.id),
      context: () => ({
        station: { id: config.station.id, groups: config.station.groups },
        keys,
        alertQuorum: config.alertQuorum,
        clockSkewMs: config.clockSkewSec * 1000,
      }),
      effects: {
        scheduleApplied: () => {
          const s = this.store.currentSchedule();
          if (s) for (const item of s.body.items) this.audio.prefetch(item.audio);
          this.scheduler.reload();
          this.session.publishBirth();
        },
        jobAdded: (job) => {
          this.audio.prefetch(job.spec.audio);
          this.engine.enqueue(job);
        },
        cancel: (broadcastId, _commandId, reason) => {
          if (!this.engine.cancel(broadcastId, reason)) log('info', 'cancel: nothing to cancel', { broadcastId });
        },
        control: (cmd) => this.control(cmd),
      },
      log: logErr,
    });
  }

  async start(): Promise<void> {
    await this.cache.init();
    await this.audio.prepareChimes();
    // Media for anything still pending (after a restart) and the applied schedule.
    for (const job of this.store.openJobs()) this.audio.prefetch(job.spec.audio);
    const s = this.store.currentSchedule();
    if (s) for (const item of s.body.items) this.audio.prefetch(item.audio);
    this.engine.start();
    this.scheduler.start();
    this.session.start();
    this.telemetryTimer = setInterval(() => this.session.publishTelemetry(this.telemetry()), this.config.telemetrySec * 1000);
    this.housekeepingTimer = setInterval(() => this.housekeeping(), 3600_000);
    this.housekeeping();
  }

  private fireOccurrence(occ: Occurrence, version: number): void {
    const job = this.occurrenceJob(occ, version);
    const added = this.store.tx(() => {
      if (!this.store.addJob(job)) return false;
      this.outbox.add({ state: 'scheduled', commandId: job.commandId, commandType: 'schedule', broadcastId: job.key, itemId: job.itemId, priority: job.priority, zones: job.zones, plannedAt: job.readyAt, scheduleVersion: version });
      return true;
    });
    if (added) {
      this.audio.prefetch(job.spec.audio);
      this.engine.enqueue(job);
    }
  }

  private missOccurrence(occ: Occurrence, version: number, lateMs: number): void {
    const job = { ...this.occurrenceJob(occ, version), state: 'missed' as const };
    this.store.tx(() => {
      if (!this.store.addJob(job)) return;
      this.outbox.add({
        state: 'missed', commandId: job.commandId, commandType: 'schedule', broadcastId: job.key, itemId: job.itemId, priority: job.priority,
        zones: job.zones, plannedAt: job.readyAt, scheduleVersion: version, reason: 'grace_exceeded',
        detail: `could not start within ${this.config.graceSec} s (${Math.round(lateMs / 1000)} s late)`,
      });
      this.store.addAsRun({ broadcastId: job.key, itemId: job.itemId, title: job.spec.title, zone: job.zones.join(','), priority: job.priority, plannedAt: job.readyAt, outcome: 'missed', reason: 'grace_exceeded' });
    });
  }

  private occurrenceJob(occ: Occurrence, _version: number): JobRow {
    const item = occ.item;
    const s = this.store.currentSchedule()!;
    return {
      key: occ.broadcastId,
      commandId: s.commandId,
      commandType: 'schedule',
      itemId: item.id,
      priority: item.priority,
      zones: item.zones ?? this.config.zones.map((z) => z.id),
      readyAt: occ.plannedAt,
      enqueuedAt: this.clock.now(),
      state: 'pending',
      spec: {
        title: item.title,
        audio: item.audio,
        volume: item.volume,
        chime: item.chime,
        repeat: item.repeat,
        gapSec: item.gapSec,
        maxDurationSec: item.maxDurationSec,
        policy: item.policy,
        // A scheduled item is never aired later than the grace window.
        maxDelaySec: Math.min(item.maxDelaySec, this.config.graceSec),
      },
    };
  }

  private control(cmd: Extract<Command, { type: 'control' }>): void {
    const body = cmd.body;
    switch (body.action) {
      case 'volume':
        this.engine.setVolume(body.zone, body.volume);
        break;
      case 'stop':
        this.engine.stopAll(`stopped by ${cmd.issuer}`);
        break;
      case 'rebirth':
        this.session.publishBirth();
        this.session.publishTelemetry(this.telemetry());
        break;
      case 'resync':
        this.session.publishBirth();
        this.session.resendAll();
        this.session.resubscribeSchedule();
        break;
    }
  }

  telemetry(): Telemetry {
    let diskFree: number | null = null;
    try {
      const s = statfsSync(this.config.dataDir);
      diskFree = Number(s.bavail) * Number(s.bsize);
    } catch { /* unknown */ }
    return {
      v: 1,
      type: 'telemetry',
      station: this.config.station.id,
      epoch: this.session.currentEpoch,
      at: new Date(this.clock.now()).toISOString(),
      nowPlaying: this.engine.nowPlaying().map((p) => ({
        zone: p.zone,
        broadcastId: p.job.key,
        itemId: p.job.itemId,
        priority: p.job.priority,
        title: p.job.spec.title.slice(0, 200),
        since: new Date(p.since).toISOString(),
      })),
      queue: this.engine.queueDepth(),
      zones: this.config.zones.map((z) => ({ id: z.id, onAir: this.engine.zoneOnAir(z.id), volume: this.engine.volumeOf(z.id) })),
      diskFreeBytes: diskFree,
      cacheBytes: this.cache.usageBytes(),
      ffmpegOk: this.ffmpegOk,
      scheduleVersion: this.store.currentSchedule()?.version ?? null,
      outboxDepth: this.store.outboxDepth(),
      lastError: this.lastError?.slice(0, 500),
    };
  }

  private pinnedMedia(): Set<string> {
    const pinned = this.audio.pinned();
    for (const job of this.engine.pendingKeys()) if (job.spec.audio.kind === 'media') pinned.add(job.spec.audio.sha256);
    const s = this.store.currentSchedule();
    if (s) for (const i of s.body.items) if (i.audio.kind === 'media') pinned.add(i.audio.sha256);
    return pinned;
  }

  private housekeeping(): void {
    try {
      const now = this.clock.now();
      this.store.pruneCommands(now - this.config.clockSkewSec * 1000 - 86_400_000);
      this.store.pruneJobs(now - 30 * 86_400_000);
      this.store.pruneAsRun(now - this.config.asRunRetentionDays * 86_400_000);
      this.cache.evict(this.pinnedMedia());
      // Unreceipted acks older than a few minutes: the collector may have lost them.
      this.session.resendAll();
    } catch (e) {
      this.log('error', 'housekeeping failed', { err: (e as Error).message });
    }
  }

  async stop(): Promise<void> {
    if (this.telemetryTimer) clearInterval(this.telemetryTimer);
    if (this.housekeepingTimer) clearInterval(this.housekeepingTimer);
    this.scheduler.stop();
    await this.engine.shutdown(300);
    // Let the final acks go out before saying goodbye.
    this.session.flush();
    await new Promise((r) => setTimeout(r, 200));
    await this.session.stop();
    for (const o of this.outputs.values()) await o.close().catch(() => undefined);
    this.store.close();
  }
}
