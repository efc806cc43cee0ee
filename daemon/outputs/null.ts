// `null` output: paced exactly like a sound card, audio discarded. For stations without
// speakers attached (staging) and for benchmarks.
import type { PlayRequest } from './output.js';
import { PacedOutput, type Sink } from './pacer.js';

class NullSink implements Sink {
  async open(): Promise<void> {}
  write(): void {}
  failure(): undefined {
    return undefined;
  }
  async close(): Promise<{ file?: string; error?: string }> {
    return {};
  }
}

export class NullOutput extends PacedOutput {
  readonly kind = 'null';
  protected makeSink(_req: PlayRequest): Sink {
    return new NullSink();
  }
  async check(): Promise<{ ok: boolean; detail: string }> {
    return { ok: true, detail: 'audio is discarded (null output)' };
  }
}
