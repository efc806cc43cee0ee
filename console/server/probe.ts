// Uploaded and recorded audio is checked with ffprobe before anything is stored or published:
// it must hold an audio stream ffmpeg can decode, and be of sane length.
import { runTool, ToolMissingError } from '../../controller-cli/run-tool.js';

export interface Probed {
  durationSec: number;
  codec: string;
  format: string;
}

export class ProbeError extends Error {}

const MIME: [RegExp, string][] = [
  [/^wav$/, 'audio/wav'],
  [/^mp3$/, 'audio/mpeg'],
  [/^ogg$/, 'audio/ogg'],
  [/^flac$/, 'audio/flac'],
  [/webm|matroska/, 'audio/webm'],
  [/mp4|m4a|mov/, 'audio/mp4'],
  [/^aac$/, 'audio/aac'],
];

export const mimeOf = (format: string) => MIME.find(([re]) => re.test(format))?.[1] ?? 'application/octet-stream';

export async function probeAudioFile(path: string, maxSec: number): Promise<Probed> {
  let out: Buffer;
  try {
    out = await runTool('ffprobe', ['-v', 'error', '-show_entries', 'format=format_name,duration:stream=codec_type,codec_name', '-of', 'json', path], { timeoutMs: 20_000 });
  } catch (e) {
    if (e instanceof ToolMissingError) throw new ProbeError('ffprobe is not installed on the central machine (apt-get install ffmpeg)');
    throw new ProbeError(`not an audio file ffmpeg can read (${(e as Error).message.slice(0, 200)})`);
  }
  const info = JSON.parse(out.toString('utf8')) as { format?: { format_name?: string; duration?: string }; streams?: { codec_type?: string; codec_name?: string }[] };
  const audio = info.streams?.find((s) => s.codec_type === 'audio');
  if (!audio) throw new ProbeError('the file has no audio stream');
  let duration = Number(info.format?.duration);
  // A browser recording (WebM from MediaRecorder) has no duration in its header: decode to count.
  if (!Number.isFinite(duration) || duration <= 0) duration = await decodedSeconds(path, maxSec);
  if (!(duration > 0.2)) throw new ProbeError('the audio is empty or shorter than 0.2 s');
  if (duration > maxSec) throw new ProbeError(`the audio is ${Math.round(duration / 60)} min long; at most ${Math.round(maxSec / 60)} min`);
  return { durationSec: Math.round(duration * 10) / 10, codec: audio.codec_name ?? 'unknown', format: info.format?.format_name ?? 'unknown' };
}

async function decodedSeconds(path: string, maxSec: number): Promise<number> {
  try {
    const out = await runTool('ffprobe', ['-v', 'error', '-count_packets', '-select_streams', 'a:0', '-show_entries', 'packet=pts_time,duration_time', '-of', 'csv=p=0', path], {
      timeoutMs: 30_000,
    });
    const lines = out.toString('utf8').trim().split('\n').filter(Boolean);
    const last = lines.at(-1)?.split(',') ?? [];
    const end = Number(last[0]) + (Number(last[1]) || 0);
    return Number.isFinite(end) ? Math.min(end, maxSec + 1) : 0;
  } catch (e) {
    throw new ProbeError(`the audio cannot be decoded (${(e as Error).message.slice(0, 200)})`);
  }
}
