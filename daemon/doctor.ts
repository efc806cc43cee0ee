import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, statfsSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type BetterSqlite3 from 'better-sqlite3';
import type { IPublishPacket } from 'mqtt';
import { ffmpegVersion, findFfmpeg, runFfmpeg } from '../io/ffmpeg.js';
import { t } from '../io/i18n.js';
import { connectBroker, waitConnected } from '../io/mqtt.js';
import { CentralState, Topics } from '../protocol/index.js';
import { ConfigError, loadStationConfig, type StationConfig } from './config.js';
import { createOutput } from './outputs/output.js';
import { StationStore } from './store.js';
import { type StationStatus, statusFile } from './telemetry.js';

const Database = createRequire(import.meta.url)('better-sqlite3') as typeof BetterSqlite3;

interface Check {
  name: string;
  ok: boolean;
  detail: string;
}

/** A clock this far from the collector's is a fault: schedules air at the wrong time. */
const MAX_CLOCK_OFFSET_MS = 2000;

/** Returns the exit code: 0 when every check passed. */
export async function runDoctor(configPath: string, opts: { json: boolean; waitSec?: number; clearStoreReset?: boolean }): Promise<number> {
  const checks: Check[] = [];
  let config: StationConfig | undefined;
  try {
    config = loadStationConfig(configPath);
    checks.push({ name: 'config', ok: true, detail: `${config.path}: station ${config.station.id}, ${config.zones.length} zone(s)` });
  } catch (e) {
    checks.push({ name: 'config', ok: false, detail: e instanceof ConfigError ? e.message : (e as Error).message });
  }
  if (config) {
    try {
      const ff = findFfmpeg({ configured: config.ffmpeg });
      const version = await ffmpegVersion(ff.path);
      checks.push({ name: 'ffmpeg', ok: true, detail: `${ff.path} (${ff.source}): ${version}` });
      if (config.zones.some((z) => z.output.type === 'alsa')) {
        const r = await runFfmpeg(['-hide_banner', '-muxers'], { ffmpegPath: ff.path, timeoutMs: 10_000 });
        const alsa = /\balsa\b/.test(r.stdout.toString());
        checks.push({ name: 'ffmpeg alsa', ok: alsa, detail: alsa ? 'ALSA output available' : "this ffmpeg has no ALSA output; install Debian's ffmpeg" });
      }
    } catch (e) {
      checks.push({ name: 'ffmpeg', ok: false, detail: (e as Error).message });
    }
    for (const z of config.zones) {
      const out = createOutput(z.output.type === 'alsa' ? { ...z.output, ffmpegPath: config.ffmpeg } : z.output);
      const r = await out.check();
      checks.push({ name: `zone ${z.id}`, ok: r.ok, detail: `${z.output.type}: ${r.detail}` });
      await out.close();
    }
    checks.push(diskCheck(config));
    if (opts.clearStoreReset) checks.push(clearStoreReset(config));
    const state = daemonState(config);
    const status = state.kind === 'running' ? state.status : undefined;
    checks.push(...storeChecks(config, status));
    checks.push(ntpCheck());
    if (state.kind === 'running') checks.push(...statusChecks(config, state.status));
    else if (state.kind === 'unreadable') {
      checks.push({
        name: 'daemon',
        ok: false,
        detail: `the daemon is running but its status file is not readable by this user: run doctor as the daemon's user (it will not connect as the station beside it)`,
      });
    } else checks.push(...(await brokerChecks(config, opts.waitSec ?? 20)));
  }
  if (opts.json) process.stdout.write(JSON.stringify({ ok: checks.every((c) => c.ok), checks }, null, 2) + '\n');
  else for (const c of checks) process.stdout.write(`${c.ok ? t('doctor.ok') : t('doctor.fail')}  ${c.name.padEnd(14)} ${c.detail}\n`);
  return checks.every((c) => c.ok) ? 0 : 1;
}

function diskCheck(config: StationConfig): Check {
  try {
    // A new box has no data dir yet: measure the filesystem it will be created on.
    let probe = config.dataDir;
    while (!existsSync(probe) && dirname(probe) !== probe) probe = dirname(probe);
    const s = statfsSync(probe);
    const free = Number(s.bavail) * Number(s.bsize);
    const need = config.cache.quotaMB * 1024 * 1024 * 0.2;
    const note = probe === config.dataDir ? '' : ` (${config.dataDir} will be created)`;
    return { name: 'disk', ok: free > need, detail: `${(free / 1e9).toFixed(1)} GB free in ${probe}${note}` };
  } catch (e) {
    return { name: 'disk', ok: false, detail: `${config.dataDir}: ${(e as Error).message}` };
  }
}

type Running = { kind: 'running'; status: StationStatus } | { kind: 'unreadable' } | { kind: 'stopped' };

/**
 * Is the daemon running? Its status file is rewritten every telemetry period. A fresh file we
 * cannot read (doctor run as another user) still means "running": connecting as the station
 * then would take over the daemon's own broker session, so doctor must not.
 */
function daemonState(config: StationConfig): Running {
  const file = statusFile(config.dataDir);
  const freshMs = Math.max(3 * config.telemetrySec * 1000, 10_000);
  let mtime: number;
  try {
    mtime = statSync(file).mtimeMs;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EACCES' ? { kind: 'unreadable' } : { kind: 'stopped' };
  }
  if (Date.now() - mtime > freshMs) return { kind: 'stopped' };
  try {
    const s = JSON.parse(readFileSync(file, 'utf8')) as StationStatus;
    try {
      process.kill(s.pid, 0);
    } catch (e) {
      // EPERM: the process exists but belongs to another user.
      if ((e as NodeJS.ErrnoException).code !== 'EPERM') return { kind: 'stopped' };
    }
    return { kind: 'running', status: s };
  } catch {
    return { kind: 'unreadable' };
  }
}

/** An operator has looked at the unreadable file that was moved aside: stop reporting the reset. */
function clearStoreReset(config: StationConfig): Check {
  const path = join(config.dataDir, 'station.db');
  try {
    const db = new Database(path, { fileMustExist: true });
    try {
      db.pragma('busy_timeout = 5000');
      const n = db.prepare("DELETE FROM meta WHERE key = 'store_reset'").run().changes;
      return { name: 'store reset', ok: true, detail: n ? 'cleared: the reset is no longer reported' : 'nothing to clear' };
    } finally {
      db.close();
    }
  } catch (e) {
    return { name: 'store reset', ok: false, detail: `${path}: ${(e as Error).message}` };
  }
}

function storeChecks(config: StationConfig, status: StationStatus | undefined): Check[] {
  const path = join(config.dataDir, 'station.db');
  if (!existsSync(path)) return [{ name: 'store', ok: true, detail: `${path} will be created on first start` }];
  const out: Check[] = [];
  try {
    const store = new StationStore(path, { readonly: true });
    try {
      const check = store.db.pragma('quick_check', { simple: true });
      const reset = store.storeReset();
      out.push({
        name: 'store',
        ok: check === 'ok',
        detail: check === 'ok' ? `${path}: readable, ${store.outboxDepth()} ack(s) waiting, ${store.heldCount()} command(s) held for the clock` : `${path}: ${String(check)}`,
      });
      if (reset) out.push({ name: 'store reset', ok: false, detail: `the previous database was unreadable (${reset.reason}); it was moved to ${reset.movedTo} at ${reset.at}` });
    } finally {
      store.close();
    }
  } catch (e) {
    out.push({ name: 'store', ok: false, detail: `${path}: ${(e as Error).message} (the daemon moves an unreadable file aside and starts afresh)` });
  }
  if (status?.storeFault)
    out.push({ name: 'store writes', ok: false, detail: `the running daemon cannot write: ${status.storeFault}; commands are not acknowledged until it recovers` });
  return out;
}

/** Is the system clock synchronised (systemd-timesyncd, chrony or ntpd via timedatectl)? */
function ntpCheck(): Check {
  try {
    const out = execFileSync('timedatectl', ['show', '-p', 'NTPSynchronized', '--value'], { encoding: 'utf8', timeout: 5000, stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    return { name: 'ntp', ok: out === 'yes', detail: out === 'yes' ? 'system clock synchronised' : 'system clock NOT synchronised (check systemd-timesyncd or chrony)' };
  } catch {
    if (existsSync('/run/systemd/timesync/synchronized')) return { name: 'ntp', ok: true, detail: 'systemd-timesyncd reports the clock synchronised' };
    return { name: 'ntp', ok: false, detail: 'cannot tell whether the clock is synchronised (no timedatectl); install systemd-timesyncd or chrony' };
  }
}

function offsetCheck(offsetMs: number | undefined, how: string): Check {
  // Unknown is not wrong: without a collector there is nothing to compare with (the collector
  // check says so); a measured offset beyond the limit is the fault.
  if (offsetMs === undefined) return { name: 'clock', ok: true, detail: `station clock ${new Date().toISOString()}; offset to the collector unknown (${how})` };
  const ok = Math.abs(offsetMs) <= MAX_CLOCK_OFFSET_MS;
  return {
    name: 'clock',
    ok,
    detail: `${offsetMs >= 0 ? '+' : ''}${offsetMs} ms against the collector's clock${ok ? '' : ` (more than ${MAX_CLOCK_OFFSET_MS} ms: schedules air at the wrong time)`}`,
  };
}

/** The daemon is running: read what it knows instead of opening a second session as this station. */
function statusChecks(_config: StationConfig, s: StationStatus): Check[] {
  return [
    { name: 'daemon', ok: true, detail: `running (pid ${s.pid}), report at ${s.at}${s.stopped ? '; operator STOP in force' : ''}` },
    { name: 'broker', ok: s.connected, detail: s.connected ? `connected to ${s.brokerUrl ?? 'the broker'} (epoch ${s.epoch})` : 'the daemon is not connected to the broker' },
    { name: 'collector', ok: s.centralOnline, detail: s.centralOnline ? 'central collector online' : 'central collector offline' },
    offsetCheck(s.clockOffsetMs, 'reported by the running daemon'),
  ];
}

/**
 * The daemon is not running: connect as the station to check credentials and ACL. The broker
 * binds the client id to the user name, so this IS the station's session: keep it (clean:
 * false) and never acknowledge a queued command, so the broker delivers them to the daemon.
 */
async function brokerChecks(config: StationConfig, waitSec: number): Promise<Check[]> {
  const topics = new Topics(config.broker.topicRoot);
  const client = connectBroker({
    urls: config.broker.urls,
    clientId: config.station.id,
    clean: false,
    username: config.broker.username,
    password: config.broker.password,
    tls: config.broker.tls,
    reconnectPeriodMs: 0,
    connectTimeoutMs: 5000,
  });
  let central: { at?: string; online: boolean } | undefined;
  let live: number | undefined;
  client.handleMessage = (packet: IPublishPacket, callback: (err?: Error) => void) => {
    if (packet.topic === topics.centralState()) {
      try {
        const c = CentralState.parse(JSON.parse(packet.payload.toString()));
        central = c;
        if (packet.retain !== true && c.at) live = Date.now() - Date.parse(c.at);
      } catch {
        /* not ours to judge */
      }
    }
    // Withhold every PUBACK: a command queued for the station stays queued for the daemon.
    callback(new Error('doctor does not take deliveries'));
  };
  try {
    await waitConnected(client, 6000);
  } catch (e) {
    client.end(true);
    return [{ name: 'broker', ok: false, detail: `${config.broker.urls.join(', ')}: ${(e as Error).message}` }];
  }
  const checks: Check[] = [{ name: 'broker', ok: true, detail: `connected to ${config.broker.urls[0]} (daemon not running)` }];
  await new Promise<void>((resolve) => client.subscribe(topics.centralState(), { qos: 1 }, () => resolve()));
  // The retained central/state arrives at once if there is one; then wait for a live heartbeat.
  const seenBy = Date.now() + 2000;
  const deadline = Date.now() + waitSec * 1000;
  while (live === undefined && Date.now() < deadline && central?.online !== false && (central !== undefined || Date.now() < seenBy)) {
    await new Promise((r) => setTimeout(r, 200));
  }
  checks.push({
    name: 'collector',
    ok: central?.online === true,
    detail: central ? (central.online ? 'central collector online' : 'central collector offline') : 'no central/state seen',
  });
  checks.push(offsetCheck(live, central?.online ? `no live heartbeat within ${waitSec} s` : 'no collector online'));
  await new Promise<void>((r) => client.end(true, {}, () => r()));
  return checks;
}
