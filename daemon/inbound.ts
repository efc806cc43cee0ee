import { verifyCommand, type Command, type VerifyContext } from '../protocol/index.js';
import type { Clock } from './clock.js';
import type { AckOutbox } from './outbox.js';
import type { JobRow, StationStore } from './store.js';

/** What happens after a command is durably stored (run once the PUBACK has gone out). */
export interface InboundEffects {
  scheduleApplied(version: number): void;
  jobAdded(job: JobRow): void;
  cancel(broadcastId: string, commandId: string, reason: string): void;
  control(cmd: Extract<Command, { type: 'control' }>): void;
}

export interface InboundOptions {
  store: StationStore;
  outbox: AckOutbox;
  clock: Clock;
  zones: string[];
  context: () => Omit<VerifyContext, 'now' | 'replay'>;
  effects: InboundEffects;
  log: (level: 'info' | 'warn' | 'error', msg: string, extra?: object) => void;
}

/**
 * Every command: verify, then store it together with its acks in one transaction, and only
 * then let the PUBACK go. Nothing here throws to the caller; anything wrong is a `rejected`
 * ack with a reason.
 */
export class Inbound {
  rejected = 0;
  accepted = 0;

  constructor(private readonly o: InboundOptions) {}

  handle(topic: string, payload: Buffer): void {
    const { store, outbox, clock } = this.o;
    const now = clock.now();
    let after: (() => void) | undefined;
    try {
      const result = verifyCommand(payload, { ...this.o.context(), now, replay: store });
      if (!result.ok) {
        this.rejected++;
        this.o.log('warn', 'command rejected', { topic, reason: result.reason, detail: result.detail, id: result.id });
        store.tx(() => {
          outbox.add({ state: 'rejected', commandId: result.id, commandType: result.type, reason: result.reason, detail: result.detail });
        });
        return;
      }
      const cmd = result.command;
      after = store.tx(() => this.accept(cmd, payload.toString('utf8'), now));
      if (after) this.accepted++;
    } catch (e) {
      // A bug must not lose the message silently: say so centrally, keep running.
      this.o.log('error', 'inbound processing failed', { topic, err: (e as Error).stack });
      try {
        store.tx(() => outbox.add({ state: 'rejected', reason: 'internal_error', detail: (e as Error).message }));
      } catch { /* the store itself failed; logged above */ }
      return;
    }
    if (after) queueMicrotask(after);
  }

  /** Runs inside the transaction; returns the side effect to run after commit. */
  private accept(cmd: Command, raw: string, now: number): (() => void) | undefined {
    const { store, outbox } = this.o;
    const base = { commandId: cmd.id, commandType: cmd.type } as const;
    const record = () =>
      store.recordCommand({ id: cmd.id, type: cmd.type, issuer: cmd.issuer, seq: cmd.seq, expiresAt: Date.parse(cmd.expiresAt), raw }, now);

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
        return () => this.o.effects.scheduleApplied(version);
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
        const job: JobRow = {
          key: cmd.id,
          commandId: cmd.id,
          commandType: cmd.type,
          priority: cmd.type === 'alert' ? 'emergency' : cmd.body.priority,
          zones,
          readyAt: cmd.type === 'announce' && cmd.body.at ? Date.parse(cmd.body.at) : now,
          enqueuedAt: now,
          state: 'pending',
          spec: {
            title: body.title,
            audio: body.audio,
            volume: cmd.type === 'announce' ? cmd.body.volume : undefined,
            chime: cmd.type === 'announce' ? cmd.body.chime : true,
            repeat: body.repeat,
            gapSec: body.gapSec,
            maxDurationSec: body.maxDurationSec,
            // Alerts never wait politely and never expire while the alert is valid.
            policy: cmd.type === 'announce' ? cmd.body.policy : 'interrupt',
            maxDelaySec: cmd.type === 'announce' ? cmd.body.maxDelaySec : Math.max(60, Math.round((Date.parse(cmd.expiresAt) - now) / 1000)),
            test,
          },
        };
        record();
        store.addJob(job);
        const common = { ...base, broadcastId: job.key, priority: job.priority, zones, plannedAt: job.readyAt, test, sha256: body.audio.kind === 'media' ? body.audio.sha256 : undefined };
        outbox.add({ ...common, state: 'received' });
        outbox.add({ ...common, state: 'scheduled' });
        return () => this.o.effects.jobAdded(job);
      }
      case 'cancel': {
        // Stopping a live emergency is as serious as sending one: only alert signers may.
        const target = store.getJob(cmd.body.broadcastId);
        const keys = this.o.context().keys;
        if (target?.priority === 'emergency' && !cmd.sigs.some((s) => keys.get(s.key)?.allow.includes('alert'))) {
          record();
          outbox.add({ ...base, state: 'rejected', reason: 'key_not_allowed', detail: `cancelling emergency ${target.key} needs a key allowed to sign alerts`, broadcastId: target.key });
          return undefined;
        }
        record();
        outbox.add({ ...base, state: 'received', broadcastId: cmd.body.broadcastId });
        return () => this.o.effects.cancel(cmd.body.broadcastId, cmd.id, cmd.body.reason ?? 'cancelled by operator');
      }
      case 'control': {
        record();
        outbox.add({ ...base, state: 'received', detail: cmd.body.action });
        return () => this.o.effects.control(cmd);
      }
    }
  }
}
