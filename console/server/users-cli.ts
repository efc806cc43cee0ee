// `loa users add|list|passwd|disable|enable`: console accounts from the command line.
import { createInterface } from 'node:readline';
import { openCentralStore } from '../../controller-cli/central-store.js';
import { CliError, UsageError } from '../../controller-cli/errors.js';
import type { Fleet } from '../../controller-cli/fleet.js';
import { signingKey } from '../../controller-cli/keys.js';
import { printJson, printTable } from '../../controller-cli/output.js';
import { t } from '../../io/i18n.js';
import { AccountError, addUser, setDisabled, setPassword } from './accounts.js';
import { SqlConsoleStore } from './console-store.js';

const list = (s: string | undefined) =>
  (s ?? '')
    .split(',')
    .map((x) => x.trim())
    .filter(Boolean);

async function readStdinLine(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8').split(/\r?\n/)[0] ?? '';
}

/** Ask on the terminal without echoing what is typed. */
function askHidden(prompt: string): Promise<string> {
  return new Promise((resolve) => {
    const rl = createInterface({ input: process.stdin, output: process.stderr, terminal: true });
    const out = rl as unknown as { _writeToOutput: (s: string) => void; output: NodeJS.WritableStream };
    process.stderr.write(prompt);
    out._writeToOutput = () => undefined;
    rl.question('', (answer) => {
      rl.close();
      process.stderr.write('\n');
      resolve(answer);
    });
  });
}

async function newPassword(name: string, fromStdin: boolean | undefined): Promise<string> {
  if (fromStdin) return readStdinLine();
  if (!process.stdin.isTTY) throw new UsageError(t('users.needStdin'));
  const a = await askHidden(t('users.password', { name }));
  const b = await askHidden(t('users.passwordAgain'));
  if (a !== b) throw new UsageError(t('users.mismatch'));
  return a;
}

/** The user's private key, read from the key directory of whoever runs this (the key's owner). */
function keyFromOwnDir(fleet: Fleet, id: string): { id: string; pem: string } {
  const allow = fleet.signers.find((s) => s.key === id)?.allow[0];
  if (!allow) throw new CliError(t('users.error', { reason: `key ${id} is not in the fleet's signers list` }));
  const k = signingKey(fleet, id, allow);
  return { id: k.id, pem: k.pem };
}

async function withStore<T>(fleet: Fleet, fn: (store: SqlConsoleStore) => Promise<T>): Promise<T> {
  const db = await openCentralStore(fleet);
  try {
    return await fn(new SqlConsoleStore(db));
  } catch (e) {
    if (e instanceof AccountError) throw new CliError(t('users.error', { reason: e.message }));
    throw e;
  } finally {
    await db.close();
  }
}

export async function usersAdd(
  fleet: Fleet,
  name: string,
  o: { role?: string; stations?: string; groups?: string; key?: string; passwordStdin?: boolean; json?: boolean },
): Promise<number> {
  if (!o.role) throw new UsageError(t('users.error', { reason: '--role is required: ward, operator, approver or admin' }));
  const key = o.key ? keyFromOwnDir(fleet, o.key) : undefined;
  const password = await newPassword(name, o.passwordStdin);
  const u = await withStore(fleet, (store) =>
    addUser(fleet, store, { name, role: o.role!, stations: list(o.stations), groups: list(o.groups), password, ...(key ? { key } : {}) }),
  );
  if (o.json) printJson({ name: u.name, role: u.role, stations: u.stations, groups: u.groups, key: u.key });
  else process.stdout.write(t('users.added', { name: u.name, role: u.role, key: u.key ? t('users.keyBound', { key: u.key }) : '' }) + '\n');
  return 0;
}

export async function usersList(fleet: Fleet, o: { json?: boolean }): Promise<number> {
  const users = await withStore(fleet, (store) => store.users());
  const rows = users.map((u) => ({
    name: u.name,
    role: u.role,
    stations: u.stations,
    groups: u.groups,
    key: u.key,
    disabled: u.disabled,
    updatedAt: new Date(u.updatedAt).toISOString(),
  }));
  if (o.json) printJson(rows);
  else
    printTable(
      ['name', 'role', 'stations', 'groups', 'key', 'disabled', 'updated'],
      rows.map((r) => [r.name, r.role, r.stations.join(',') || null, r.groups.join(',') || null, r.key, r.disabled ? 'yes' : 'no', r.updatedAt]),
    );
  return 0;
}

export async function usersPasswd(fleet: Fleet, name: string, o: { key?: string; passwordStdin?: boolean }): Promise<number> {
  const key = o.key ? keyFromOwnDir(fleet, o.key) : undefined;
  const password = await newPassword(name, o.passwordStdin);
  const before = await withStore(fleet, (store) => store.user(name));
  const u = await withStore(fleet, (store) => setPassword(fleet, store, name, { password, ...(key ? { key } : {}) }));
  const note = u.key ? t('users.keyBound', { key: u.key }) : before?.key ? t('users.keyDropped') : '';
  process.stdout.write(t('users.passwdDone', { name, key: note }) + '\n');
  return 0;
}

export async function usersDisable(fleet: Fleet, name: string, disabled: boolean): Promise<number> {
  await withStore(fleet, (store) => setDisabled(store, name, disabled));
  process.stdout.write(t(disabled ? 'users.disabled' : 'users.enabled', { name }) + '\n');
  return 0;
}
