import { createHash } from 'node:crypto';
import { chmodSync, copyFileSync, existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { MqttClient } from 'mqtt';
import { t } from '../io/i18n.js';
import { publishAsync } from '../io/mqtt.js';
import { MAX_MEDIA_BYTES, type MediaRef, type Topics } from '../protocol/index.js';
import { CliError } from './errors.js';

export interface MediaFile {
  ref: MediaRef;
  path: string;
}

/** Hash a clip and keep a copy in the central media store, so drafts and re-pushes can republish it. */
export function storeMedia(storeDir: string, path: string, tts?: { text: string; voice: string }): MediaFile {
  if (!existsSync(path) || !statSync(path).isFile()) throw new CliError(t('media.missing', { file: path }));
  const size = statSync(path).size;
  if (size === 0) throw new CliError(t('media.empty', { file: path }));
  if (size > MAX_MEDIA_BYTES) throw new CliError(t('media.tooLarge', { file: path, max: MAX_MEDIA_BYTES }));
  const bytes = readFileSync(path);
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  mkdirSync(storeDir, { recursive: true });
  const stored = join(storeDir, sha256);
  if (!existsSync(stored)) {
    copyFileSync(path, stored);
    // A copy keeps its source's mode; another official's account must be able to republish it.
    chmodSync(stored, 0o640);
  }
  return { path: stored, ref: { kind: 'media', sha256, size, ...(tts ? { tts } : {}) } };
}

export function storedMediaPath(storeDir: string, sha256: string): string {
  return join(storeDir, sha256);
}

/**
 * Content-addressed and retained: a station that was offline fetches it when it reconnects.
 * Recorded centrally so `loa media gc` can later clear what nothing references any more.
 */
export async function publishMedia(
  client: MqttClient,
  topics: Topics,
  storeDir: string,
  sha256: string,
  db?: { recordMedia(sha: string, bytes: number, now: number): Promise<void> | void },
): Promise<void> {
  const path = storedMediaPath(storeDir, sha256);
  if (!existsSync(path)) throw new CliError(t('media.notStored', { sha256 }));
  const bytes = readFileSync(path);
  await publishAsync(client, topics.media(sha256), bytes, { qos: 1, retain: true });
  await db?.recordMedia(sha256, bytes.length, Date.now());
}
