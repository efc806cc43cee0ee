// A per-user cache of parsed YAML for large files (a fleet of 10,000 stations is 0.6 MiB of YAML
// and the `yaml` parser takes about a second of CPU on it; every `loa` command reads the fleet).
// Keyed by the SHA-256 of the text, so an edited file is parsed again. Kept in the user's own
// cache directory (0700, owned by them): nobody else can plant a parse for them. Line numbers are
// never cached; an error re-parses the text to find them.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

/** Smaller files parse in a few ms: not worth a cache file. */
export const PARSE_CACHE_MIN_BYTES = 64 * 1024;
const FORMAT = 'loa-yaml-parse-v1';

function cacheDir(): string | undefined {
  const base = process.env.LOA_CACHE_DIR ?? join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'loa');
  try {
    if (!existsSync(base)) mkdirSync(base, { recursive: true, mode: 0o700 });
    const st = statSync(base);
    // Only a directory of our own that nobody else may write.
    if (!st.isDirectory() || (process.getuid && st.uid !== process.getuid()) || (st.mode & 0o022) !== 0) return undefined;
    return base;
  } catch {
    return undefined;
  }
}

const fileOf = (dir: string, text: string) => join(dir, `${createHash('sha256').update(FORMAT).update(text).digest('hex')}.json`);

export function cachedParse(text: string): unknown {
  if (text.length < PARSE_CACHE_MIN_BYTES) return undefined;
  const dir = cacheDir();
  if (!dir) return undefined;
  try {
    return JSON.parse(readFileSync(fileOf(dir, text), 'utf8')) as unknown;
  } catch {
    return undefined;
  }
}

export function storeParse(text: string, data: unknown): void {
  if (text.length < PARSE_CACHE_MIN_BYTES) return;
  const dir = cacheDir();
  if (!dir) return;
  let json: string;
  try {
    // Only what JSON keeps exactly (no .inf, no NaN, no undefined, no dates).
    json = JSON.stringify(data, (_k, v: unknown) => {
      if (typeof v === 'number' && !Number.isFinite(v)) throw new Error('not JSON');
      if (v === undefined || v instanceof Date || typeof v === 'bigint') throw new Error('not JSON');
      return v;
    });
  } catch {
    return;
  }
  try {
    const file = fileOf(dir, text);
    const tmp = `${file}.${process.pid}.tmp`;
    writeFileSync(tmp, json, { mode: 0o600 });
    renameSync(tmp, file);
  } catch {
    // a cache only
  }
}
