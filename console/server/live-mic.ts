// Live from the microphone: the browser sends Opus (WebM or Ogg) over a WebSocket, one ffmpeg
// turns it into 48 kHz mono PCM, and every station fetches it as an endless WAV over HTTP at an
// unguessable URL named in the signed command. Stations treat it as any relay stream.
import { randomBytes } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import { type FfmpegProcess, spawnFfmpeg } from '../../io/ffmpeg.js';

const RATE = 48_000;

/** A WAV header for a stream of unknown length (sizes at their maximum, as sound tools expect). */
function streamingWavHeader(): Buffer {
  const h = Buffer.alloc(44);
  h.write('RIFF', 0);
  h.writeUInt32LE(0xffffffff, 4);
  h.write('WAVE', 8);
  h.write('fmt ', 12);
  h.writeUInt32LE(16, 16);
  h.writeUInt16LE(1, 20);
  h.writeUInt16LE(1, 22);
  h.writeUInt32LE(RATE, 24);
  h.writeUInt32LE(RATE * 2, 28);
  h.writeUInt16LE(2, 32);
  h.writeUInt16LE(16, 34);
  h.write('data', 36);
  h.writeUInt32LE(0xffffffff, 40);
  return h;
}

export interface LiveInfo {
  token: string;
  user: string;
  broadcastId: string | null;
  startedAt: number;
  maxMs: number;
  bytesIn: number;
  listeners: number;
}

export class LiveSession {
  readonly token = randomBytes(24).toString('base64url');
  readonly startedAt = Date.now();
  broadcastId: string | null = null;
  private readonly ffmpeg: FfmpegProcess;
  private readonly listeners = new Set<ServerResponse>();
  private bytesIn = 0;
  private ended = false;
  private readonly timer: NodeJS.Timeout;
  readonly done: Promise<void>;

  constructor(
    readonly user: string,
    readonly container: 'webm' | 'ogg',
    readonly maxMs: number,
    private readonly onEnd: (s: LiveSession) => void,
  ) {
    // Low delay over everything else: no input buffering, a tiny probe, packets flushed at once.
    this.ffmpeg = spawnFfmpeg(
      [
        '-hide_banner',
        '-nostdin',
        '-loglevel',
        'error',
        '-fflags',
        'nobuffer',
        '-flags',
        'low_delay',
        '-probesize',
        '32768',
        '-analyzeduration',
        '0',
        '-f',
        container,
        '-i',
        'pipe:0',
        '-map',
        '0:a:0',
        '-ac',
        '1',
        '-ar',
        String(RATE),
        '-f',
        's16le',
        '-flush_packets',
        '1',
        'pipe:1',
      ],
      { timeoutMs: maxMs + 60_000, stdin: 'pipe' },
    );
    // ffmpeg that gave up (bad input) closes its stdin: the next write must not crash the server.
    this.ffmpeg.stdin?.on('error', () => undefined);
    this.ffmpeg.stdout.on('data', (pcm: Buffer) => {
      for (const res of this.listeners) res.write(pcm);
    });
    this.done = this.ffmpeg.exited.then(() => {
      for (const res of this.listeners) res.end();
      this.listeners.clear();
      this.ended = true;
      this.onEnd(this);
    });
    // A session nobody stops still ends: the command told stations how long at most.
    this.timer = setTimeout(() => this.stop(), maxMs);
  }

  feed(chunk: Buffer): void {
    if (this.ended) return;
    this.bytesIn += chunk.length;
    this.ffmpeg.stdin?.write(chunk);
  }

  /** A station's request: the header now, then live PCM from this moment on. */
  attach(res: ServerResponse): void {
    res.writeHead(200, { 'content-type': 'audio/wav', 'cache-control': 'no-store', connection: 'close' });
    res.write(streamingWavHeader());
    if (this.ended) {
      res.end();
      return;
    }
    this.listeners.add(res);
    res.on('close', () => this.listeners.delete(res));
  }

  stop(): void {
    clearTimeout(this.timer);
    if (this.ended) return;
    this.ffmpeg.stdin?.end();
  }

  info(): LiveInfo {
    return {
      token: this.token,
      user: this.user,
      broadcastId: this.broadcastId,
      startedAt: this.startedAt,
      maxMs: this.maxMs,
      bytesIn: this.bytesIn,
      listeners: this.listeners.size,
    };
  }
}

export class LiveSessions {
  private readonly byToken = new Map<string, LiveSession>();

  start(user: string, container: 'webm' | 'ogg', maxMs: number): LiveSession {
    const s = new LiveSession(user, container, maxMs, (x) => {
      // Kept a little while so a late station gets an empty stream, not a 404 it retries.
      setTimeout(() => this.byToken.delete(x.token), 30_000).unref();
    });
    this.byToken.set(s.token, s);
    return s;
  }

  get(token: string): LiveSession | undefined {
    return this.byToken.get(token);
  }

  stopAll(): void {
    for (const s of this.byToken.values()) s.stop();
  }
}
