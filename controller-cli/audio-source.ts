import { join, resolve } from 'node:path';
import { t } from '../io/i18n.js';
import { UsageError } from './errors.js';
import type { Fleet } from './fleet.js';
import { type MediaFile, storeMedia } from './media.js';
import { DEFAULT_VOICE, synthesise } from './speech.js';

export const mediaStoreDir = (fleet: Fleet) => join(fleet.centralDir, 'media');
export const speechCacheDir = (fleet: Fleet) => join(fleet.centralDir, 'speech');

/** AUDIO argument or `--text`: exactly one. Text becomes Vietnamese speech. */
export async function audioFromArgs(fleet: Fleet, audio: string | undefined, text: string | undefined, voice = DEFAULT_VOICE): Promise<MediaFile> {
  if ((audio === undefined) === (text === undefined)) throw new UsageError(t('audio.oneOf'));
  if (text !== undefined) {
    if (text.trim() === '') throw new UsageError(t('audio.emptyText'));
    const wav = await synthesise(speechCacheDir(fleet), text, voice);
    return storeMedia(mediaStoreDir(fleet), wav, { text, voice });
  }
  return storeMedia(mediaStoreDir(fleet), resolve(audio!));
}
