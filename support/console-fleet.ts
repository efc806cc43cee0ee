// A whole fleet for console tests: `loa broker config` on a private mosquitto, provisioned real
// `loa-station` processes with `file` outputs, and `loa serve --collect` as a real child
// process, with console accounts made by `loa users add`.
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parse, stringify } from 'yaml';
import { LOA_BIN, runLoa } from './cli.js';
import { type MosquittoBroker, startMosquitto } from './mosquitto.js';
import { type StationProcess, startStation } from './station.js';
import { tempDir } from './tmp.js';

export interface ConsoleFleetOptions {
  stations: { id: string; name: string; group?: string; location?: { lat: number; lon: number } }[];
  groups: { id: string; name: string }[];
  /** Signing keys, each made in its own key directory (one per person). */
  keys: { id: string; allow: string[] }[];
  users: { name: string; role: string; password: string; stations?: string[]; groups?: string[]; key?: string }[];
  telemetrySec?: number;
  alertQuorum?: number;
  /** Extra `loa serve` arguments. */
  serveArgs?: string[];
}

export interface ConsoleFleet {
  dir: string;
  fleet: string;
  broker: MosquittoBroker;
  stations: Map<string, StationProcess>;
  stationFiles: Map<string, string>;
  outDir(station: string): string;
  keyDir(key: string): string;
  loa(args: string[], key?: string, stdin?: string): Promise<{ code: number; stdout: string; stderr: string }>;
  console: { url: string; child: ChildProcess; log(): string };
  restartStation(id: string): Promise<void>;
  stop(): Promise<void>;
}

function runLoaStdin(fleet: string, args: string[], env: Record<string, string>, stdin: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [LOA_BIN, '--fleet', fleet, ...args], { env: { ...process.env, LANG: 'C', LC_ALL: '', ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
    child.stdin.end(stdin);
  });
}

/** `loa serve` in the background; resolves with the URL it prints once listening. */
export async function startServe(fleet: string, args: string[], env: Record<string, string> = {}): Promise<{ url: string; child: ChildProcess; log(): string }> {
  const child = spawn(process.execPath, [LOA_BIN, '--fleet', fleet, 'serve', ...args], {
    env: { ...process.env, LANG: 'C', LC_ALL: '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`loa serve did not start:\n${out}`)), 20_000);
    const on = (d: Buffer) => {
      out += d;
      const m = /console at (\S+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    };
    child.stdout!.on('data', on);
    child.stderr!.on('data', on);
    child.once('exit', (code) => reject(new Error(`loa serve exited ${code}:\n${out}`)));
  });
  return { url, child, log: () => out };
}

export async function startConsoleFleet(o: ConsoleFleetOptions): Promise<ConsoleFleet> {
  const dir = tempDir('loa-console-');
  const fleet = path.join(dir, 'fleet.yaml');
  const keyDirs = new Map(o.keys.map((k) => [k.id, path.join(tempDir(`loa-key-${k.id}-`), 'keys')]));
  const env = (key?: string): Record<string, string> => (key ? { LOA_KEY_DIR: keyDirs.get(key)! } : { LOA_KEY_DIR: path.join(dir, 'no-keys') });
  const loa = (args: string[], key?: string, stdin?: string) => (stdin !== undefined ? runLoaStdin(fleet, args, env(key), stdin) : runLoa(fleet, args, env(key)));
  writeFileSync(
    fleet,
    stringify({
      broker: {
        urls: ['mqtt://127.0.0.1:1'],
        stationUrls: ['mqtt://127.0.0.1:1'],
        username: 'loa-central',
        passwordFile: 'secrets/central.password',
        listener: { stationPort: 1884 },
      },
      signers: o.keys.map((k) => ({ key: k.id, allow: k.allow })),
      alertQuorum: o.alertQuorum ?? 2,
      stationDefaults: { dataDir: 'unused', output: { type: 'null' }, defaultVolume: 80, maxVolume: 100 },
      groups: o.groups,
      stations: o.stations.map((s) => ({ id: s.id, name: s.name, groups: s.group ? [s.group] : [], ...(s.location ? { location: s.location } : {}) })),
    }),
  );
  for (const k of o.keys) {
    const r = await loa(['keys', 'init', k.id], k.id);
    if (r.code !== 0) throw new Error(`keys init ${k.id}: ${r.stderr}`);
  }
  const cfg = await loa(['broker', 'config', '--out', path.join(dir, 'broker'), '--no-tls']);
  if (cfg.code !== 0) throw new Error(cfg.stderr);
  const broker = await startMosquitto({ configText: readFileSync(path.join(dir, 'broker', 'mosquitto.conf'), 'utf8') });
  const f = parse(readFileSync(fleet, 'utf8'));
  f.broker.urls = [broker.url];
  f.broker.stationUrls = [broker.stationUrl];
  writeFileSync(fleet, stringify(f));
  const stationFiles = new Map<string, string>();
  for (const s of o.stations) {
    const p = await loa(['provision', s.id, '--out', path.join(dir, 'boxes', s.id)]);
    if (p.code !== 0) throw new Error(p.stderr);
  }
  await broker.restart();
  const outDir = (id: string) => path.join(dir, 'boxes', id, 'out');
  const stations = new Map<string, StationProcess>();
  for (const s of o.stations) {
    const file = path.join(dir, 'boxes', s.id, 'station.yaml');
    const c = parse(readFileSync(file, 'utf8'));
    c.dataDir = path.join(dir, 'boxes', s.id, 'data');
    c.zones = c.zones.map((z: { id: string }) => ({ ...z, output: { type: 'file', dir: outDir(s.id) } }));
    c.telemetrySec = o.telemetrySec ?? 2;
    writeFileSync(file, stringify(c));
    stationFiles.set(s.id, file);
  }
  await Promise.all(
    o.stations.map(async (s) => {
      const st = startStation(stationFiles.get(s.id)!);
      stations.set(s.id, st);
      await st.waitForLog(/"msg":"subscribed"/);
    }),
  );
  for (const u of o.users) {
    const args = ['users', 'add', u.name, '--role', u.role, '--password-stdin'];
    if (u.stations) args.push('--stations', u.stations.join(','));
    if (u.groups) args.push('--groups', u.groups.join(','));
    if (u.key) args.push('--key', u.key);
    // The key's owner binds it, from their own account (their key directory).
    const r = await loa(args, u.key, `${u.password}\n`);
    if (r.code !== 0) throw new Error(`users add ${u.name}: ${r.stderr}`);
  }
  const consoleProc = await startServe(fleet, ['--collect', '--no-tls', '--port', '0', ...(o.serveArgs ?? [])]);
  return {
    dir,
    fleet,
    broker,
    stations,
    stationFiles,
    outDir,
    keyDir: (k) => keyDirs.get(k)!,
    loa,
    console: consoleProc,
    async restartStation(id) {
      const st = startStation(stationFiles.get(id)!);
      stations.set(id, st);
      await st.waitForLog(/"msg":"subscribed"/);
    },
    async stop() {
      const c = consoleProc.child;
      if (c.exitCode === null) {
        c.kill('SIGTERM');
        await new Promise((r) => c.once('exit', r));
      }
      await Promise.all([...stations.values()].map((s) => s.stop()));
      await broker.stop();
    },
  };
}
