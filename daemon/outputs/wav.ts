// Minimal RIFF/WAVE reading and writing for the on-air format (PCM s16le 48 kHz mono).
import { open } from 'node:fs/promises';

export const ON_AIR_RATE = 48_000;
export const ON_AIR_CHANNELS = 1;
export const BYTES_PER_FRAME = 2; // s16 mono
export const WAV_HEADER_BYTES = 44;

export interface WavInfo {
  /** 1 = PCM, 3 = IEEE float, 0xFFFE = extensible (sub-format in subFormat). */
  audioFormat: number;
  subFormat?: number;
  sampleRate: number;
  channels: number;
  bitsPerSample: number;
  blockAlign: number;
  /** Byte offset of the first sample. */
  dataOffset: number;
  /** Bytes of sample data actually present (the header's size, clipped to the file). */
  dataBytes: number;
  /** What the header claims; differs from dataBytes for truncated or streamed files. */
  declaredDataBytes: number;
  frames: number;
  durationMs: number;
}

export class WavFormatError extends Error {
  override name = 'WavFormatError';
}

/** Parses the header of a WAV file held in `head` (the first bytes of the file). */
export function parseWavHeader(head: Buffer, fileSize: number, label = 'WAV'): WavInfo {
  if (head.length < 12 || head.toString('ascii', 0, 4) !== 'RIFF' || head.toString('ascii', 8, 12) !== 'WAVE') {
    throw new WavFormatError(`${label}: not a RIFF/WAVE file`);
  }
  let off = 12;
  let fmt: Omit<WavInfo, 'dataOffset' | 'dataBytes' | 'declaredDataBytes' | 'frames' | 'durationMs'> | undefined;
  while (off + 8 <= head.length) {
    const id = head.toString('ascii', off, off + 4);
    const size = head.readUInt32LE(off + 4);
    const body = off + 8;
    if (id === 'fmt ') {
      if (size < 16 || body + 16 > head.length) throw new WavFormatError(`${label}: truncated fmt chunk`);
      const audioFormat = head.readUInt16LE(body);
      fmt = {
        audioFormat,
        channels: head.readUInt16LE(body + 2),
        sampleRate: head.readUInt32LE(body + 4),
        blockAlign: head.readUInt16LE(body + 12),
        bitsPerSample: head.readUInt16LE(body + 14),
        subFormat: audioFormat === 0xfffe && size >= 26 && body + 26 <= head.length ? head.readUInt16LE(body + 24) : undefined,
      };
    } else if (id === 'data') {
      if (!fmt) throw new WavFormatError(`${label}: data chunk before fmt chunk`);
      // Streamed writers leave 0 or 0xFFFFFFFF here: trust the file size instead.
      const present = Math.max(0, fileSize - body);
      const declared = size;
      let dataBytes = declared === 0 || declared === 0xffffffff ? present : Math.min(declared, present);
      if (fmt.blockAlign > 0) dataBytes -= dataBytes % fmt.blockAlign;
      const frames = fmt.blockAlign > 0 ? dataBytes / fmt.blockAlign : 0;
      return {
        ...fmt,
        dataOffset: body,
        dataBytes,
        declaredDataBytes: declared,
        frames,
        durationMs: fmt.sampleRate > 0 ? (frames * 1000) / fmt.sampleRate : 0,
      };
    }
    off = body + size + (size & 1); // chunks are word aligned
  }
  throw new WavFormatError(`${label}: no data chunk in the first ${head.length} bytes`);
}

/** Reads and parses a WAV file's header. */
export async function readWavInfo(path: string): Promise<WavInfo> {
  const fh = await open(path, 'r');
  try {
    const { size } = await fh.stat();
    const head = Buffer.alloc(Math.min(size, 64 * 1024));
    await fh.read(head, 0, head.length, 0);
    return parseWavHeader(head, size, path);
  } finally {
    await fh.close();
  }
}

/** True when the WAV is exactly the on-air format and can be played without ffmpeg. */
export function isOnAirFormat(info: WavInfo): boolean {
  const pcm = info.audioFormat === 1 || (info.audioFormat === 0xfffe && info.subFormat === 1);
  return pcm && info.sampleRate === ON_AIR_RATE && info.channels === ON_AIR_CHANNELS && info.bitsPerSample === 16;
}

export function describeFormat(info: WavInfo): string {
  return `format ${info.audioFormat}, ${info.bitsPerSample}-bit, ${info.sampleRate} Hz, ${info.channels} ch`;
}

/** Canonical 44-byte header for s16le mono 48 kHz with `dataBytes` of samples. */
export function wavHeader(dataBytes: number, sampleRate = ON_AIR_RATE, channels = ON_AIR_CHANNELS): Buffer {
  const h = Buffer.alloc(WAV_HEADER_BYTES);
  const blockAlign = channels * 2;
  h.write('RIFF', 0, 'ascii');
  h.writeUInt32LE(Math.min(0xffffffff, 36 + dataBytes), 4);
  h.write('WAVE', 8, 'ascii');
  h.write('fmt ', 12, 'ascii');
  h.writeUInt32LE(16, 16);
  h.writeUInt16LE(1, 20); // PCM
  h.writeUInt16LE(channels, 22);
  h.writeUInt32LE(sampleRate, 24);
  h.writeUInt32LE(sampleRate * blockAlign, 28);
  h.writeUInt16LE(blockAlign, 32);
  h.writeUInt16LE(16, 34);
  h.write('data', 36, 'ascii');
  h.writeUInt32LE(Math.min(0xffffffff, dataBytes), 40);
  return h;
}
