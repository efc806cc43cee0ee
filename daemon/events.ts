import type { Command } from '../protocol/index.js';
import type { JobRow } from './store.js';

/**
 * What happens inside a station, as typed events. Each part emits what it did; station.ts
 * decides who listens. No part holds a callback into another, so a reader can follow a
 * broadcast by event name (docs/architecture.md lists the path of an emergency alert).
 */
export interface StationEvents {
  /** A command was stored with its `received` ack and asks for a broadcast (inbound.ts). */
  'job-added': { job: JobRow };
  /** The scheduler queued an occurrence of the applied schedule (scheduler.ts). */
  'job-queued': { job: JobRow };
  /** A new schedule version was stored (inbound.ts). */
  'schedule-applied': { version: number };
  /** A verified, authorised cancel (inbound.ts). */
  'cancel-requested': { broadcastId: string; reason: string };
  /** A verified control command (inbound.ts). */
  'control-requested': { command: Extract<Command, { type: 'control' }> };
  /** A clip's bytes are on disk, or it was prepared (media/audio.ts). */
  'media-ready': { sha256: string };
  /** A clip cannot be had: its waiting jobs fail with this reason (media/audio.ts). */
  'media-failed': { sha256: string; reason: string; detail: string };
  /** An ack was written to the outbox (outbox.ts). */
  'ack-added': { seq: number };
  /** The wall clock jumped (scheduler.ts). */
  'clock-stepped': { deltaMs: number };
  /** The store refused a write, or (undefined) recovered (store.ts). */
  'store-fault': { fault: string | undefined };
}

type Listener<K extends keyof StationEvents> = (payload: StationEvents[K]) => void;

/** Synchronous, typed, in-process. A listener that throws is logged, never propagated. */
export class StationEventBus {
  private listeners = new Map<keyof StationEvents, Listener<keyof StationEvents>[]>();

  constructor(private readonly onError: (event: string, err: Error) => void = () => {}) {}

  on<K extends keyof StationEvents>(event: K, fn: Listener<K>): void {
    const list = this.listeners.get(event) ?? [];
    list.push(fn as Listener<keyof StationEvents>);
    this.listeners.set(event, list);
  }

  emit<K extends keyof StationEvents>(event: K, payload: StationEvents[K]): void {
    for (const fn of this.listeners.get(event) ?? []) {
      try {
        fn(payload);
      } catch (e) {
        this.onError(event, e as Error);
      }
    }
  }
}
