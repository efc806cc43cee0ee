// Console accounts: creating them (`loa users …`), checking a login, changing a password.
// A user may be bound to one fleet signing key; the key is stored sealed with the user's own
// password, so it can sign only while that user is logged in, and no two users share a key.
import type { Fleet } from '../../controller-cli/fleet.js';
import { publicKeyOf, type SigningKey } from '../../controller-cli/keys.js';
import { isId, publicKeyFingerprint, publicKeyOfPrivate } from '../../protocol/index.js';
import { ROLES, type Role } from '../shared/api.js';
import type { ConsoleStore, UserRecord } from './console-store.js';
import { hashPassword, openKey, passwordProblem, sealKey, verifyPassword } from './credentials.js';

export class AccountError extends Error {}

export const USER_NAME = /^[a-z0-9][a-z0-9._-]{0,63}$/;

export interface NewUser {
  name: string;
  role: string;
  stations: string[];
  groups: string[];
  password: string;
  /** A fleet key id and its private key (read by the CLI from the admin's own key directory). */
  key?: { id: string; pem: string };
}

function checkScope(fleet: Fleet, role: Role, stations: string[], groups: string[]): void {
  for (const s of stations) if (!fleet.stations.some((f) => f.id === s)) throw new AccountError(`unknown station ${s}`);
  for (const g of groups) if (!fleet.groups.some((f) => f.id === g)) throw new AccountError(`unknown group ${g}`);
  if (role === 'ward' && stations.length === 0 && groups.length === 0) throw new AccountError('a ward user needs --stations or --groups: the wards it serves');
}

/** The key must be the fleet's (its public key published) and not already bound to someone else. */
async function checkKey(fleet: Fleet, store: ConsoleStore, name: string, key: { id: string; pem: string }): Promise<void> {
  if (!isId(key.id)) throw new AccountError(`bad key id ${key.id}`);
  if (!fleet.signers.some((s) => s.key === key.id)) throw new AccountError(`key ${key.id} is not in the fleet's signers list`);
  const published = publicKeyOf(fleet, key.id);
  if (publicKeyOfPrivate(key.pem) !== published) throw new AccountError(`the private key does not match the fleet's public key ${key.id}`);
  for (const other of await store.users()) {
    if (other.name === name || other.key === null) continue;
    if (other.key === key.id || publicKeyFingerprint(publicKeyOf(fleet, other.key)) === publicKeyFingerprint(published)) {
      throw new AccountError(`key ${key.id} is already bound to user ${other.name}: one key, one person`);
    }
  }
}

export async function addUser(fleet: Fleet, store: ConsoleStore, u: NewUser, now = Date.now()): Promise<UserRecord> {
  if (!USER_NAME.test(u.name)) throw new AccountError(`bad user name ${u.name}: expected [a-z0-9._-], starting with a letter or digit`);
  if (!(ROLES as readonly string[]).includes(u.role)) throw new AccountError(`unknown role ${u.role}: expected ${ROLES.join(', ')}`);
  const role = u.role as Role;
  if (await store.user(u.name)) throw new AccountError(`user ${u.name} exists`);
  checkScope(fleet, role, u.stations, u.groups);
  const problem = passwordProblem(u.password);
  if (problem) throw new AccountError(`password: ${problem}`);
  if (u.key) await checkKey(fleet, store, u.name, u.key);
  const record: UserRecord = {
    name: u.name,
    role,
    stations: [...new Set(u.stations)],
    groups: [...new Set(u.groups)],
    key: u.key?.id ?? null,
    sealedKey: u.key ? await sealKey(u.key.pem, u.password) : null,
    passwordHash: await hashPassword(u.password),
    disabled: false,
    createdAt: now,
    updatedAt: now,
  };
  await store.putUser(record);
  return record;
}

/** The signing key object a session holds: never read from a file, so it is named for the user. */
export function consoleSigner(fleet: Fleet, user: string, keyId: string, pem: string): SigningKey {
  const publicKey = publicKeyOfPrivate(pem);
  if (publicKey !== publicKeyOf(fleet, keyId)) throw new AccountError(`the key sealed for ${user} no longer matches the fleet's public key ${keyId}`);
  return { id: keyId, pem, file: `console user ${user}`, fileId: `console:${user}`, fingerprint: publicKeyFingerprint(publicKey) };
}

export type LoginResult = { ok: true; user: UserRecord; signer: SigningKey | null } | { ok: false };

/** Same work whether or not the account exists, so timing does not tell which names are real. */
const DUMMY_HASH = 'scrypt$32768$8$1$AAAAAAAAAAAAAAAAAAAAAA==$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=';

export async function checkLogin(fleet: Fleet, store: ConsoleStore, name: string, password: string): Promise<LoginResult> {
  const user = USER_NAME.test(name) ? await store.user(name) : undefined;
  const good = await verifyPassword(password, user?.passwordHash ?? DUMMY_HASH);
  if (!user || !good || user.disabled) return { ok: false };
  return { ok: true, user, signer: await openSigner(fleet, user, password) };
}

/** Re-open the user's key with a password typed again (approval asks for it). */
export async function openSigner(fleet: Fleet, user: UserRecord, password: string): Promise<SigningKey | null> {
  if (!user.key || !user.sealedKey) return null;
  const pem = await openKey(user.sealedKey, password);
  if (!pem) throw new AccountError(`the key sealed for ${user.name} cannot be opened with this password`);
  return consoleSigner(fleet, user.name, user.key, pem);
}

/**
 * New password. With the old one the bound key is re-sealed; an administrator's reset without
 * it cannot open the key, so the binding is dropped unless a key is given again.
 */
export async function setPassword(
  fleet: Fleet,
  store: ConsoleStore,
  name: string,
  o: { password: string; oldPassword?: string; key?: { id: string; pem: string } },
  now = Date.now(),
): Promise<UserRecord> {
  const user = await store.user(name);
  if (!user) throw new AccountError(`no user ${name}`);
  const problem = passwordProblem(o.password);
  if (problem) throw new AccountError(`password: ${problem}`);
  let key: { id: string; pem: string } | undefined = o.key;
  if (!key && o.oldPassword !== undefined) {
    if (!(await verifyPassword(o.oldPassword, user.passwordHash))) throw new AccountError('the current password is wrong');
    const signer = await openSigner(fleet, user, o.oldPassword);
    if (signer) key = { id: signer.id, pem: signer.pem };
  }
  if (key) await checkKey(fleet, store, name, key);
  const next: UserRecord = {
    ...user,
    key: key?.id ?? null,
    sealedKey: key ? await sealKey(key.pem, o.password) : null,
    passwordHash: await hashPassword(o.password),
    updatedAt: now,
  };
  await store.putUser(next);
  return next;
}

export async function setDisabled(store: ConsoleStore, name: string, disabled: boolean, now = Date.now()): Promise<UserRecord> {
  const user = await store.user(name);
  if (!user) throw new AccountError(`no user ${name}`);
  const next = { ...user, disabled, updatedAt: now };
  await store.putUser(next);
  return next;
}
