// Passwords and the private keys bound to console users. Nothing here touches the disk or the
// network: the store keeps only what these functions return.
import { createCipheriv, createDecipheriv, randomBytes, scrypt as scryptCb, timingSafeEqual } from 'node:crypto';

/** scrypt cost: 2^15 with r=8 (~32 MiB, ~60 ms on a ward-office PC), OWASP's minimum and then some. */
const N = 32768;
const R = 8;
const P = 1;
const MAXMEM = 64 * 1024 * 1024;

function scrypt(password: string, salt: Buffer, length: number, n = N): Promise<Buffer> {
  return new Promise((resolve, reject) => scryptCb(password.normalize('NFC'), salt, length, { N: n, r: R, p: P, maxmem: MAXMEM }, (e, k) => (e ? reject(e) : resolve(k))));
}

/** `scrypt$N$r$p$salt$hash` (base64). */
export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  const hash = await scrypt(password, salt, 32);
  return `scrypt$${N}$${R}$${P}$${salt.toString('base64')}$${hash.toString('base64')}`;
}

export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const m = /^scrypt\$(\d+)\$(\d+)\$(\d+)\$([A-Za-z0-9+/=]+)\$([A-Za-z0-9+/=]+)$/.exec(stored);
  if (!m || Number(m[2]) !== R || Number(m[3]) !== P) return false;
  const expected = Buffer.from(m[5]!, 'base64');
  const got = await scrypt(password, Buffer.from(m[4]!, 'base64'), expected.length, Number(m[1]));
  return got.length === expected.length && timingSafeEqual(got, expected);
}

/** What a password must be: long enough to resist guessing at the rate limit for years. */
export function passwordProblem(password: string): string | undefined {
  if (password.length < 10) return 'at least 10 characters';
  if (password.length > 512) return 'at most 512 characters';
  return undefined;
}

/**
 * A private key sealed with its user's password (scrypt → AES-256-GCM). The server can sign
 * with it only while that user is logged in (or re-enters the password to approve), so whoever
 * reads the database alone holds no one's key, and no user can sign as another.
 */
export interface SealedKey {
  v: 1;
  salt: string;
  iv: string;
  tag: string;
  data: string;
}

export async function sealKey(privateKeyPem: string, password: string): Promise<SealedKey> {
  const salt = randomBytes(16);
  const iv = randomBytes(12);
  const key = await scrypt(password, salt, 32);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  const data = Buffer.concat([cipher.update(privateKeyPem, 'utf8'), cipher.final()]);
  return { v: 1, salt: salt.toString('base64'), iv: iv.toString('base64'), tag: cipher.getAuthTag().toString('base64'), data: data.toString('base64') };
}

/** The PEM, or undefined when the password is wrong (or the blob was tampered with). */
export async function openKey(sealed: SealedKey, password: string): Promise<string | undefined> {
  try {
    const key = await scrypt(password, Buffer.from(sealed.salt, 'base64'), 32);
    const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(sealed.iv, 'base64'));
    decipher.setAuthTag(Buffer.from(sealed.tag, 'base64'));
    return Buffer.concat([decipher.update(Buffer.from(sealed.data, 'base64')), decipher.final()]).toString('utf8');
  } catch {
    return undefined;
  }
}
