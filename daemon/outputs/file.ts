// `file` output: one WAV per playback, written at real-time pace like a sound card would
// consume it. Tests (and operators auditing a station) read these to see what went on air.
import { constants as fsConstants } from 'node:fs';
import { access, type FileHandle, mkdir, open, unlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { PlayRequest } from './output.js';
import { PacedOutput, type Sink } from './pacer.js';
import { WAV_HEADER_BYTES, wavHeader } from './wav.js';

/** 2024-05-01T10:20:30.123Z -> 2024-05-01T10-20-30.123Z (no colons: portable file names). */
export function fileTimestamp(d: Date): string {
  return d.toISOString().replaceAll(':', '-');
}

class FileSink implements Sink {
  private fh: FileHandle | undefined;
  private file = '';
  private dataBytes = 0;
  private chain: Promise<void> = Promise.resolve();
  private error: string | undefined;

  constructor(
    private readonly dir: string,
    private readonly label: string,
  ) {}

  async open(): Promise<void> {
    await mkdir(this.dir, { recursive: true });
    const base = `${fileTimestamp(new Date())}-${this.label}`;
    // 'wx' never overwrites: two zones sharing a dir and label in the same ms get -1, -2, ...
    for (let n = 0; !this.fh; n++) {
      const file = path.join(this.dir, n === 0 ? `${base}.wav` : `${base}-${n}.wav`);
      try {
        this.fh = await open(file, 'wx');
        this.file = file;
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST' || n > 100) {
          throw new Error(`file output: cannot create ${file}: ${(e as Error).message}`);
        }
      }
    }
    // Sizes left at "unknown" until close, so a file cut short by a crash is still readable.
    const h = wavHeader(0);
    h.writeUInt32LE(0xffffffff, 4);
    h.writeUInt32LE(0xffffffff, 40);
    await this.fh.write(h, 0, h.length, 0);
  }

  write(chunk: Buffer): void {
    const fh = this.fh!;
    const pos = WAV_HEADER_BYTES + this.dataBytes;
    this.dataBytes += chunk.length;
    // Serialised positional writes: an SD card stall delays the file, never the event loop.
    this.chain = this.chain.then(async () => {
      if (this.error) return;
      try {
        await fh.write(chunk, 0, chunk.length, pos);
      } catch (e) {
        this.error = `file output: writing ${this.file}: ${(e as Error).message}`;
      }
    });
  }

  failure(): string | undefined {
    return this.error;
  }

  async close(): Promise<{ file?: string; error?: string }> {
    const fh = this.fh;
    if (!fh) return {};
    await this.chain;
    try {
      const h = wavHeader(this.dataBytes);
      await fh.write(h, 0, h.length, 0);
    } catch (e) {
      this.error ??= `file output: finalising ${this.file}: ${(e as Error).message}`;
    } finally {
      await fh.close().catch(() => {});
    }
    return { file: this.file, error: this.error };
  }
}

export class FileOutput extends PacedOutput {
  readonly kind = 'file';
  constructor(readonly dir: string) {
    super();
  }

  protected makeSink(req: PlayRequest): Sink {
    return new FileSink(this.dir, req.label);
  }

  async check(): Promise<{ ok: boolean; detail: string }> {
    try {
      await mkdir(this.dir, { recursive: true });
      await access(this.dir, fsConstants.W_OK);
      const probe = path.join(this.dir, `.loa-check-${process.pid}`);
      await writeFile(probe, '');
      await unlink(probe);
      return { ok: true, detail: `writing WAV files to ${this.dir}` };
    } catch (e) {
      return { ok: false, detail: `file output dir ${this.dir} is not writable: ${(e as Error).message}` };
    }
  }
}
