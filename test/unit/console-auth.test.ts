// The console's accounts, sessions and login limits, with fixed clocks where time matters.
import { describe, expect, test } from 'vitest';
import { hashPassword, openKey, passwordProblem, sealKey, verifyPassword } from '../../console/server/credentials.js';
import { LoginLimiter, Sessions } from '../../console/server/sessions.js';
import { generateKeyPair } from '../../protocol/index.js';

describe('passwords and sealed keys', () => {
  test('scrypt hashes verify the right password only, in NFC', async () => {
    const h = await hashPassword('mật khẩu của Lan');
    expect(h).toMatch(/^scrypt\$32768\$8\$1\$/);
    expect(await verifyPassword('mật khẩu của Lan', h)).toBe(true);
    // The same words typed with combining marks (another keyboard) are the same password.
    expect(await verifyPassword('mật khẩu của Lan'.normalize('NFD'), h)).toBe(true);
    expect(await verifyPassword('mat khau cua Lan', h)).toBe(false);
    expect(await verifyPassword('anything', 'plain-text-in-the-db')).toBe(false);
    expect(await hashPassword('same')).not.toBe(await hashPassword('same')); // salted
  });

  test('a key sealed with a password opens with it and nothing else, and a tampered blob does not open', async () => {
    const { privateKeyPem } = generateKeyPair();
    const sealed = await sealKey(privateKeyPem, 'correct horse battery');
    expect(JSON.stringify(sealed)).not.toContain('PRIVATE KEY');
    expect(await openKey(sealed, 'correct horse battery')).toBe(privateKeyPem);
    expect(await openKey(sealed, 'wrong horse battery')).toBeUndefined();
    const data = Buffer.from(sealed.data, 'base64');
    data[5] = data[5]! ^ 1;
    expect(await openKey({ ...sealed, data: data.toString('base64') }, 'correct horse battery')).toBeUndefined();
  });

  test('passwords must be long enough', () => {
    expect(passwordProblem('short')).toMatch(/at least 10/);
    expect(passwordProblem('long enough pass')).toBeUndefined();
  });
});

describe('sessions', () => {
  const user = { name: 'lan', role: 'ward' as const, stations: ['a'], groups: [], key: null };

  test('end after the idle timeout and after the maximum lifetime, whatever the activity', () => {
    let now = 0;
    const s = new Sessions({ idleMs: 30 * 60_000, maxMs: 12 * 3600_000 }, () => now);
    const a = s.create(user, null, '10.0.0.5', 1);
    now = 29 * 60_000;
    expect(s.get(a.id)?.user.name).toBe('lan');
    now += 31 * 60_000; // 31 minutes without a request
    expect(s.get(a.id)).toBeUndefined();
    const b = s.create(user, null, '10.0.0.5', 1);
    for (let i = 0; i < 12 * 4 + 1; i++) {
      now += 15 * 60_000; // busy all day, a request every quarter hour
      if (i < 47) expect(s.get(b.id)).toBeDefined();
    }
    expect(s.get(b.id)).toBeUndefined();
  });

  test('dropping a user ends all their sessions and closes their live streams', () => {
    const s = new Sessions({ idleMs: 60_000, maxMs: 3_600_000 });
    const a = s.create(user, null, 'x', 1);
    const b = s.create(user, null, 'y', 1);
    const other = s.create({ ...user, name: 'hung' }, null, 'z', 1);
    let closed = 0;
    a.closers.add(() => closed++);
    b.closers.add(() => closed++);
    expect(s.dropUser('lan')).toBe(2);
    expect(closed).toBe(2);
    expect(s.get(a.id)).toBeUndefined();
    expect(s.get(other.id)).toBeDefined();
  });

  test('session ids and CSRF tokens are long and unrelated', () => {
    const s = new Sessions({ idleMs: 60_000, maxMs: 3_600_000 });
    const a = s.create(user, null, 'x', 1);
    expect(a.id.length).toBeGreaterThanOrEqual(43);
    expect(a.csrf.length).toBeGreaterThanOrEqual(43);
    expect(a.csrf).not.toBe(a.id);
  });
});

describe('login rate limit', () => {
  test('five failures lock the account for the window; other accounts are not locked', () => {
    let now = 0;
    const l = new LoginLimiter({ windowMs: 15 * 60_000, perAccount: 5, perAddress: 20 }, () => now);
    for (let i = 0; i < 5; i++) {
      expect(l.retryAfter('lan', '1.2.3.4')).toBe(0);
      l.failed('lan', '1.2.3.4');
      now += 1000;
    }
    expect(l.retryAfter('lan', '1.2.3.4')).toBeGreaterThan(800);
    // From another address too: the account is what is being guessed.
    expect(l.retryAfter('lan', '5.6.7.8')).toBeGreaterThan(800);
    expect(l.retryAfter('hung', '5.6.7.8')).toBe(0);
    now += 15 * 60_000;
    expect(l.retryAfter('lan', '1.2.3.4')).toBe(0);
  });

  test('one address guessing many accounts is stopped at twenty failures', () => {
    const now = 0;
    const l = new LoginLimiter({ windowMs: 15 * 60_000, perAccount: 5, perAddress: 20 }, () => now);
    for (let i = 0; i < 20; i++) l.failed(`user${i}`, '9.9.9.9');
    expect(l.retryAfter('someone-else', '9.9.9.9')).toBeGreaterThan(0);
    expect(l.retryAfter('someone-else', '8.8.8.8')).toBe(0);
  });

  test('a success clears the account count', () => {
    const l = new LoginLimiter();
    for (let i = 0; i < 4; i++) l.failed('lan', 'a');
    l.succeeded('lan');
    l.failed('lan', 'a');
    expect(l.retryAfter('lan', 'b')).toBe(0);
  });
});
