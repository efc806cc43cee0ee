// `loa serve`: the console on the central machine. Same fleet file, keys and central database
// as the CLI and `loa collect`; optionally runs the collector in the same process.
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { MqttClient } from 'mqtt';
import { makeBrokerTls } from '../../controller-cli/broker-tls.js';
import { connectCentral, endClient } from '../../controller-cli/central-connection.js';
import { openCentralStore } from '../../controller-cli/central-store.js';
import { Collector } from '../../controller-cli/collector.js';
import { UsageError } from '../../controller-cli/errors.js';
import type { Fleet } from '../../controller-cli/fleet.js';
import { t } from '../../io/i18n.js';
import { accountUnchanged, buildApp, buildLiveApp } from './app.js';
import { SqlConsoleStore } from './console-store.js';
import type { ConsoleContext } from './context.js';
import { LiveHub } from './live.js';
import { LiveSessions } from './live-mic.js';
import { LoginLimiter, Sessions } from './sessions.js';

export interface ServeOptions {
  host?: string;
  port?: string;
  collect?: boolean;
  tlsCert?: string;
  tlsKey?: string;
  /** Plain HTTP: only on a loopback address (behind a local TLS proxy, or for one's own machine). */
  tls?: boolean;
  idleMinutes?: string;
  hostname?: string[];
  /** Base URL stations fetch live microphone streams from (default: this console's URL). */
  liveUrl?: string;
  /** Serve live streams on a separate plain-HTTP port (stations whose ffmpeg does not trust the fleet CA). */
  livePort?: string;
}

export interface RunningConsole {
  url: string;
  ctx: ConsoleContext;
  close(): Promise<void>;
}

const LOOPBACK = /^(127\.\d+\.\d+\.\d+|::1|localhost)$/;
export const webDir = () => join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'web');

export async function startConsole(fleet: Fleet, o: ServeOptions): Promise<RunningConsole> {
  const tls = o.tls !== false;
  const host = o.host ?? (tls ? '0.0.0.0' : '127.0.0.1');
  if (!tls && !LOOPBACK.test(host)) throw new UsageError(t('serve.plainNotLoopback', { host }));
  const port = Number(o.port ?? (tls ? 8443 : 8080));
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UsageError(t('serve.badPort', { port: String(o.port) }));
  const idle = Number(o.idleMinutes ?? 30);
  if (!Number.isFinite(idle) || idle < 1 || idle > 24 * 60) throw new UsageError(t('serve.badIdle', { value: String(o.idleMinutes) }));

  let https: { key: Buffer; cert: Buffer } | undefined;
  if (tls) {
    if ((o.tlsCert === undefined) !== (o.tlsKey === undefined)) throw new UsageError(t('serve.certAndKey'));
    if (o.tlsCert && o.tlsKey) https = { cert: readFileSync(o.tlsCert), key: readFileSync(o.tlsKey) };
    else {
      // A certificate from the fleet's own CA (the one `loa broker config` made): phones that
      // trust it for the office reach the console without warnings.
      const names = [hostname(), ...fleet.broker.listener.hostnames, ...(o.hostname ?? []), ...(LOOPBACK.test(host) || host === '0.0.0.0' ? [] : [host])];
      const made = await makeBrokerTls(fleet.secretsDir, join(fleet.centralDir, 'console'), names);
      if (!made) throw new UsageError(t('serve.noOpenssl'));
      https = { cert: readFileSync(made.serverCert), key: readFileSync(made.serverKey) };
    }
  }

  const db = await openCentralStore(fleet);
  const store = new SqlConsoleStore(db);
  const live = new LiveHub(fleet, db, store);
  await live.load();
  let client: Promise<MqttClient> | undefined;
  const ctx: ConsoleContext = {
    fleet,
    db,
    store,
    live,
    sessions: new Sessions({ idleMs: idle * 60_000, maxMs: 12 * 3600_000 }),
    limiter: new LoginLimiter(),
    mqtt: () => {
      client ??= connectCentral(fleet, { clientId: `loa-console-${randomBytes(4).toString('hex')}` }).catch((e: Error) => {
        client = undefined;
        throw e;
      });
      return client;
    },
    secure: tls,
    liveSessions: new LiveSessions(),
    liveBaseUrl: undefined,
  };
  let collector: Collector | undefined;
  if (o.collect) {
    collector = new Collector(fleet, db, { onCommitted: (batch) => live.committed(batch) });
    await collector.start();
    live.startPolling(1000, { rows: false });
  } else live.startPolling(250, { rows: true });

  const web = webDir();
  const app = await buildApp(ctx, { ...(existsSync(web) ? { webDir: web } : {}), ...(https ? { https } : {}) });
  await app.listen({ host, port });
  const address = app.server.address();
  const bound = typeof address === 'object' && address ? address.port : port;
  const shown = host === '0.0.0.0' || host === '::' ? hostname() : host;
  const url = `${tls ? 'https' : 'http'}://${shown.includes(':') ? `[${shown}]` : shown}:${bound}/`;

  // Live microphone streams: on this server, or on a plain LAN port of their own.
  let liveApp: Awaited<ReturnType<typeof buildLiveApp>> | undefined;
  if (o.livePort !== undefined) {
    const livePort = Number(o.livePort);
    if (!Number.isInteger(livePort) || livePort < 0 || livePort > 65535) throw new UsageError(t('serve.badPort', { port: String(o.livePort) }));
    liveApp = await buildLiveApp(ctx);
    await liveApp.listen({ host, port: livePort });
    const a = liveApp.server.address();
    ctx.liveBaseUrl = o.liveUrl?.replace(/\/$/, '') ?? `http://${shown}:${typeof a === 'object' && a ? a.port : livePort}`;
  } else ctx.liveBaseUrl = (o.liveUrl ?? url).replace(/\/$/, '');

  // Expired sessions, and sessions of accounts changed from the command line, end within 30 s
  // even if their page only listens to the live stream.
  const sweep = setInterval(() => {
    ctx.sessions.sweep();
    for (const s of ctx.sessions.all()) void accountUnchanged(ctx, s).then((same) => same || ctx.sessions.drop(s.id));
  }, 30_000);

  return {
    url,
    ctx,
    close: async () => {
      clearInterval(sweep);
      for (const s of ctx.sessions.all()) ctx.sessions.drop(s.id);
      ctx.liveSessions.stopAll();
      live.close();
      await app.close();
      if (liveApp) await liveApp.close();
      if (collector) await collector.stop();
      if (client) await client.then(endClient, () => undefined);
      await db.close();
    },
  };
}

export async function serve(fleet: Fleet, o: ServeOptions): Promise<number> {
  let stopping: (() => void) | undefined;
  const stopped = new Promise<void>((resolve) => (stopping = resolve));
  process.once('SIGINT', () => stopping!());
  process.once('SIGTERM', () => stopping!());
  const running = await startConsole(fleet, o);
  process.stderr.write(t('serve.listening', { url: running.url, collect: o.collect ? t('serve.withCollector') : t('serve.besideCollector') }) + '\n');
  if (!existsSync(webDir())) process.stderr.write(t('serve.noWeb', { dir: webDir() }) + '\n');
  await stopped;
  await running.close();
  return 0;
}
