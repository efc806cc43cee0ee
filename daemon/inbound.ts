import { type Command, type VerifyContext, verifyCommand } from '../protocol/index.js';
import type { Clock } from './clock.js';
import type { StationEventBus } from './events.js';
import type { AckOutbox } from './outbox.js';
import { cancelVerdict, kindOf, levelOf } from './playback/policy.js';
import { type HeldCommand, isStoreError, type JobRow, type StationStore, StoreFailure } from './store.js';

export interface InboundOptions {
  store: StationStore;
  outbox: AckOutbox;
  clock: Clock;
  zones: string[];
  context: () => Omit<VerifyContext, 'now' | 'replay'>;
  /** Where the effects of a stored command go, once committed (the PUBACK is out by then). */
  events: StationEventBus;
  log: (level: 'info' | 'warn' | 'error', msg: string, extra?: object) => void;
}

/** Not-yet-valid commands kept for a clock that is behind; beyond this they are only rejected. */
export const MAX_HELD = 200;

/**
 * Every command: verify, then store it together with its acks in one transaction, and only
 * then let the PUBACK go. A verification failure is a `rejected` ack with a reason. A store
 * failure is thrown (StoreFailure): the caller must not PUBACK, so the broker keeps the
 * message and delivers it again once the store recovers.
 */
export class Inbound {
  rejected = 0;
  accepted = 0;
  held = 0;

  constructor(private readonly o: InboundOptions) {}

  handle(topic: string, payload: Buffer): void {
    const after = this.process(topic, payload, false);
    if (after) queueMicrotask(after);
  }

  /**
   * Commands held because this box's clock was behind their issue time: try them again (the
   * clock moved, or a minute passed). Valid ones are processed as if they had just arrived.
   */
  recheckHeld(): void {
    const { store } = this.o;
    let held: HeldCommand[];
    try {
      held = store.heldCommands();
    } catch {
      return;
    }
    const now = this.o.clock.now();
    for (const h of held) {
      try {
        if (h.until <= now) {
          store.tx(() => {
            store.releaseHeld(h.id);
            this.o.outbox.add({
              state: 'rejected',
              commandId: h.id,
              reason: 'expired',
              detail: "held while this station's clock was behind; it expired before the clock caught up",
            });
          });
          continue;
        }
        const after = this.process(h.topic, Buffer.from(h.raw, 'utf8'), true, () => store.releaseHeld(h.id));
        if (after) queueMicrotask(after);
      } catch (e) {
        if (!isStoreError(e)) this.o.log('error', 'held command re-check failed', { id: h.id, err: (e as Error).message });
        return;
      }
    }
  }

  /** Returns the effect to run after commit. Throws StoreFailure when nothing could be stored. */
  private process(topic: string, payload: Buffer, fromHold: boolean, release?: () => void): (() => void) | undefined {
    const { store, outbox, clock } = this.o;
    const now = clock.now();
    try {
      const ctx = { ...this.o.context(), now, replay: store };
      const result = verifyCommand(payload, ctx);
      if (!result.ok) {
        if (fromHold && result.reason === 'not_yet_valid') return undefined; // still early: keep holding
        // Verification reached the clock check, so every signature verified: a genuine command
        // whose issue time is ahead of this box's clock. Keep it and look again when the clock
        // moves, rather than losing it for good (a box that booted without its real-time clock).
        const hold = result.reason === 'not_yet_valid' && result.id !== undefined && store.heldCount() < MAX_HELD;
        this.rejected++;
        this.o.log('warn', 'command rejected', { topic, reason: result.reason, detail: result.detail, id: result.id, held: hold });
        store.tx(() => {
          release?.();
          if (hold) {
            const until = expiresAt(payload);
            store.holdCommand({ id: result.id!, raw: payload.toString('utf8'), topic, heldAt: now, until });
            this.held++;
          }
          outbox.add({
            state: 'rejected',
            commandId: result.id,
            commandType: result.type,
            reason: result.reason,
            detail: hold ? `${result.detail}; held: it will be checked again when this station's clock moves` : result.detail,
          });
        });
        return undefined;
      }
      const cmd = result.command;
      const signerKeys = [
        ...new Set(
          result.signers
            .map((id) => ctx.keys.get(id))
            .filter((k) => k?.allow.includes('alert'))
            .map((k) => k!.fingerprint),
        ),
      ];
      const after = store.tx(() => {
        release?.();
        return this.accept(cmd, payload.toString('utf8'), now, signerKeys.length);
      });
      if (after) this.accepted++;
      return after;
    } catch (e) {
      if (isStoreError(e)) throw e instanceof StoreFailure ? e : new StoreFailure('SQLITE', (e as Error).message, { cause: e });
      // A bug must not lose the message silently: say so centrally, keep running.
      this.o.log('error', 'inbound processing failed', { topic, err: (e as Error).stack });
      store.tx(() => outbox.add({ state: 'rejected', reason: 'internal_error', detail: (e as Error).message }));
      return undefined;
    }
  }

  /** Runs inside the transaction; returns the side effect to run after commit. */
  private accept(cmd: Command, raw: string, now: number, alertKeys: number): (() => void) | undefined {
    const { store, outbox } = this.o;
    const base = { commandId: cmd.id, commandType: cmd.type } as const;
    const record = () => store.recordCommand({ id: cmd.id, type: cmd.type, issuer: cmd.issuer, seq: cmd.seq, expiresAt: Date.parse(cmd.expiresAt), raw }, now);

    switch (cmd.type) {
      case 'schedule': {
        const current = store.currentSchedule();
        const version = cmd.body.version;
        if (current && current.version === version && current.commandId === cmd.id) return undefined; // retained re-delivery
        if (current && version <= current.version) {
          outbox.add({ ...base, state: 'rejected', reason: 'stale_version', detail: `version ${version} is not newer than applied ${current.version}`, scheduleVersion: version });
          return undefined;
        }
        const unknown = cmd.body.items.flatMap((i, n) => (i.zones ?? []).filter((z) => !this.o.zones.includes(z)).map((z) => `items.${n}.zones: unknown zone ${z}`));
        if (unknown.length) {
          outbox.add({ ...base, state: 'rejected', reason: 'invalid', detail: unknown.join('; '), scheduleVersion: version });
          return undefined;
        }
        record();
        store.saveSchedule(version, cmd.id, cmd.body, now);
        outbox.add({ ...base, state: 'received', scheduleVersion: version });
        outbox.add({ ...base, state: 'applied', scheduleVersion: version });
        return () => this.o.events.emit('schedule-applied', { version });
      }
      case 'announce':
      case 'alert': {
        const zones = cmd.body.zones ?? this.o.zones;
        const missing = zones.filter((z) => !this.o.zones.includes(z));
        const test = cmd.type === 'alert' ? cmd.body.test : undefined;
        if (missing.length) {
          record();
          outbox.add({ ...base, state: 'rejected', reason: 'invalid', detail: `unknown zone ${missing.join(', ')}`, broadcastId: cmd.id, test });
          return undefined;
        }
        const body = cmd.body;
        const kindInput = cmd.type === 'alert' ? { commandType: 'alert' as const, test: cmd.body.test } : { commandType: 'announce' as const, priority: cmd.body.priority };
        const kind = kindOf(kindInput);
        const untilExpiry = Math.round((Date.parse(cmd.expiresAt) - now) / 1000);
        const job: JobRow = {
          key: cmd.id,
          commandId: cmd.id,
          commandType: cmd.type,
          priority: levelOf(kindInput),
          zones,
          readyAt: cmd.type === 'announce' && cmd.body.at ? Date.parse(cmd.body.at) : now,
          enqueuedAt: now,
          state: 'pending',
          spec: {
            title: body.title,
            audio: body.audio,
            volume: cmd.type === 'announce' ? cmd.body.volume : undefined,
            // Live alerts always lead with the emergency chime; a test alert's lead is the
            // station's own preamble (policy.ts), never the sender's choice.
            chime: cmd.type === 'announce' ? cmd.body.chime : kind === 'live-alert',
            repeat: body.repeat,
            gapSec: body.gapSec,
            maxDurationSec: body.maxDurationSec,
            // A live alert never waits politely and stays eligible while it is valid; a test
            // alert waits for a gap like any priority item and gives up after an hour.
            policy: cmd.type === 'announce' ? cmd.body.policy : kind === 'live-alert' ? 'interrupt' : 'wait',
            maxDelaySec: cmd.type === 'announce' ? cmd.body.maxDelaySec : kind === 'live-alert' ? Math.max(60, untilExpiry) : Math.max(60, Math.min(3600, untilExpiry)),
            test,
          },
        };
        record();
        store.addJob(job);
        const common = {
          ...base,
          broadcastId: job.key,
          priority: job.priority,
          zones,
          plannedAt: job.readyAt,
          test,
          sha256: body.audio.kind === 'media' ? body.audio.sha256 : undefined,
        };
        outbox.add({ ...common, state: 'received' });
        outbox.add({ ...common, state: 'scheduled' });
        return () => this.o.events.emit('job-added', { job });
      }
      case 'cancel': {
        const target = store.getJob(cmd.body.broadcastId);
        const verdict = cancelVerdict({ targetLevel: target?.priority, alertKeys, alertQuorum: this.o.context().alertQuorum });
        record();
        if (!verdict.ok) {
          outbox.add({ ...base, state: 'rejected', reason: verdict.reason, detail: `${target!.key}: ${verdict.detail}`, broadcastId: target!.key });
          return undefined;
        }
        outbox.add({ ...base, state: 'received', broadcastId: cmd.body.broadcastId });
        return () => this.o.events.emit('cancel-requested', { broadcastId: cmd.body.broadcastId, reason: cmd.body.reason ?? `cancelled by ${cmd.issuer}` });
      }
      case 'control': {
        record();
        outbox.add({ ...base, state: 'received', detail: cmd.body.action });
        return () => this.o.events.emit('control-requested', { command: cmd });
      }
    }
  }
}

function expiresAt(payload: Buffer): number {
  try {
    const t = Date.parse((JSON.parse(payload.toString('utf8')) as { expiresAt?: string }).expiresAt ?? '');
    return Number.isFinite(t) ? t : 0;
  } catch {
    return 0;
  }
}
