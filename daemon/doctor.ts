import { existsSync, statfsSync } from 'node:fs';
import { dirname } from 'node:path';
import { ConfigError, loadStationConfig, type StationConfig } from './config.js';
import { findFfmpeg, ffmpegVersion, runFfmpeg } from '../io/ffmpeg.js';
import { connectBroker, waitConnected } from '../io/mqtt.js';
import { createOutput } from './outputs/output.js';
import { Topics, CentralState } from '../protocol/index.js';
import { t } from '../io/i18n.js';

interface Check { name: string; ok: boolean; detail: string }

/** Returns the exit code: 0 when every check passed. */
export async function runDoctor(configPath: string, opts: { json: boolean }): Promise<number> {
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
        checks.push({ name: 'ffmpeg alsa', ok: alsa, detail: alsa ? 'ALSA output available' : 'this ffmpeg has no ALSA output; install Debian\'s ffmpeg' });
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
    try {
      // A new box has no data dir yet: measure the filesystem it will be created on.
      let probe = config.dataDir;
      while (!existsSync(probe) && dirname(probe) !== probe) probe = dirname(probe);
      const s = statfsSync(probe);
      const free = Number(s.bavail) * Number(s.bsize);
      const need = config.cache.quotaMB * 1024 * 1024 * 0.2;
      const note = probe === config.dataDir ? '' : ` (${config.dataDir} will be created)`;
      checks.push({ name: 'disk', ok: free > need, detail: `${(free / 1e9).toFixed(1)} GB free in ${probe}${note}` });
    } catch (e) {
      checks.push({ name: 'disk', ok: false, detail: `${config.dataDir}: ${(e as Error).message}` });
    }
    checks.push(...(await brokerChecks(config)));
  }
  if (opts.json) process.stdout.write(JSON.stringify({ ok: checks.every((c) => c.ok), checks }, null, 2) + '\n');
  else for (const c of checks) process.stdout.write(`${c.ok ? t('doctor.ok') : t('doctor.fail')}  ${c.name.padEnd(14)} ${c.detail}\n`);
  return checks.every((c) => c.ok) ? 0 : 1;
}

async function brokerChecks(config: StationConfig): Promise<Check[]> {
  const topics = new Topics(config.broker.topicRoot);
  // A distinct client id: the daemon's own persistent session must not be taken over.
  const client = connectBroker({
    urls: config.broker.urls,
    clientId: `${config.station.id}-doctor-${process.pid}`,
    clean: true,
    username: config.broker.username,
    password: config.broker.password,
    tls: config.broker.tls,
    reconnectPeriodMs: 0,
    connectTimeoutMs: 5000,
  });
  try {
    await waitConnected(client, 6000);
  } catch (e) {
    client.end(true);
    return [{ name: 'broker', ok: false, detail: `${config.broker.urls.join(', ')}: ${(e as Error).message}` }];
  }
  const checks: Check[] = [{ name: 'broker', ok: true, detail: `connected to ${config.broker.urls[0]}` }];
  // Clock: compare with the collector's retained central/state timestamp when it has one.
  const central = await new Promise<{ at?: string; online: boolean } | undefined>((resolve) => {
    const timer = setTimeout(() => resolve(undefined), 1500);
    client.on('message', (_t, payload) => {
      try {
        const c = CentralState.parse(JSON.parse(payload.toString()));
        clearTimeout(timer);
        resolve(c);
      } catch { /* ignore */ }
    });
    client.subscribe(topics.centralState(), { qos: 1 });
  });
  checks.push({ name: 'collector', ok: central?.online === true, detail: central ? (central.online ? 'central collector online' : 'central collector offline') : 'no central/state seen' });
  checks.push({ name: 'clock', ok: true, detail: `station clock ${new Date().toISOString()} (${config.timezone})` });
  await new Promise<void>((r) => client.end(false, {}, () => r()));
  return checks;
}
