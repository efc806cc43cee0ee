// Doubles at the daemon's boundaries, for unit tests that run in milliseconds. The store is the
// real SQLite store, in memory; only MQTT and the sound outputs are replaced.

import type { PcmSource, PlaybackHandle, PlaybackResult, PlayRequest, ZoneOutput } from '../../daemon/outputs/output.js';
import type { AudioResolver } from '../../daemon/playout.js';
import type { JobRow } from '../../daemon/store.js';
import type { MessageTransport } from '../../daemon/transport.js';

/** MQTT as the ack publisher and media fetcher see it: publishes are recorded, PUBACKs on demand. */
export class MemoryTransport implements MessageTransport {
  connected = true;
  readonly published: { topic: string; payload: string; done?: (err?: Error) => void }[] = [];
  readonly subscriptions = new Set<string>();
  /** Acknowledge publishes as they are made (like a broker that answers at once). */
  autoPuback = true;

  publish(topic: string, payload: string | Buffer, _opts: { qos: 0 | 1; retain?: boolean }, done?: (err?: Error) => void): boolean {
    if (!this.connected) return false;
    this.published.push({ topic, payload: payload.toString(), done });
    if (this.autoPuback) queueMicrotask(() => done?.());
    return true;
  }

  subscribe(topic: string): void {
    this.subscriptions.add(topic);
  }

  unsubscribe(topic: string, done?: () => void): void {
    this.subscriptions.delete(topic);
    done?.();
  }
}

/** A zone output whose playbacks the test ends by hand: no audio, no real time. */
export class ScriptedOutput implements ZoneOutput {
  readonly kind = 'scripted';
  readonly plays: { req: PlayRequest; end: (r?: Partial<PlaybackResult>) => void; stopped: number | undefined; volume: number }[] = [];

  play(req: PlayRequest): PlaybackHandle {
    let resolveDone!: (r: PlaybackResult) => void;
    let resolveFirst!: (t: number) => void;
    const done = new Promise<PlaybackResult>((r) => (resolveDone = r));
    const firstFrame = new Promise<number>((r) => (resolveFirst = r));
    const entry = {
      req,
      stopped: undefined as number | undefined,
      volume: req.volume,
      end: (r: Partial<PlaybackResult> = {}) => resolveDone({ outcome: 'completed', framesWritten: 48_000, durationMs: 1000, ...r }),
    };
    this.plays.push(entry);
    queueMicrotask(() => resolveFirst(performance.timeOrigin + performance.now()));
    return {
      firstFrame,
      done,
      stop: (fadeMs = 0) => {
        entry.stopped = fadeMs;
        resolveDone({ outcome: 'stopped', framesWritten: 0, durationMs: 0, reason: 'stopped' });
      },
      setVolume: (v: number) => {
        entry.volume = v;
      },
    };
  }

  async check(): Promise<{ ok: boolean; detail: string }> {
    return { ok: true, detail: 'scripted' };
  }

  async close(): Promise<void> {}
}

/** Audio that is always ready: one WAV-like source per job, and the lead the policy asks for is not modelled. */
export const readyAudio: AudioResolver = {
  ready: () => true,
  sources: async (job: JobRow) => ({ sources: [{ kind: 'silence', ms: 1000 } as PcmSource], sha256: job.spec.audio.kind === 'media' ? job.spec.audio.sha256 : undefined }),
  failure: () => undefined,
};
