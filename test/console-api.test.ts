// The console's HTTP API in-process (a real server on a free port, real SQLite, accounts made
// by the real `loa users` CLI): accounts, roles, limits and refusals an attacker would try.
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { stringify } from 'yaml';
import { type RunningConsole, startConsole } from '../console/server/serve.js';
import { loadFleet } from '../controller-cli/fleet.js';
import { LOA_BIN, runLoa } from '../support/cli.js';
import { tempDir } from '../support/tmp.js';

describe('console API', () => {
  let dir: string;
  let fleetFile: string;
  let running: RunningConsole;
  let base: string;
  const keyDir = (k: string) => path.join(dir, `keys-${k}`);
  const users = (args: string[], key?: string, stdin?: string) =>
    new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
      // The CLI reads the password from stdin (--password-stdin), as an admin's script would.
      const child = spawn(process.execPath, [LOA_BIN, '--fleet', fleetFile, ...args], {
        env: { ...process.env, LANG: 'C', LOA_KEY_DIR: key ? keyDir(key) : path.join(dir, 'none') },
      });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d) => (stdout += d));
      child.stderr.on('data', (d) => (stderr += d));
      child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
      child.stdin.end(stdin ?? '');
    });

  beforeAll(async () => {
    dir = tempDir('loa-console-api-');
    fleetFile = path.join(dir, 'fleet.yaml');
    writeFileSync(
      fleetFile,
      stringify({
        broker: { urls: ['mqtt://127.0.0.1:1'], stationUrls: ['mqtt://127.0.0.1:1'], passwordFile: 'secrets/central.password' },
        signers: [
          { key: 'lan', allow: ['announce', 'schedule'] },
          { key: 'duty', allow: ['alert', 'cancel'] },
        ],
        groups: [{ id: 'dong', name: 'Đông' }],
        stations: [
          { id: 'a', name: 'A', groups: ['dong'] },
          { id: 'c', name: 'C' },
        ],
      }),
    );
    for (const k of ['lan', 'duty']) expect((await runLoa(fleetFile, ['keys', 'init', k], { LOA_KEY_DIR: keyDir(k) })).code).toBe(0);
    expect((await users(['users', 'add', 'lan', '--role', 'ward', '--groups', 'dong', '--key', 'lan', '--password-stdin'], 'lan', 'mat-khau-cua-lan\n')).code).toBe(0);
    expect((await users(['users', 'add', 'root', '--role', 'admin', '--password-stdin'], undefined, 'mat-khau-quan-tri\n')).code).toBe(0);
    expect((await users(['users', 'add', 'boss', '--role', 'admin', '--password-stdin'], undefined, 'mat-khau-quan-tri-2\n')).code).toBe(0);
    running = await startConsole(loadFleet(fleetFile), { tls: false, host: '127.0.0.1', port: '0' });
    base = running.url.replace(/\/$/, '');
  });

  afterAll(async () => {
    await running?.close();
  });

  const login = async (name: string, password: string) => {
    const res = await fetch(`${base}/api/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name, password }) });
    const body = (await res.json()) as { csrf?: string; error?: string };
    return {
      status: res.status,
      body,
      headers: { cookie: res.headers.get('set-cookie')?.split(';')[0] ?? '', 'x-csrf-token': body.csrf ?? '' },
      setCookie: res.headers.get('set-cookie') ?? '',
    };
  };

  test('loa users refuses what would break the rules: no scope for a ward, a shared key, a short password', async () => {
    const noScope = await users(['users', 'add', 'x', '--role', 'ward', '--password-stdin'], undefined, 'long enough password\n');
    expect(noScope.code).not.toBe(0);
    expect(noScope.stderr).toMatch(/ward user needs --stations or --groups/);
    const shared = await users(['users', 'add', 'lan2', '--role', 'operator', '--key', 'lan', '--password-stdin'], 'lan', 'long enough password\n');
    expect(shared.code).not.toBe(0);
    expect(shared.stderr).toMatch(/already bound to user lan/);
    const short = await users(['users', 'add', 'y', '--role', 'operator', '--password-stdin'], undefined, 'short\n');
    expect(short.stderr).toMatch(/at least 10/);
    const list = await users(['users', 'list', '--json']);
    const rows = JSON.parse(list.stdout) as { name: string; key: string | null }[];
    expect(rows.map((r) => r.name)).toEqual(['boss', 'lan', 'root']);
    expect(list.stdout).not.toMatch(/scrypt|PRIVATE/);
  });

  test('the session cookie is HttpOnly and SameSite=Strict; the page gets security headers', async () => {
    const r = await login('lan', 'mat-khau-cua-lan');
    expect(r.status).toBe(200);
    expect(r.setCookie).toMatch(/HttpOnly/i);
    expect(r.setCookie).toMatch(/SameSite=Strict/i);
    const res = await fetch(`${base}/api/stations`, { headers: r.headers });
    expect(res.headers.get('content-security-policy')).toMatch(/script-src 'self'/);
    expect(res.headers.get('x-frame-options')).toBe('DENY');
  });

  test('five wrong passwords lock the account (429), even with the right one after', async () => {
    for (let i = 0; i < 5; i++) expect((await login('root', `wrong-${i}-password`)).status).toBe(401);
    const locked = await login('root', 'mat-khau-quan-tri');
    expect(locked.status).toBe(429);
    // An unknown name answers exactly like a wrong password.
    expect((await login('nobody', 'whatever-password')).body.error).toBe('wrong name or password');
  });

  test('a role may only do what it is for: an admin announces nothing, a ward drafts no alert', async () => {
    const ward = await login('lan', 'mat-khau-cua-lan');
    const alert = await fetch(`${base}/api/alerts`, { method: 'POST', headers: { ...ward.headers, 'content-type': 'application/json' }, body: '{}' });
    expect(alert.status).toBe(403);
    const approve = await fetch(`${base}/api/alerts/drafts/x/approve`, {
      method: 'POST',
      headers: { ...ward.headers, 'content-type': 'application/json' },
      body: '{"password":"x"}',
    });
    expect(approve.status).toBe(403);
    const audit = (await (await fetch(`${base}/api/audit`, { headers: ward.headers })).json()) as { action: string; outcome: string }[];
    expect(audit.some((a) => a.action === 'alert.draft' && a.outcome === 'refused')).toBe(true);
    const admin = await login('boss', 'mat-khau-quan-tri-2');
    expect(admin.status).toBe(200);
    const announce = await fetch(`${base}/api/announce`, { method: 'POST', headers: { ...admin.headers, 'content-type': 'application/json' }, body: '{}' });
    expect(announce.status).toBe(403);
  });

  test('disabling an account or changing its password ends its sessions at the next request', async () => {
    const a = await login('lan', 'mat-khau-cua-lan');
    expect((await fetch(`${base}/api/stations`, { headers: a.headers })).status).toBe(200);
    expect((await users(['users', 'disable', 'lan'])).code).toBe(0);
    expect((await fetch(`${base}/api/stations`, { headers: a.headers })).status).toBe(401);
    expect((await login('lan', 'mat-khau-cua-lan')).status).toBe(401);
    expect((await users(['users', 'enable', 'lan'])).code).toBe(0);
    const b = await login('lan', 'mat-khau-cua-lan');
    expect(b.status).toBe(200);
    // An administrator's reset cannot open the sealed key: the binding is dropped, and says so.
    const reset = await users(['users', 'passwd', 'lan', '--password-stdin'], undefined, 'mat-khau-moi-cua-lan\n');
    expect(reset.stdout).toMatch(/key binding was dropped/);
    expect((await fetch(`${base}/api/stations`, { headers: b.headers })).status).toBe(401);
    const c = await login('lan', 'mat-khau-moi-cua-lan');
    expect(c.status).toBe(200);
    const s = (await (await fetch(`${base}/api/session`, { headers: c.headers })).json()) as { user: { key: string | null } };
    expect(s.user.key).toBeNull();
    // The key's owner binds it again from their own account.
    expect((await users(['users', 'passwd', 'lan', '--key', 'lan', '--password-stdin'], 'lan', 'mat-khau-cua-lan\n')).code).toBe(0);
  });

  test('no CSRF token, a wrong one, or a foreign Origin: refused before anything happens', async () => {
    const a = await login('lan', 'mat-khau-cua-lan');
    const post = (headers: Record<string, string>) =>
      fetch(`${base}/api/speech`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: '{"text":"x"}' });
    expect((await post({ cookie: a.headers.cookie })).status).toBe(403);
    expect((await post({ cookie: a.headers.cookie, 'x-csrf-token': 'nope' })).status).toBe(403);
    expect((await post({ ...a.headers, origin: 'https://evil.example' })).status).toBe(403);
    expect((await fetch(`${base}/api/nothing-here`, { headers: a.headers })).status).toBe(404);
    expect((await fetch(`${base}/live/not-a-token.wav`)).status).toBe(404);
  });
});
