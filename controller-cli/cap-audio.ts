// The audio of a CAP draft: the message's own `audio/*` resource when it can be fetched, matches
// its SHA-1 `<digest>` and decodes; otherwise speech made from the message's text. A resource that
// fails any check never blocks the warning: the draft falls back to speech and says why, so the
// approver sees it.
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { findFfmpeg, runFfmpeg } from '../io/ffmpeg.js';
import { MAX_MEDIA_BYTES } from '../protocol/index.js';
import { mediaStoreDir, speechCacheDir } from './audio-source.js';
import type { CapPlan } from './cap/map.js';
import { CapFetchError, fetchLimited } from './cap-fetch.js';
import type { Fleet } from './fleet.js';
import { type MediaFile, storeMedia } from './media.js';
import { DEFAULT_VOICE, synthesise } from './speech.js';

export const CAP_AUDIO_TIMEOUT_MS = 30_000;
/** MediaRef.tts keeps at most this much text; longer text is spoken up to here. */
const MAX_SPOKEN_CHARS = 5000;

export interface CapAudioSummary {
  source: 'resource' | 'speech';
  /** The resource's URI (or "derefUri"), when there was one. */
  resource?: string;
  /** Why the resource was not used. */
  problem?: string;
  voice?: string;
  sha256: string;
  bytes: number;
}

/** espeak-ng voice for a CAP language tag: its primary subtag (vi, en, fr, …). */
export function voiceFor(language: string | undefined): string {
  const primary = (language ?? '').toLowerCase().split('-')[0] ?? '';
  return /^[a-z]{2,3}$/.test(primary) ? primary : DEFAULT_VOICE;
}

async function resourceBytes(audio: NonNullable<CapPlan['audio']>): Promise<Buffer> {
  if (audio.size !== undefined && audio.size > MAX_MEDIA_BYTES) throw new CapFetchError(`<size> ${audio.size} is larger than ${MAX_MEDIA_BYTES} bytes`);
  if (audio.derefBase64 !== undefined) {
    if (audio.derefBase64.length > Math.ceil(MAX_MEDIA_BYTES / 3) * 4) throw new CapFetchError(`<derefUri> is larger than ${MAX_MEDIA_BYTES} bytes`);
    return Buffer.from(audio.derefBase64, 'base64');
  }
  const r = await fetchLimited(audio.uri!, { maxBytes: MAX_MEDIA_BYTES, timeoutMs: CAP_AUDIO_TIMEOUT_MS, accept: 'audio/*' });
  return r.body;
}

/** Decode it once centrally: a clip stations cannot decode would fail at every one of them. */
async function checkDecodes(file: string): Promise<void> {
  let ffmpeg: string;
  try {
    ffmpeg = findFfmpeg().path;
  } catch {
    return; // no ffmpeg on this machine: the stations decode it
  }
  try {
    await runFfmpeg(['-v', 'error', '-nostdin', '-i', file, '-f', 'null', '-'], { ffmpegPath: ffmpeg, timeoutMs: 60_000 });
  } catch (e) {
    throw new CapFetchError(`not decodable audio: ${(e as Error).message.split('\n')[0]}`);
  }
}

async function fromResource(fleet: Fleet, audio: NonNullable<CapPlan['audio']>): Promise<MediaFile> {
  const bytes = await resourceBytes(audio);
  if (bytes.length === 0) throw new CapFetchError('the resource is empty');
  if (audio.digest !== undefined) {
    const sha1 = createHash('sha1').update(bytes).digest('hex');
    if (sha1 !== audio.digest) throw new CapFetchError(`SHA-1 ${sha1} does not match <digest> ${audio.digest}`);
  }
  const dir = join(fleet.centralDir, 'cap', 'incoming');
  mkdirSync(dir, { recursive: true });
  const tmp = join(dir, `${randomBytes(6).toString('hex')}.audio`);
  try {
    writeFileSync(tmp, bytes, { mode: 0o640 });
    await checkDecodes(tmp);
    return storeMedia(mediaStoreDir(fleet), tmp);
  } finally {
    rmSync(tmp, { force: true });
  }
}

function spokenText(text: string): string {
  if (text.length <= MAX_SPOKEN_CHARS) return text;
  const cut = text.slice(0, MAX_SPOKEN_CHARS - 1);
  const space = cut.lastIndexOf(' ');
  return `${space > MAX_SPOKEN_CHARS / 2 ? cut.slice(0, space) : cut}…`;
}

async function fromSpeech(fleet: Fleet, plan: CapPlan): Promise<{ media: MediaFile; voice: string }> {
  const text = spokenText(plan.text ?? plan.headline ?? '');
  const voice = voiceFor(plan.language);
  try {
    const wav = await synthesise(speechCacheDir(fleet), text, voice);
    return { media: storeMedia(mediaStoreDir(fleet), wav, { text, voice }), voice };
  } catch (e) {
    if (voice === DEFAULT_VOICE) throw e;
    // A language espeak-ng has no voice for: Vietnamese speech of the text beats no warning.
    const wav = await synthesise(speechCacheDir(fleet), text, DEFAULT_VOICE);
    return { media: storeMedia(mediaStoreDir(fleet), wav, { text, voice: DEFAULT_VOICE }), voice: DEFAULT_VOICE };
  }
}

export async function capAudio(fleet: Fleet, plan: CapPlan): Promise<{ media: MediaFile; summary: CapAudioSummary }> {
  let problem: string | undefined;
  const resource = plan.audio ? (plan.audio.uri ?? 'derefUri') : undefined;
  if (plan.audio) {
    try {
      const media = await fromResource(fleet, plan.audio);
      return { media, summary: { source: 'resource', resource: resource!, sha256: media.ref.sha256, bytes: media.ref.size } };
    } catch (e) {
      problem = e instanceof CapFetchError ? e.message : `cannot use it: ${(e as Error).message}`;
    }
  }
  const { media, voice } = await fromSpeech(fleet, plan);
  return {
    media,
    summary: { source: 'speech', ...(resource ? { resource } : {}), ...(problem ? { problem } : {}), voice, sha256: media.ref.sha256, bytes: media.ref.size },
  };
}
