import { createHash } from 'node:crypto';
import { MAX_MEDIA_BYTES, type Topics } from '../protocol/index.js';
import type { MessageTransport } from './transport.js';

interface Waiter {
  resolve: (b: Buffer) => void;
  reject: (e: Error) => void;
}

/**
 * Fetches retained clips from `media/<sha256>`: subscribes while someone waits, verifies the
 * bytes against their hash, and always settles every waiter (bytes, timeout or stop).
 */
export class MediaFetcher {
  private waiters = new Map<string, Waiter[]>();

  constructor(
    private readonly transport: MessageTransport,
    private readonly topics: Topics,
    private readonly log: (level: 'info' | 'warn' | 'error', msg: string, extra?: object) => void,
  ) {}

  fetch(sha256: string, timeoutMs: number): Promise<Buffer> {
    return new Promise((resolve, reject) => {
      const list = this.waiters.get(sha256) ?? [];
      const timer = setTimeout(() => {
        this.remove(sha256, entry);
        reject(new Error(`media ${sha256.slice(0, 12)} did not arrive within ${timeoutMs} ms`));
      }, timeoutMs);
      const entry: Waiter = {
        resolve: (b) => {
          clearTimeout(timer);
          resolve(b);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      };
      list.push(entry);
      const first = !this.waiters.has(sha256);
      this.waiters.set(sha256, list);
      if (first) this.transport.subscribe(this.topics.media(sha256));
    });
  }

  private remove(sha256: string, entry: Waiter): void {
    const list = (this.waiters.get(sha256) ?? []).filter((e) => e !== entry);
    if (list.length === 0) {
      this.waiters.delete(sha256);
      this.transport.unsubscribe(this.topics.media(sha256));
    } else this.waiters.set(sha256, list);
  }

  deliver(sha256: string, payload: Buffer): void {
    const list = this.waiters.get(sha256);
    if (!list) return;
    if (payload.length === 0 || payload.length > MAX_MEDIA_BYTES) return; // an empty retained message clears; ignore
    const actual = createHash('sha256').update(payload).digest('hex');
    if (actual !== sha256) {
      this.log('warn', 'media bytes do not match their sha256; ignored', { sha256, actual });
      return;
    }
    this.waiters.delete(sha256);
    this.transport.unsubscribe(this.topics.media(sha256));
    for (const w of list) w.resolve(payload);
  }

  stop(): void {
    for (const list of this.waiters.values()) for (const w of list) w.reject(new Error('station stopping'));
    this.waiters.clear();
  }
}
