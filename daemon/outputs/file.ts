// `file` output: one WAV per playback, written at real-time pace like a sound card would
// consume it. Tests (and operators auditing a station) read these to see what went on air.
import { close as fsClose, constants as fsConstants, write as fsWrite, mkdirSync, openSync, writeSync } from 'node:fs';
import { access, mkdir, unlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { PlayRequest } from './output.js';
import { PacedOutput, type Sink } from './pacer.js';
import { WAV_HEADER_BYTES, wavHeader } from './wav.js';

/** 2024-05-01T10:20:30.123Z -> 2024-05-01T10-20-30.123Z (no colons: portable file names). */
export function fileTimestamp(d: Date): string {
  return d.toISOString().replaceAll(':', '-');
}

class FileSink implements Sink {
  private fd: number | undefined;
  private file = '';
  private dataBytes = 0;
  private chain: Promise<void> = Promise.resolve();
  private error: string | undefined;

  constructor(
    private readonly output: FileOutput,
    private readonly label: string,
  ) {}

  /**
   * Synchronous on purpose: one create and one 44-byte header write, so the first chunk goes
   * out in the same turn of the event loop as the decision to air (no thread-pool round trips
   * on the emergency path). The audio itself is written asynchronously (write()).
   */
  async open(): Promise<void> {
    const { dir } = this.output;
    try {
      this.output.ensureDir();
    } catch (e) {
      throw new Error(`file output: cannot create ${dir}: ${(e as Error).message}`);
    }
    const base = `${fileTimestamp(new Date())}-${this.label}`;
    // 'wx' never overwrites: two zones sharing a dir and label in the same ms get -1, -2, ...
    for (let n = 0; this.fd === undefined; n++) {
      const file = path.join(dir, n === 0 ? `${base}.wav` : `${base}-${n}.wav`);
      try {
        this.fd = openSync(file, 'wx');
        this.file = file;
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        if (code === 'ENOENT' && n === 0) {
          // The directory went away behind us (operator cleanup): make it again, once.
          this.output.ensureDir(true);
          continue;
        }
        if (code !== 'EEXIST' || n > 100) {
          throw new Error(`file output: cannot create ${file}: ${(e as Error).message}`);
        }
      }
    }
    // Sizes left at "unknown" until close, so a file cut short by a crash is still readable.
    const h = wavHeader(0);
    h.writeUInt32LE(0xffffffff, 4);
    h.writeUInt32LE(0xffffffff, 40);
    writeSync(this.fd, h, 0, h.length, 0);
  }

  write(chunk: Buffer): void {
    const fd = this.fd!;
    const pos = WAV_HEADER_BYTES + this.dataBytes;
    this.dataBytes += chunk.length;
    // Serialised positional writes: an SD card stall delays the file, never the event loop.
    this.chain = this.chain.then(
      () =>
        new Promise<void>((resolve) => {
          if (this.error) return resolve();
          fsWrite(fd, chunk, 0, chunk.length, pos, (e) => {
            if (e) this.error = `file output: writing ${this.file}: ${e.message}`;
            resolve();
          });
        }),
    );
  }

  failure(): string | undefined {
    return this.error;
  }

  async close(): Promise<{ file?: string; error?: string }> {
    const fd = this.fd;
    if (fd === undefined) return {};
    this.fd = undefined;
    await this.chain;
    const h = wavHeader(this.dataBytes);
    await new Promise<void>((resolve) =>
      fsWrite(fd, h, 0, h.length, 0, (e) => {
        if (e) this.error ??= `file output: finalising ${this.file}: ${e.message}`;
        resolve();
      }),
    );
    await new Promise<void>((resolve) => fsClose(fd, () => resolve()));
    return { file: this.file, error: this.error };
  }
}

export class FileOutput extends PacedOutput {
  readonly kind = 'file';
  private dirReady = false;

  constructor(readonly dir: string) {
    super();
  }

  /** Creates the directory once (or again, when `again`), not on every airing. */
  ensureDir(again = false): void {
    if (this.dirReady && !again) return;
    mkdirSync(this.dir, { recursive: true });
    this.dirReady = true;
  }

  /** Ready before the first command: the directory exists, so an airing only creates its file. */
  override async prepare(): Promise<void> {
    try {
      this.ensureDir();
    } catch {
      // check() reports it; the airing that needs it fails with the reason.
    }
  }

  protected makeSink(req: PlayRequest): Sink {
    return new FileSink(this, req.label);
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
