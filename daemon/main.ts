#!/usr/bin/env node
import { createRequire } from 'node:module';
import type * as Commander from 'commander';
import type Pino from 'pino';
import { t } from '../io/i18n.js';
import { SOFTWARE_VERSION } from '../io/version.js';
import { clockFromEnv } from './clock.js';
import { ConfigError, loadStationConfig, stationConfigWarnings } from './config.js';
import { Station } from './station.js';

// CommonJS packages by require (see io/mqtt.ts); `doctor` and `log` are loaded only when run:
// a station that is just running never needs them.
const require = createRequire(import.meta.url);
const { Command, CommanderError } = require('commander') as typeof Commander;
const pino = require('pino') as typeof Pino;

const program = new Command('loa-station').description(t('station.description')).version(SOFTWARE_VERSION).exitOverride();

program
  .command('run', { isDefault: true })
  .description(t('station.run'))
  .requiredOption('-c, --config <file>', t('station.opt.config'), process.env.LOA_STATION_CONFIG)
  .action(async (opts: { config: string }) => {
    const config = loadStationConfig(opts.config);
    const logger = pino({ level: config.log.level, base: { station: config.station.id } });
    const log = (level: 'info' | 'warn' | 'error', msg: string, extra?: object) => logger[level](extra ?? {}, msg);
    // No exception kills the daemon: a ward box must keep its schedule.
    process.on('uncaughtException', (e) => log('error', 'uncaught exception', { err: e.stack }));
    process.on('unhandledRejection', (e) => log('error', 'unhandled rejection', { err: e instanceof Error ? e.stack : String(e) }));
    const clock = clockFromEnv(process.env, (msg) => log('warn', msg));
    const station = new Station(config, clock, log, {
      onFirstFrame: (key, at) => logger.info({ key, at }, 'first frame on air'),
      onLastFrame: (key, zone, at) => logger.info({ key, zone, at }, 'last frame on air'),
      // A database found corrupt while running: restart, and the next start moves it aside.
      onCorruptStore: () => void stop('store corrupt', 75),
    });
    let stopping = false;
    async function stop(signal: string, code = 0): Promise<void> {
      if (stopping) return;
      stopping = true;
      log('info', 'stopping', { signal });
      const force = setTimeout(() => process.exit(1), 10_000);
      try {
        await station.stop();
      } finally {
        clearTimeout(force);
        process.exit(code);
      }
    }
    process.on('SIGTERM', () => void stop('SIGTERM'));
    process.on('SIGINT', () => void stop('SIGINT'));
    for (const w of stationConfigWarnings(config)) log('warn', w);
    await station.start();
    log('info', 'station started', { version: SOFTWARE_VERSION, zones: config.zones.map((z) => z.id) });
  });

program
  .command('log')
  .description(t('station.log'))
  .requiredOption('-c, --config <file>', t('station.opt.config'), process.env.LOA_STATION_CONFIG)
  .option('--from <date>', t('station.opt.from'))
  .option('--to <date>', t('station.opt.to'))
  .option('-n, --limit <n>', t('station.opt.limit'), '50')
  .option('--json', t('opt.json'))
  .action(async (opts: { config: string; from?: string; to?: string; limit: string; json?: boolean }) => {
    const config = loadStationConfig(opts.config);
    const { printAsRun } = await import('./log-command.js');
    printAsRun(config, opts);
  });

program
  .command('doctor')
  .description(t('station.doctor'))
  .requiredOption('-c, --config <file>', t('station.opt.config'), process.env.LOA_STATION_CONFIG)
  .option('--json', t('opt.json'))
  .option('--wait <seconds>', t('station.opt.doctorWait'), '20')
  .option('--clear-store-reset', t('station.opt.clearStoreReset'))
  .action(async (opts: { config: string; json?: boolean; wait: string; clearStoreReset?: boolean }) => {
    const { runDoctor } = await import('./doctor.js');
    process.exitCode = await runDoctor(opts.config, {
      json: opts.json === true,
      waitSec: Math.max(0, Math.min(120, Number(opts.wait) || 0)),
      clearStoreReset: opts.clearStoreReset === true,
    });
  });

try {
  await program.parseAsync(process.argv);
} catch (e) {
  if (e instanceof CommanderError) {
    process.exitCode = e.exitCode === 0 ? 0 : 2;
  } else if (e instanceof ConfigError) {
    process.stderr.write(`${e.message}\n`);
    process.exitCode = 1;
  } else {
    process.stderr.write(`loa-station: ${(e as Error).message}\n`);
    process.exitCode = 1;
  }
}
