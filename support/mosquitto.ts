// Private Mosquitto brokers for integration tests: one per test (or suite), on a free
// 127.0.0.1 port, never the system broker on 1883.
//
// Two ways to configure:
//  1. Options (`persistence`, `passwordFile`, `aclFile`, `tls`, `allowAnonymous`,
//     `extraConfig`): the harness writes mosquitto.conf itself.
//  2. `configText` (or `confFile`, a path to read it from): a complete mosquitto.conf, e.g.
//     the one `loa broker config` writes next to its passwd and acl files.
//     Placeholders are substituted before use:
//        {{PORT}}      the free plain-MQTT port picked by the harness
//        {{TLS_PORT}}  a second free port (reported as tlsPort)
//        {{DIR}}       the broker's temp dir (logs, scratch)
//        {{DATA_DIR}}  the persistence dir (opts.dataDir, default {{DIR}}/data)
//     Without {{PORT}}, the text is adapted instead: every `listener` line gets its own free
//     port on 127.0.0.1 (a `# loa-listener: ROLE` comment above it names its role, as
//     `loa broker config` writes: central, stations, stations-tls), and
//     persistence_location / log_dest file / pid_file are redirected into the temp dir and
//     `user` lines are dropped, so a production config can be started unchanged by a test.
//     Other paths in it (password_file, acl_file, certificates) are used as they are.
import { type ChildProcess, spawn } from 'node:child_process';
import { accessSync, constants as fsConstants, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

export interface MosquittoOptions {
  persistence?: boolean;
  passwordFile?: string;
  aclFile?: string;
  tls?: { caFile: string; certFile: string; keyFile: string; requireCertificate?: boolean };
  /** Default: true unless a passwordFile is given. */
  allowAnonymous?: boolean;
  /** Appended verbatim to the generated config. */
  extraConfig?: string;
  /** Persistence dir to use (kept on stop); default: inside the temp dir. */
  dataDir?: string;
  /** Whole config to use instead of generating one (see file comment for placeholders). */
  configText?: string;
  /** Like configText, read from this file (e.g. the mosquitto.conf written by `loa broker config`). */
  confFile?: string;
  /**
   * When mosquitto writes its persistence DB. Default { onChanges: true, interval: 1 }: after
   * every change (retained message, subscription, queued message), so a kill9 loses nothing
   * that had reached the broker's main loop. { onChanges: false, interval: N } saves every
   * ~N seconds, like a default production broker, so kill9 loses recent changes.
   */
  autosave?: { onChanges: boolean; interval: number };
}

export interface MosquittoListener {
  /** From the `# loa-listener:` comment; 'listener-N' when there is none. */
  role: string;
  port: number;
  tls: boolean;
  url: string;
}

export interface MosquittoBroker {
  port: number;
  tlsPort?: number;
  /** mqtt://127.0.0.1:<port>: the first listener (the central one in a generated config). */
  url: string;
  /** mqtts://127.0.0.1:<tlsPort> when TLS is on. */
  tlsUrl?: string;
  /** The plain station listener of a generated config (client id = user name), if it has one. */
  stationUrl?: string;
  listeners: MosquittoListener[];
  dir: string;
  /** Where mosquitto.db lives when persistence is on. */
  dataDir: string;
  confPath: string;
  pid(): number | undefined;
  /** Graceful stop (SIGTERM, persistence saved) and removal of the temp dir. Final. */
  stop(): Promise<void>;
  /** Simulated crash: SIGKILL, no persistence save. The broker can be restarted. */
  kill9(): Promise<void>;
  /** Starts again on the same port and persistence dir (graceful stop first if running). */
  restart(): Promise<void>;
  /** Everything mosquitto printed (all runs). */
  logs(): string;
}

/** Path of the mosquitto binary: LOA_MOSQUITTO, PATH, then the Debian location. */
export function findMosquitto(): string {
  const hint = 'install it (apt-get install -y mosquitto) or set LOA_MOSQUITTO';
  const explicit = process.env.LOA_MOSQUITTO;
  if (explicit) {
    try {
      accessSync(explicit, fsConstants.X_OK);
      return explicit;
    } catch {
      throw new Error(`LOA_MOSQUITTO=${explicit} is not executable: ${hint}`);
    }
  }
  const candidates = [
    ...(process.env.PATH ?? '')
      .split(path.delimiter)
      .filter(Boolean)
      .map((d) => path.join(d, 'mosquitto')),
    '/usr/sbin/mosquitto',
    '/usr/local/sbin/mosquitto',
  ].filter((p): p is string => !!p);
  for (const c of candidates) {
    try {
      accessSync(c, fsConstants.X_OK);
      return c;
    } catch {
      // next
    }
  }
  throw new Error(`mosquitto binary not found: ${hint}`);
}

/** A port the OS just handed out on 127.0.0.1 (closed again, so there is a small race). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ port, host: '127.0.0.1' });
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

/** The listeners of a config, in order: role from a preceding `# loa-listener: ROLE` comment, TLS if the block has a certfile. */
function listenersOf(text: string): { role: string; tls: boolean }[] {
  const out: { role: string; tls: boolean }[] = [];
  let role: string | undefined;
  for (const raw of text.split('\n')) {
    const t = raw.trim();
    const m = /^#\s*loa-listener:\s*([a-z-]+)/.exec(t);
    if (m) role = m[1];
    else if (/^listener\s+\d+/.test(t)) {
      out.push({ role: role ?? `listener-${out.length + 1}`, tls: false });
      role = undefined;
    } else if (/^certfile\s/.test(t) && out.length > 0) out[out.length - 1]!.tls = true;
  }
  return out;
}

function adaptConfig(text: string, vars: { port: number; tlsPort: number; ports: number[]; dir: string; dataDir: string }): string {
  const subst = (t: string) =>
    t.replaceAll('{{PORT}}', String(vars.port)).replaceAll('{{TLS_PORT}}', String(vars.tlsPort)).replaceAll('{{DATA_DIR}}', vars.dataDir).replaceAll('{{DIR}}', vars.dir);
  if (text.includes('{{PORT}}')) return subst(text);
  let listeners = 0;
  return subst(text)
    .split('\n')
    .map((line) => {
      const t = line.trim();
      if (/^listener\s+\d+/.test(t)) {
        return `listener ${vars.ports[listeners++]} 127.0.0.1`;
      }
      if (/^persistence_location\s/.test(t)) return `persistence_location ${vars.dataDir}/`;
      if (/^log_dest\s+file\s/.test(t)) return `log_dest file ${vars.dir}/mosquitto.log`;
      if (/^pid_file\s/.test(t)) return `pid_file ${vars.dir}/mosquitto.pid`;
      // Dropping to another user would lose access to the harness's root-owned temp dir.
      if (/^user\s/.test(t)) return `# ${line} (removed by test harness)`;
      return line;
    })
    .join('\n');
}

// Brokers still running when the test process exits (a test forgot stop(), or crashed):
// killed then, so no mosquitto outlives its test worker.
const running = new Set<ChildProcess>();
process.once('exit', () => {
  for (const c of running) c.kill('SIGKILL');
});

export async function startMosquitto(opts: MosquittoOptions = {}): Promise<MosquittoBroker> {
  const bin = findMosquitto();
  if (opts.confFile !== undefined) {
    if (opts.configText !== undefined) throw new Error('startMosquitto: give configText or confFile, not both');
    opts = { ...opts, configText: readFileSync(opts.confFile, 'utf8') };
  }
  const dir = mkdtempSync(path.join(os.tmpdir(), 'loa-mosquitto-'));
  const dataDir = opts.dataDir ?? path.join(dir, 'data');
  mkdirSync(dataDir, { recursive: true });
  const adapted = opts.configText !== undefined && !opts.configText.includes('{{PORT}}') ? listenersOf(opts.configText) : undefined;
  const ports: number[] = [];
  for (let i = 0; i < Math.max(1, adapted?.length ?? 1); i++) {
    let p = await freePort();
    while (ports.includes(p)) p = await freePort();
    ports.push(p);
  }
  const port = ports[0]!;
  const tlsIndex = adapted?.findIndex((l) => l.tls) ?? -1;
  const wantsTls = !!opts.tls || (opts.configText?.includes('{{TLS_PORT}}') ?? false) || tlsIndex >= 0;
  const tlsPort = tlsIndex >= 0 ? ports[tlsIndex] : wantsTls ? await freePort() : undefined;
  const listeners: MosquittoListener[] = adapted
    ? adapted.map((l, i) => ({ role: l.role, port: ports[i]!, tls: l.tls, url: `${l.tls ? 'mqtts' : 'mqtt'}://127.0.0.1:${ports[i]}` }))
    : [
        { role: 'listener-1', port, tls: false, url: `mqtt://127.0.0.1:${port}` },
        ...(tlsPort ? [{ role: 'listener-2', port: tlsPort, tls: true, url: `mqtts://127.0.0.1:${tlsPort}` }] : []),
      ];

  let conf: string;
  if (opts.configText !== undefined) {
    conf = adaptConfig(opts.configText, { port, tlsPort: tlsPort ?? 0, ports, dir, dataDir });
  } else {
    const lines = [
      '# generated by support/mosquitto.ts',
      // per_listener_settings false: auth/ACL below apply to every listener.
      `listener ${port} 127.0.0.1`,
      `allow_anonymous ${opts.allowAnonymous ?? !opts.passwordFile}`,
    ];
    if (opts.passwordFile) lines.push(`password_file ${opts.passwordFile}`);
    if (opts.aclFile) lines.push(`acl_file ${opts.aclFile}`);
    if (opts.tls && tlsPort) {
      lines.push(`listener ${tlsPort} 127.0.0.1`, `cafile ${opts.tls.caFile}`, `certfile ${opts.tls.certFile}`, `keyfile ${opts.tls.keyFile}`);
      if (opts.tls.requireCertificate) lines.push('require_certificate true');
    }
    if (opts.persistence) {
      lines.push(
        'persistence true',
        `persistence_location ${dataDir}/`,
        // Mosquitto only writes its DB on autosave: a kill -9 loses what came after the last save.
        `autosave_interval ${opts.autosave?.interval ?? 1}`,
        `autosave_on_changes ${opts.autosave?.onChanges ?? true}`,
      );
    }
    if (opts.extraConfig) lines.push(opts.extraConfig);
    conf = lines.join('\n');
  }
  // Logs to stderr for logs(); running as root, mosquitto would otherwise drop to the
  // "mosquitto" user and lose access to this root-owned temp dir.
  conf += '\nlog_dest stderr\nlog_type error\nlog_type warning\nlog_type notice\nlog_type information\nconnection_messages true\n';
  if (process.getuid?.() === 0 && !/^\s*user\s/m.test(conf)) conf += 'user root\n';
  const confPath = path.join(dir, 'mosquitto.conf');
  writeFileSync(confPath, conf);

  let log = '';
  let child: ChildProcess | undefined;
  let exited: Promise<void> = Promise.resolve();
  let stopped = false;

  const launch = async () => {
    const c = spawn(bin, ['-c', confPath], { stdio: ['ignore', 'pipe', 'pipe'] });
    child = c;
    running.add(c);
    c.once('exit', () => running.delete(c));
    let exitInfo: string | undefined;
    exited = new Promise<void>((resolve) => {
      c.on('exit', (code, sig) => {
        exitInfo = `exit code ${code}, signal ${sig}`;
        resolve();
      });
      c.on('error', (e) => {
        exitInfo = `spawn error ${e.message}`;
        resolve();
      });
    });
    c.stdout!.on('data', (b: Buffer) => (log += b.toString()));
    c.stderr!.on('data', (b: Buffer) => (log += b.toString()));
    const deadline = Date.now() + 10_000;
    while (Date.now() < deadline) {
      if (exitInfo) throw new Error(`mosquitto exited during start-up (${exitInfo}). Config ${confPath}. Log:\n${log}`);
      let all = true;
      for (const l of listeners) if (!(await canConnect(l.port))) all = false;
      if (all) return;
      await new Promise((r) => setTimeout(r, 25));
    }
    c.kill('SIGKILL');
    throw new Error(`mosquitto did not accept connections on 127.0.0.1:${port} within 10 s. Log:\n${log}`);
  };

  const terminate = async (sig: NodeJS.Signals) => {
    const c = child;
    if (!c || c.exitCode !== null || c.signalCode !== null) return;
    c.kill(sig);
    const timer = setTimeout(() => c.kill('SIGKILL'), 5_000);
    await exited;
    clearTimeout(timer);
  };

  try {
    await launch();
  } catch (e) {
    rmSync(dir, { recursive: true, force: true });
    throw e;
  }

  return {
    port,
    tlsPort,
    url: `mqtt://127.0.0.1:${port}`,
    tlsUrl: tlsPort ? `mqtts://127.0.0.1:${tlsPort}` : undefined,
    stationUrl: listeners.find((l) => l.role === 'stations')?.url,
    listeners,
    dir,
    dataDir,
    confPath,
    pid: () => child?.pid,
    async stop() {
      if (stopped) return;
      stopped = true;
      await terminate('SIGTERM');
      if (!process.env.LOA_KEEP_TMP) rmSync(dir, { recursive: true, force: true });
    },
    async kill9() {
      await terminate('SIGKILL');
    },
    async restart() {
      if (stopped) throw new Error('mosquitto harness: restart() after stop()');
      await terminate('SIGTERM');
      await launch();
    },
    logs: () => log,
  };
}
