import { createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject, sign, verify } from 'node:crypto';
import { canonicalBytes } from './canonical.js';
import type { Signature, SignedEnvelope, UnsignedEnvelope } from './schemas.js';

/** Domain separation: a Loa signature can never be replayed as some other protocol's. */
const DOMAIN = Buffer.from('loa/v1 signed envelope\n', 'utf8');

export function signedBytes(envelope: UnsignedEnvelope | SignedEnvelope): Buffer {
  const { sigs: _sigs, ...unsigned } = envelope as SignedEnvelope;
  return Buffer.concat([DOMAIN, canonicalBytes(unsigned)]);
}

export interface KeyPair {
  privateKeyPem: string;
  publicKey: string; // base64 of the raw 32-byte Ed25519 public key
}

export function generateKeyPair(): KeyPair {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  return {
    privateKeyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    publicKey: rawPublicKey(publicKey),
  };
}

const SPKI_ED25519_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');

export function rawPublicKey(key: KeyObject): string {
  const der = key.export({ type: 'spki', format: 'der' });
  return der.subarray(der.length - 32).toString('base64');
}

/**
 * The one accepted spelling of a public key: standard base64 of exactly 32 bytes, padded.
 * Buffer.from() would also take URL-safe letters, missing padding, whitespace and junk, so
 * one key could be written many ways and pass as many keys.
 */
export function publicKeyError(base64: string): string | undefined {
  if (typeof base64 !== 'string' || !/^[A-Za-z0-9+/]{43}=$/.test(base64)) return 'expected the base64 of a raw 32-byte Ed25519 public key (44 characters ending in =)';
  const raw = Buffer.from(base64, 'base64');
  if (raw.length !== 32 || raw.toString('base64') !== base64) return 'expected the canonical base64 of a raw 32-byte Ed25519 public key';
  return undefined;
}

/** Hex of the raw key bytes: two ids naming the same key have the same fingerprint. */
export function publicKeyFingerprint(base64: string): string {
  return Buffer.from(base64, 'base64').toString('hex');
}

export function publicKeyFromRaw(base64: string): KeyObject {
  const err = publicKeyError(base64);
  if (err) throw new Error(err);
  const raw = Buffer.from(base64, 'base64');
  return createPublicKey({ key: Buffer.concat([SPKI_ED25519_PREFIX, raw]), format: 'der', type: 'spki' });
}

export function publicKeyOfPrivate(privateKeyPem: string): string {
  return rawPublicKey(createPublicKey(createPrivateKey(privateKeyPem)));
}

export function signatureFor(envelope: UnsignedEnvelope | SignedEnvelope, keyId: string, privateKeyPem: string): Signature {
  const sig = sign(null, signedBytes(envelope), createPrivateKey(privateKeyPem)).toString('base64');
  return { key: keyId, sig };
}

/** Sign an unsigned envelope as its issuer. */
export function signEnvelope(envelope: UnsignedEnvelope, privateKeyPem: string): SignedEnvelope {
  return { ...envelope, sigs: [signatureFor(envelope, envelope.issuer, privateKeyPem)] };
}

/** Add a further signature (the second person of a live alert). */
export function cosignEnvelope(envelope: SignedEnvelope, keyId: string, privateKeyPem: string): SignedEnvelope {
  if (envelope.sigs.some((s) => s.key === keyId)) throw new Error(`key ${keyId} has already signed ${envelope.id}`);
  return { ...envelope, sigs: [...envelope.sigs, signatureFor(envelope, keyId, privateKeyPem)] };
}

/** `signed`: the envelope's signedBytes(), when the caller checks several signatures of one envelope. */
export function checkSignature(envelope: SignedEnvelope, sig: Signature, publicKey: KeyObject, signed?: Buffer): boolean {
  try {
    const bytes = Buffer.from(sig.sig, 'base64');
    // Only the canonical base64 of 64 bytes: one signature, one spelling.
    if (bytes.length !== 64 || bytes.toString('base64') !== sig.sig) return false;
    return verify(null, signed ?? signedBytes(envelope), publicKey, bytes);
  } catch {
    return false;
  }
}
