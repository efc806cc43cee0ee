import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

/** Write a secret so it is never readable by others, not even for an instant (write-then-rename). */
export function writeSecretFile(path: string, content: string | Buffer): void {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const tmp = `${path}.${randomBytes(4).toString('hex')}.tmp`;
  writeFileSync(tmp, content, { mode: 0o600 });
  chmodSync(tmp, 0o600); // umask cannot widen it, but an existing tmp could have been created wider
  renameSync(tmp, path);
}

/**
 * Files the officials of one office share through their group (drafts, the central database
 * directory): group read/write, nobody else. The directory gets the setgid bit so what one
 * official writes stays in the group for the next.
 */
export function writeGroupFile(path: string, content: string | Buffer): void {
  ensureGroupDir(dirname(path));
  const tmp = `${path}.${randomBytes(4).toString('hex')}.tmp`;
  writeFileSync(tmp, content, { mode: 0o660 });
  chmodSync(tmp, 0o660);
  renameSync(tmp, path);
}

export function ensureGroupDir(dir: string): void {
  if (existsSync(dir)) return;
  mkdirSync(dir, { recursive: true });
  chmodSync(dir, 0o2770);
}

/** Atomic replace for non-secret files (configs a running broker may read). */
export function writePublicFile(path: string, content: string | Buffer, mode = 0o644): void {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.${randomBytes(4).toString('hex')}.tmp`;
  writeFileSync(tmp, content, { mode });
  chmodSync(tmp, mode);
  renameSync(tmp, path);
}

/** 24 random bytes as URL-safe base64: 192 bits, no characters a YAML or conf file would mangle. */
export function randomPassword(): string {
  return randomBytes(24).toString('base64url');
}
