import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { assertId, generateKeyPair, isId, publicKeyOfPrivate, type SignedType } from '../protocol/index.js';
import { t } from '../io/i18n.js';
import { CliError, UsageError } from './errors.js';
import type { Fleet } from './fleet.js';
import { writePublicFile, writeSecretFile } from './secret-files.js';

export interface KeyInfo {
  id: string;
  publicKey: string;
  privateKeyFile?: string;
  publicKeyFile: string;
  /** Types the fleet's signer policy allows this key to sign. */
  allow: SignedType[];
  privateMode?: string;
}

const privatePath = (fleet: Fleet, id: string) => join(fleet.keysDir, `${id}.key`);
const publicPath = (fleet: Fleet, id: string) => join(fleet.keysDir, `${id}.pub`);

export function initKey(fleet: Fleet, name: string, force = false): KeyInfo {
  if (!isId(name)) throw new UsageError(t('keys.badName', { name }));
  const priv = privatePath(fleet, name);
  if (existsSync(priv) && !force) throw new CliError(t('keys.exists', { file: priv }));
  const pair = generateKeyPair();
  writeSecretFile(priv, pair.privateKeyPem);
  writePublicFile(publicPath(fleet, name), pair.publicKey + '\n');
  return describe(fleet, name);
}

function describe(fleet: Fleet, id: string): KeyInfo {
  const pub = publicPath(fleet, id);
  const priv = privatePath(fleet, id);
  const publicKey = readFileSync(pub, 'utf8').trim();
  const info: KeyInfo = {
    id,
    publicKey,
    publicKeyFile: pub,
    allow: fleet.signers.find((s) => s.key === id)?.allow ?? [],
  };
  if (existsSync(priv)) {
    info.privateKeyFile = priv;
    info.privateMode = (statSync(priv).mode & 0o777).toString(8).padStart(4, '0');
  }
  return info;
}

export function listKeys(fleet: Fleet): KeyInfo[] {
  if (!existsSync(fleet.keysDir)) return [];
  return readdirSync(fleet.keysDir)
    .filter((f) => f.endsWith('.pub') && isId(f.slice(0, -4)))
    .map((f) => describe(fleet, f.slice(0, -4)))
    .sort((a, b) => a.id.localeCompare(b.id));
}

export function publicKeyOf(fleet: Fleet, id: string): string {
  const pub = publicPath(fleet, assertId(id, 'key id'));
  if (!existsSync(pub)) throw new CliError(t('keys.missingPublic', { id, file: pub }));
  return readFileSync(pub, 'utf8').trim();
}

/** Load a private key for signing `type`, refusing keys the fleet policy does not allow. */
export function signingKey(fleet: Fleet, requested: string | undefined, type: SignedType): { id: string; pem: string } {
  const id = requested ?? fleet.defaultKey ?? fleet.signers.find((s) => s.allow.includes(type) && existsSync(privatePath(fleet, s.key)))?.key;
  if (!id) throw new UsageError(t('keys.noneForType', { type }));
  if (!isId(id)) throw new UsageError(t('keys.badName', { name: id }));
  const policy = fleet.signers.find((s) => s.key === id);
  if (!policy || !policy.allow.includes(type)) throw new CliError(t('keys.notAllowed', { id, type }));
  const priv = privatePath(fleet, id);
  if (!existsSync(priv)) throw new CliError(t('keys.missingPrivate', { id, file: priv }));
  const mode = statSync(priv).mode & 0o077;
  if (mode !== 0) throw new CliError(t('keys.tooOpen', { file: priv }));
  const pem = readFileSync(priv, 'utf8');
  // A private key that does not match the published public key would sign commands no station accepts.
  if (existsSync(publicPath(fleet, id)) && publicKeyOfPrivate(pem) !== publicKeyOf(fleet, id)) {
    throw new CliError(t('keys.mismatch', { id }));
  }
  return { id, pem };
}
