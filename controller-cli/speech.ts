import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { t } from '../io/i18n.js';
import { CliError } from './errors.js';
import { runTool, ToolMissingError } from './run-tool.js';

export const DEFAULT_VOICE = 'vi';

/**
 * Vietnamese speech as a WAV file, cached by (voice, text) so a re-push of an unchanged
 * schedule yields the same media hash. Text goes through stdin: it can never become an option.
 */
export async function synthesise(cacheDir: string, text: string, voice = DEFAULT_VOICE): Promise<string> {
  if (!/^[A-Za-z0-9+_-]{1,32}$/.test(voice)) throw new CliError(t('speech.badVoice', { voice }));
  const key = createHash('sha256').update(voice).update('\0').update(text).digest('hex');
  mkdirSync(cacheDir, { recursive: true });
  const out = join(cacheDir, `${key}.wav`);
  if (existsSync(out)) return out;
  const tmp = `${out}.${randomBytes(4).toString('hex')}.tmp.wav`;
  try {
    await runTool('espeak-ng', ['-v', voice, '--stdin', '-w', tmp], { stdin: text, timeoutMs: 120_000 });
  } catch (e) {
    rmSync(tmp, { force: true });
    if (e instanceof ToolMissingError) throw new CliError(t('speech.missingEspeak'));
    throw new CliError(t('speech.failed', { reason: (e as Error).message }));
  }
  renameSync(tmp, out);
  return out;
}
