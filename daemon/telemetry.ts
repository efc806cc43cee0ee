import { renameSync, statfsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CentralState, type StoreReset, type Telemetry } from '../protocol/index.js';
import type { Clock } from './clock.js';
import type { StationConfig } from './config.js';
import type { MediaCache } from './media/cache.js';
import type { Playout } from './playout.js';
import type { StationStore } from './store.js';
import type { StationTransport } from './transport.js';

/** Heartbeats come every 15 s; after three missed ones the collector counts as gone. */
export const CENTRAL_STALE_MS = 45_000;

/**
 * The station's clock against the collector's: each live central/state heartbeat carries the
 * collector's time; the difference (less the small delivery delay) is this box's offset.
 *
 * Also whether acks are being collected. Several collectors share one central/state: it says
 * online while at least one lives, and its `view` changes when one joins or dies. When the
 * last one dies without saying so, no will marks it offline, so an online state is trusted
 * only for CENTRAL_STALE_MS after the last message (monotonic time: test clocks may jump).
 */
export class CentralClock {
  private said = false;
  private freshUntil = 0;
  private view: string | undefined;
  offsetMs: number | undefined;
  lastHeartbeatAt: number | undefined;

  constructor(
    private readonly clock: Clock,
    private readonly monotonic: () => number = () => performance.now(),
  ) {}

  get online(): boolean {
    return this.said && this.monotonic() <= this.freshUntil;
  }

  /**
   * Returns true when every unreceipted ack should go again: the collector just came (back)
   * online, or the set of live collectors changed (one that died may have taken acks with it).
   */
  update(payload: Buffer, live: boolean): boolean {
    let json: unknown;
    try {
      json = JSON.parse(payload.toString('utf8'));
    } catch {
      return false;
    }
    const c = CentralState.safeParse(json);
    if (!c.success) return false;
    const wasOnline = this.online;
    const viewChanged = c.data.view !== undefined && this.view !== undefined && c.data.view !== this.view;
    if (c.data.view !== undefined) this.view = c.data.view;
    this.said = c.data.online;
    if (c.data.online) this.freshUntil = this.monotonic() + CENTRAL_STALE_MS;
    // A retained copy is as old as the last heartbeat: only a live one measures the clock.
    if (live && c.data.online && c.data.at) {
      const now = this.clock.now();
      this.offsetMs = Math.round(now - Date.parse(c.data.at));
      this.lastHeartbeatAt = now;
    }
    return c.data.online && (!wasOnline || viewChanged);
  }
}

/** What `doctor` reads while the daemon runs (it must not open a second broker session). */
export interface StationStatus {
  pid: number;
  at: string;
  connected: boolean;
  brokerUrl?: string;
  epoch: number;
  centralOnline: boolean;
  clockOffsetMs?: number;
  lastHeartbeatAt?: string;
  storeFault?: string;
  storeReset?: StoreReset;
  stopped: boolean;
  lastError?: string;
  heldCommands: number;
  /** Writes waiting for the store to accept them, and how many were dropped (oldest first). */
  deferredWrites: number;
  droppedDeferredWrites: number;
}

export interface TelemetryParts {
  config: StationConfig;
  clock: Clock;
  store: StationStore;
  playout: Playout;
  cache: MediaCache;
  transport: StationTransport;
  central: CentralClock;
  ffmpegOk: () => boolean;
  lastError: () => string | undefined;
}

/** Builds the telemetry heartbeat and the local status file from the station's parts. */
export class StationTelemetry {
  constructor(private readonly p: TelemetryParts) {}

  build(): Telemetry {
    const { config, clock, store, playout, cache, transport, central } = this.p;
    let diskFree: number | null = null;
    try {
      const s = statfsSync(config.dataDir);
      diskFree = Number(s.bavail) * Number(s.bsize);
    } catch {
      /* unknown */
    }
    const t: Telemetry = {
      v: 1,
      type: 'telemetry',
      station: config.station.id,
      epoch: transport.currentEpoch,
      at: new Date(clock.now()).toISOString(),
      nowPlaying: playout.nowPlaying().map((p) => ({
        zone: p.zone,
        broadcastId: p.job.key,
        itemId: p.job.itemId,
        priority: p.job.priority,
        title: p.job.spec.title.slice(0, 200),
        since: new Date(p.since).toISOString(),
      })),
      queue: playout.queueDepth(),
      zones: config.zones.map((z) => ({ id: z.id, onAir: playout.zoneOnAir(z.id), volume: playout.volumeOf(z.id) })),
      diskFreeBytes: diskFree,
      cacheBytes: cache.usageBytes(),
      ffmpegOk: this.p.ffmpegOk(),
      scheduleVersion: safe(() => store.currentSchedule()?.version ?? null, null),
      outboxDepth: safe(() => store.outboxDepth(), 0),
      intervalSec: config.telemetrySec,
    };
    const lastError = this.p.lastError();
    if (lastError) t.lastError = lastError.slice(0, 500);
    if (central.offsetMs !== undefined) t.clockOffsetMs = central.offsetMs;
    if (store.fault) t.storeFault = store.fault.slice(0, 500);
    if (playout.isStopped) t.stopped = true;
    const reset = safe(() => store.storeReset(), undefined);
    if (reset) t.storeReset = reset;
    return t;
  }

  /** Atomically replaces `<dataDir>/status.json`. Best effort: a full disk only skips it. */
  writeStatus(): void {
    const { config, clock, store, playout, transport, central } = this.p;
    const status: StationStatus = {
      pid: process.pid,
      at: new Date(clock.now()).toISOString(),
      connected: transport.connected,
      ...(transport.url ? { brokerUrl: transport.url } : {}),
      epoch: transport.currentEpoch,
      centralOnline: central.online,
      ...(central.offsetMs !== undefined ? { clockOffsetMs: central.offsetMs } : {}),
      ...(central.lastHeartbeatAt !== undefined ? { lastHeartbeatAt: new Date(central.lastHeartbeatAt).toISOString() } : {}),
      ...(store.fault ? { storeFault: store.fault } : {}),
      ...(store.reset ? { storeReset: store.reset } : {}),
      stopped: playout.isStopped,
      ...(this.p.lastError() ? { lastError: this.p.lastError() } : {}),
      heldCommands: safe(() => store.heldCount(), 0),
      deferredWrites: store.deferredCount,
      droppedDeferredWrites: store.droppedDeferred,
    };
    const file = statusFile(config.dataDir);
    try {
      writeFileSync(`${file}.tmp`, JSON.stringify(status, null, 2) + '\n');
      renameSync(`${file}.tmp`, file);
    } catch {
      /* full or read-only disk: telemetry still says so */
    }
  }
}

export function statusFile(dataDir: string): string {
  return join(dataDir, 'status.json');
}

function safe<T>(fn: () => T, fallback: T): T {
  try {
    return fn();
  } catch {
    return fallback;
  }
}
