import { existsSync, mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { t } from '../io/i18n.js';
import { assertId, generateKeyPair, isId, publicKeyError, publicKeyFingerprint, publicKeyOfPrivate, type SignedType } from '../protocol/index.js';
import { CliError, UsageError } from './errors.js';
import type { Fleet } from './fleet.js';
import { writePublicFile, writeSecretFile } from './secret-files.js';

/**
 * Where keys live.
 * - Public keys: `<fleet keysDir>/<id>.pub`, shared: provisioning puts them in every station.
 * - Private keys: the signing person's own directory, `LOA_KEY_DIR` or `~/.config/loa/keys`
 *   (0700, files 0600). Two officials who must both sign a live alert keep their keys in two
 *   accounts: whoever can read both keys can meet the quorum alone.
 */
export function privateKeyDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.LOA_KEY_DIR) return resolve(env.LOA_KEY_DIR);
  const base = env.XDG_CONFIG_HOME ? resolve(env.XDG_CONFIG_HOME) : join(homedir(), '.config');
  return join(base, 'loa', 'keys');
}

export interface KeyInfo {
  id: string;
  publicKey: string;
  privateKeyFile?: string;
  publicKeyFile: string;
  /** Types the fleet's signer policy allows this key to sign. */
  allow: SignedType[];
  privateMode?: string;
  /** False when the fleet's key directory was not writable from this account. */
  publicKeyImported?: boolean;
}

const privatePath = (id: string) => join(privateKeyDir(), `${id}.key`);
const publicPath = (fleet: Fleet, id: string) => join(fleet.keysDir, `${id}.pub`);
const allowOf = (fleet: Fleet, id: string) => fleet.signers.find((s) => s.key === id)?.allow ?? [];

/** A directory or file other accounts can read, or that another account owns: not a place for a private key. */
function exposure(path: string): string | undefined {
  const st = statSync(path);
  const uid = process.getuid?.();
  if (uid !== undefined && st.uid !== uid) return t('keys.otherOwner', { path, uid: st.uid });
  if ((st.mode & 0o077) !== 0) return t('keys.readableByOthers', { path, mode: (st.mode & 0o777).toString(8) });
  return undefined;
}

/** Private keys of other alert signers in the same directory as `id`'s. */
function otherAlertKeysBeside(fleet: Fleet, id: string): string[] {
  const dir = privateKeyDir();
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => f.endsWith('.key') && f.slice(0, -4) !== id && allowOf(fleet, f.slice(0, -4)).includes('alert'))
    .map((f) => f.slice(0, -4));
}

export function initKey(fleet: Fleet, name: string, force = false): KeyInfo {
  if (!isId(name)) throw new UsageError(t('keys.badName', { name }));
  const dir = privateKeyDir();
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const exposed = exposure(dir);
  if (exposed) throw new CliError(exposed);
  // Two people's alert keys in one account make the two-person rule a one-person rule.
  if (allowOf(fleet, name).includes('alert')) {
    const others = otherAlertKeysBeside(fleet, name);
    if (others.length) throw new CliError(t('keys.secondAlertKey', { id: name, others: others.join(', '), dir }));
  }
  const priv = privatePath(name);
  if (existsSync(priv) && !force) throw new CliError(t('keys.exists', { file: priv }));
  const pair = generateKeyPair();
  writeSecretFile(priv, pair.privateKeyPem);
  try {
    importPublicKey(fleet, name, pair.publicKey, true);
  } catch (e) {
    // An official's own account usually cannot write the fleet's key directory: the
    // administrator records the public key with `loa keys import` instead.
    const code = (e as NodeJS.ErrnoException).code;
    if (code !== 'EACCES' && code !== 'EPERM' && code !== 'EROFS') throw e;
    return { id: name, publicKey: pair.publicKey, privateKeyFile: priv, publicKeyFile: '', allow: allowOf(fleet, name), privateMode: '0600', publicKeyImported: false };
  }
  return describe(fleet, name);
}

/**
 * Record someone's public key (made with `loa keys init` in their own account). Refuses a
 * non-canonical spelling and a key already recorded under another name.
 */
export function importPublicKey(fleet: Fleet, name: string, publicKey: string, replace = false): KeyInfo {
  if (!isId(name)) throw new UsageError(t('keys.badName', { name }));
  const err = publicKeyError(publicKey);
  if (err) throw new UsageError(t('keys.badPublic', { reason: err }));
  const fp = publicKeyFingerprint(publicKey);
  for (const other of listPublic(fleet)) {
    if (other.id !== name && publicKeyFingerprint(other.publicKey) === fp) throw new CliError(t('keys.sameAs', { id: name, other: other.id }));
  }
  const file = publicPath(fleet, name);
  if (existsSync(file) && !replace && readFileSync(file, 'utf8').trim() !== publicKey) throw new CliError(t('keys.exists', { file }));
  writePublicFile(file, publicKey + '\n');
  return describe(fleet, name);
}

function describe(fleet: Fleet, id: string): KeyInfo {
  const pub = publicPath(fleet, id);
  const priv = privatePath(id);
  const info: KeyInfo = { id, publicKey: readFileSync(pub, 'utf8').trim(), publicKeyFile: pub, allow: allowOf(fleet, id) };
  if (existsSync(priv)) {
    info.privateKeyFile = priv;
    info.privateMode = (statSync(priv).mode & 0o777).toString(8).padStart(4, '0');
  }
  return info;
}

function listPublic(fleet: Fleet): { id: string; publicKey: string }[] {
  if (!existsSync(fleet.keysDir)) return [];
  return readdirSync(fleet.keysDir)
    .filter((f) => f.endsWith('.pub') && isId(f.slice(0, -4)))
    .map((f) => ({ id: f.slice(0, -4), publicKey: readFileSync(join(fleet.keysDir, f), 'utf8').trim() }));
}

export function listKeys(fleet: Fleet): KeyInfo[] {
  return listPublic(fleet)
    .map((k) => describe(fleet, k.id))
    .sort((a, b) => a.id.localeCompare(b.id));
}

export function publicKeyOf(fleet: Fleet, id: string): string {
  const pub = publicPath(fleet, assertId(id, 'key id'));
  if (!existsSync(pub)) throw new CliError(t('keys.missingPublic', { id, file: pub }));
  return readFileSync(pub, 'utf8').trim();
}

export interface SigningKey {
  id: string;
  pem: string;
  /** The file it was read from, and its identity on disk. */
  file: string;
  fileId: string;
  fingerprint: string;
}

/** Load a private key for signing `type` from this account's key directory, refusing keys the fleet policy does not allow. */
export function signingKey(fleet: Fleet, requested: string | undefined, type: SignedType): SigningKey {
  const id = requested ?? fleet.defaultKey ?? fleet.signers.find((s) => s.allow.includes(type) && existsSync(privatePath(s.key)))?.key;
  if (!id) throw new UsageError(t('keys.noneForType', { type }));
  if (!isId(id)) throw new UsageError(t('keys.badName', { name: id }));
  const policy = fleet.signers.find((s) => s.key === id);
  if (!policy?.allow.includes(type)) throw new CliError(t('keys.notAllowed', { id, type }));
  const priv = privatePath(id);
  if (!existsSync(priv)) throw new CliError(t('keys.missingPrivate', { id, file: priv }));
  const exposed = exposure(priv) ?? exposure(privateKeyDir());
  if (exposed) throw new CliError(exposed);
  const pem = readFileSync(priv, 'utf8');
  const publicKey = publicKeyOfPrivate(pem);
  // A private key that does not match the published public key would sign commands no station accepts.
  if (existsSync(publicPath(fleet, id)) && publicKey !== publicKeyOf(fleet, id)) {
    throw new CliError(t('keys.mismatch', { id }));
  }
  const st = statSync(priv);
  return { id, pem, file: priv, fileId: `${st.dev}:${st.ino}`, fingerprint: publicKeyFingerprint(publicKey) };
}

/** Whether this account also holds `id`'s private key (the second official must not). */
export function holdsPrivateKey(id: string): boolean {
  return isId(id) && existsSync(privatePath(id));
}
