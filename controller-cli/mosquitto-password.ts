import { pbkdf2Sync, randomBytes } from 'node:crypto';

/**
 * Mosquitto 2 password-file line: `user:$7$<iterations>$<salt b64>$<pbkdf2-sha512 b64>`,
 * the format `mosquitto_passwd` writes (12-byte salt, 64-byte hash, 101 iterations by default).
 * Made here so a controller does not need the mosquitto-clients package.
 */
export function mosquittoPasswordLine(user: string, password: string, iterations = 101): string {
  const salt = randomBytes(12);
  const hash = pbkdf2Sync(password, salt, iterations, 64, 'sha512');
  return `${user}:$7$${iterations}$${salt.toString('base64')}$${hash.toString('base64')}`;
}

export function checkMosquittoPassword(line: string, password: string): boolean {
  const m = /^[^:]+:\$7\$(\d+)\$([A-Za-z0-9+/=]+)\$([A-Za-z0-9+/=]+)$/.exec(line.trim());
  if (!m) return false;
  const salt = Buffer.from(m[2]!, 'base64');
  const expected = Buffer.from(m[3]!, 'base64');
  return pbkdf2Sync(password, salt, Number(m[1]), expected.length, 'sha512').equals(expected);
}
