#!/usr/bin/env node
import { Command, CommanderError, Option } from 'commander';
import { ZodError } from 'zod';
import { type ServeOptions, serve } from '../console/server/serve.js';
import { usersAdd, usersDisable, usersList, usersPasswd } from '../console/server/users-cli.js';
import { t } from '../io/i18n.js';
import { VERSION } from '../io/version.js';
import { alert, approveAlert, cancelAlert } from './alert.js';
import { announce } from './announce.js';
import { bridgeConfigSummary, brokerConfigSummary, writeBridgeConfig, writeBrokerConfig } from './broker-config.js';
import { capImport } from './cap-import.js';
import { capDrafts } from './cap-list.js';
import { capWatch } from './cap-watch.js';
import { runCollector } from './collector.js';
import { control } from './control.js';
import { listBroadcasts, report } from './delivery-report.js';
import { CliError, EXIT, UsageError } from './errors.js';
import { loadFleet } from './fleet.js';
import { importPublicKey, initKey, listKeys } from './keys.js';
import { pruneDb, runMediaGc } from './maintenance.js';
import { intOption } from './options.js';
import { printJson, printTable } from './output.js';
import { provisionStation } from './provision.js';
import { diffSchedules, nextFireTimes, pushSchedules, showSchedules, validateSchedules } from './schedule-commands.js';
import { type StationsOptions, showStations } from './stations-status.js';

// `loa stations --watch | head`: a closed pipe is the reader saying it has seen enough.
process.stdout.on('error', (e: NodeJS.ErrnoException) => {
  if (e.code === 'EPIPE') process.exit(0);
});

type Opts = Record<string, string | boolean | undefined>;

const program = new Command();
program
  .name('loa')
  .description(t('cli.description'))
  .version(VERSION, '-V, --version', t('opt.version'))
  .option('--fleet <file>', t('opt.fleet'))
  .option('--key-dir <dir>', t('opt.keyDir'))
  .enablePositionalOptions()
  .exitOverride()
  .showHelpAfterError(false)
  .configureHelp({ sortSubcommands: false });

const fleet = () => loadFleet(program.opts<{ fleet?: string }>().fleet);
// Private keys are looked up in the signing person's own directory (keys.ts).
program.hook('preAction', () => {
  const dir = program.opts<{ keyDir?: string }>().keyDir;
  if (dir) process.env.LOA_KEY_DIR = dir;
});

/** Every action returns its exit code; errors become one translated line on stderr. */
function run<A extends unknown[]>(fn: (...args: A) => number | Promise<number>) {
  return async (...args: A) => {
    process.exitCode = await fn(...args);
  };
}

// ---- keys --------------------------------------------------------------------------------
const keys = program.command('keys').description(t('cmd.keys'));
keys
  .command('init')
  .description(t('cmd.keys.init'))
  .argument('<name>', t('arg.keyName'))
  .option('--force', t('opt.force'))
  .action(
    run((name: string, o: Opts) => {
      const info = initKey(fleet(), name, o.force === true);
      process.stdout.write(t('keys.created', { id: info.id, file: info.privateKeyFile ?? '', pub: info.publicKey }) + '\n');
      if (info.publicKeyImported === false) process.stdout.write(t('keys.importHint', { id: info.id, pub: info.publicKey }) + '\n');
      return 0;
    }),
  );
keys
  .command('import')
  .description(t('cmd.keys.import'))
  .argument('<name>', t('arg.keyName'))
  .argument('<public-key>', t('arg.publicKey'))
  .option('--force', t('opt.force'))
  .action(
    run((name: string, publicKey: string, o: Opts) => {
      const info = importPublicKey(fleet(), name, publicKey.trim(), o.force === true);
      process.stdout.write(t('keys.imported', { id: info.id, file: info.publicKeyFile }) + '\n');
      return 0;
    }),
  );
keys
  .command('list')
  .description(t('cmd.keys.list'))
  .option('--json', t('opt.json'))
  .action(
    run((o: Opts) => {
      const list = listKeys(fleet());
      if (o.json) printJson(list);
      else
        printTable(
          [t('col.key'), t('col.publicKey'), t('col.allow'), t('col.private')],
          list.map((k) => [k.id, k.publicKey, k.allow.join(',') || '-', k.privateKeyFile ? k.privateMode : '-']),
        );
      return 0;
    }),
  );

// ---- broker ------------------------------------------------------------------------------
const broker = program.command('broker').description(t('cmd.broker'));
broker
  .command('config')
  .description(t('cmd.broker.config'))
  .requiredOption('--out <dir>', t('opt.out'))
  .option('--port <port>', t('opt.port'))
  .option('--bind <address>', t('opt.bind'))
  .option('--tls-port <port>', t('opt.tlsPort'))
  .option('--tls-bind <address>', t('opt.bind'))
  .option('--station-port <port>', t('opt.stationPort'))
  .option('--station-bind <address>', t('opt.bind'))
  .option('--user <user>', t('opt.user'))
  .option('--no-tls', t('opt.noTls'))
  .option('--bridge <id>', t('opt.bridge'))
  .option('--bridge-to <url>', t('opt.bridgeTo'))
  .option('--json', t('opt.json'))
  .action(
    run(async (o: Opts) => {
      if (o.bridge !== undefined) {
        const b = await writeBridgeConfig(fleet(), {
          out: o.out as string,
          bridge: o.bridge as string,
          ...(o.bridgeTo !== undefined ? { to: o.bridgeTo as string } : {}),
          ...(o.tlsPort !== undefined ? { tlsPort: intOption(o.tlsPort as string, '--tls-port', 1, 65535)! } : {}),
          ...(o.tlsBind !== undefined ? { tlsBind: o.tlsBind as string } : {}),
          ...(o.stationPort !== undefined ? { stationPort: intOption(o.stationPort as string, '--station-port', 1, 65535)! } : {}),
          ...(o.stationBind !== undefined ? { stationBind: o.stationBind as string } : {}),
          ...(o.user !== undefined ? { user: o.user as string } : {}),
          tls: o.tls !== false,
        });
        if (o.json) printJson(b);
        else process.stdout.write(bridgeConfigSummary(b) + '\n');
        return 0;
      }
      const r = await writeBrokerConfig(fleet(), {
        out: o.out as string,
        ...(o.port !== undefined ? { port: intOption(o.port as string, '--port', 1, 65535)! } : {}),
        ...(o.bind !== undefined ? { bind: o.bind as string } : {}),
        ...(o.tlsPort !== undefined ? { tlsPort: intOption(o.tlsPort as string, '--tls-port', 1, 65535)! } : {}),
        ...(o.tlsBind !== undefined ? { tlsBind: o.tlsBind as string } : {}),
        ...(o.stationPort !== undefined ? { stationPort: intOption(o.stationPort as string, '--station-port', 1, 65535)! } : {}),
        ...(o.stationBind !== undefined ? { stationBind: o.stationBind as string } : {}),
        ...(o.user !== undefined ? { user: o.user as string } : {}),
        tls: o.tls !== false,
      });
      if (o.json) printJson(r);
      else process.stdout.write(brokerConfigSummary(r) + '\n');
      return 0;
    }),
  );

// ---- provision ---------------------------------------------------------------------------
program
  .command('provision')
  .description(t('cmd.provision'))
  .argument('<station>', t('arg.station'))
  .requiredOption('--out <dir>', t('opt.out'))
  .option('--json', t('opt.json'))
  .action(
    run((station: string, o: Opts) => {
      const r = provisionStation(fleet(), station, o.out as string);
      if (o.json) printJson(r);
      else {
        process.stdout.write(t('provision.wrote', { file: r.configFile, station: r.station }) + '\n');
        process.stdout.write((r.brokerMustReload ? t('provision.reload', { file: r.passwordFile ?? '' }) : t('provision.noBrokerDir')) + '\n');
      }
      return 0;
    }),
  );

// ---- schedule ----------------------------------------------------------------------------
const schedule = program.command('schedule').description(t('cmd.schedule'));
schedule
  .command('validate')
  .description(t('cmd.schedule.validate'))
  .argument('<files...>', t('arg.scheduleFiles'))
  .option('--json', t('opt.json'))
  .action(run((files: string[], o: Opts) => validateSchedules(fleet(), files, o)));
schedule
  .command('push')
  .description(t('cmd.schedule.push'))
  .argument('<files...>', t('arg.scheduleFiles'))
  .option('--station <ids>', t('opt.station'))
  .option('--key <name>', t('opt.key'))
  .option('--json', t('opt.json'))
  .action(run((files: string[], o: Opts) => pushSchedules(fleet(), files, o as { station?: string; key?: string; json?: boolean })));
schedule
  .command('show')
  .description(t('cmd.schedule.show'))
  .argument('<files...>', t('arg.scheduleFiles'))
  .option('--station <ids>', t('opt.station'))
  .option('--json', t('opt.json'))
  .action(run((files: string[], o: Opts) => showSchedules(fleet(), files, o as { station?: string })));
schedule
  .command('next')
  .description(t('cmd.schedule.next'))
  .argument('<files...>', t('arg.scheduleFiles'))
  .option('--from <time>', t('opt.from'))
  .option('--count <n>', t('opt.count'))
  .option('--station <ids>', t('opt.station'))
  .option('--json', t('opt.json'))
  .action(run((files: string[], o: Opts) => nextFireTimes(fleet(), files, o as { from?: string; count?: string; station?: string; json?: boolean })));
schedule
  .command('diff')
  .description(t('cmd.schedule.diff'))
  .argument('<files...>', t('arg.scheduleFiles'))
  .option('--station <ids>', t('opt.station'))
  .option('--json', t('opt.json'))
  .action(run((files: string[], o: Opts) => diffSchedules(fleet(), files, o as { station?: string; json?: boolean })));

// ---- announce / alert --------------------------------------------------------------------
program
  .command('announce')
  .description(t('cmd.announce'))
  .argument('[audio]', t('arg.audio'))
  .option('--text <text>', t('opt.text'))
  .requiredOption('--to <targets>', t('opt.to'))
  .option('--at <time>', t('opt.at'))
  .addOption(new Option('--priority <level>', t('opt.priority')).choices(['normal', 'priority']).default('normal'))
  .option('--zones <ids>', t('opt.zones'))
  .option('--repeat <n>', t('opt.repeat'))
  .option('--volume <0-100>', t('opt.volume'))
  .option('--chime', t('opt.chime'))
  .option('--interrupt', t('opt.interrupt'))
  .option('--title <title>', t('opt.title'))
  .option('--wait <seconds>', t('opt.wait'))
  .option('--key <name>', t('opt.key'))
  .option('--json', t('opt.json'))
  .action(run((audio: string | undefined, o: Opts) => announce(fleet(), audio, o as unknown as Parameters<typeof announce>[2])));

const alertCmd = program
  .command('alert')
  .description(t('cmd.alert'))
  .argument('[audio]', t('arg.audio'))
  .option('--text <text>', t('opt.text'))
  .option('--to <targets>', t('opt.to'))
  .option('--test', t('opt.test'))
  .option('--title <title>', t('opt.title'))
  .option('--zones <ids>', t('opt.zones'))
  .option('--repeat <n>', t('opt.repeat'))
  .option('--wait <seconds>', t('opt.wait'))
  .option('--key <name>', t('opt.key'))
  .option('--json', t('opt.json'))
  .action(
    run((audio: string | undefined, o: Opts) => {
      if (!o.to) throw new UsageError(t('alert.needsTo'));
      return alert(fleet(), audio, o as unknown as Parameters<typeof alert>[2]);
    }),
  );
alertCmd
  .command('approve')
  .description(t('cmd.alert.approve'))
  .argument('<draft>', t('arg.draft'))
  .requiredOption('--key <name>', t('opt.approveKey'))
  .option('--wait <seconds>', t('opt.wait'))
  .option('--json', t('opt.json'))
  .action(run((draft: string, o: Opts) => approveAlert(fleet(), draft, o as { key?: string; wait?: string; json?: boolean })));
alertCmd
  .command('cancel')
  .description(t('cmd.alert.cancel'))
  .argument('<id>', t('arg.broadcastId'))
  .option('--key <name>', t('opt.key'))
  .option('--reason <text>', t('opt.reason'))
  .option('--wait <seconds>', t('opt.wait'))
  .option('--json', t('opt.json'))
  .option('--correction-audio <file>', t('opt.correctionAudio'))
  .action(run((id: string, o: Opts) => cancelAlert(fleet(), id, o as { key?: string; reason?: string; wait?: string; json?: boolean; correctionAudio?: string })));

// ---- CAP in (docs/cap.md) ----------------------------------------------------------------
const capCmd = program.command('cap').description(t('cmd.cap'));
capCmd
  .command('import')
  .description(t('cmd.cap.import'))
  .argument('<inputs...>', t('arg.capInputs'))
  .option('--dry-run', t('opt.dryRun'))
  .option('--now <iso>', t('opt.capNow'))
  .option('--json', t('opt.json'))
  .action(run((inputs: string[], o: Opts) => capImport(fleet(), inputs, o as { dryRun?: boolean; json?: boolean; now?: string })));
capCmd
  .command('watch')
  .description(t('cmd.cap.watch'))
  .argument('[sources...]', t('arg.capSources'))
  .option('--feeds', t('opt.capFeeds'))
  .option('--interval <seconds>', t('opt.capInterval'))
  .option('--once', t('opt.capOnce'))
  .option('--json', t('opt.json'))
  .action(run((sources: string[], o: Opts) => capWatch(fleet(), sources, o as { interval?: string; once?: boolean; json?: boolean; feeds?: boolean })));
capCmd
  .command('drafts')
  .description(t('cmd.cap.drafts'))
  .option('--json', t('opt.json'))
  .action(run((o: Opts) => capDrafts(fleet(), o as { json?: boolean })));

program
  .command('control')
  .description(t('cmd.control'))
  .argument('<action>', t('arg.controlAction'))
  .requiredOption('--to <targets>', t('opt.to'))
  .option('--zone <zone>', t('opt.controlZone'))
  .option('--volume <0-100>', t('opt.volume'))
  .option('--key <name>', t('opt.key'))
  .option('--json', t('opt.json'))
  .action(run((action: string, o: Opts) => control(fleet(), action, o as { to: string; zone?: string; volume?: string; key?: string; json?: boolean })));

// ---- maintenance ---------------------------------------------------------------------------
program
  .command('media')
  .description(t('cmd.media'))
  .command('gc')
  .description(t('cmd.media.gc'))
  .option('--dry-run', t('opt.dryRun'))
  .option('--keep-days <n>', t('opt.keepDays'))
  .option('--json', t('opt.json'))
  .action(
    run((o: Opts) => runMediaGc(fleet(), { dryRun: o.dryRun === true, keepDays: intOption(o.keepDays as string | undefined, '--keep-days', 1, 3650), json: o.json === true })),
  );
program
  .command('db')
  .description(t('cmd.db'))
  .command('prune')
  .description(t('cmd.db.prune'))
  .requiredOption('--older-than <days>', t('opt.olderThan'))
  .option('--json', t('opt.json'))
  .action(run((o: Opts) => pruneDb(fleet(), o.olderThan as string, o.json === true)));

// ---- collector and read commands ---------------------------------------------------------
program
  .command('collect')
  .description(t('cmd.collect'))
  .option('--client-id <id>', t('opt.clientId'))
  .option('--shared <group>', t('opt.shared'))
  .option('--verbose', t('opt.verbose'))
  .action(
    run((o: Opts) =>
      runCollector(fleet(), {
        ...(o.clientId ? { clientId: o.clientId as string } : {}),
        ...(o.shared ? { shared: o.shared as string } : {}),
        verbose: o.verbose === true,
      }),
    ),
  );
program
  .command('stations')
  .description(t('cmd.stations'))
  .option('--watch', t('opt.watch'))
  .option('--group <group>', t('opt.stationsGroup'))
  .option('--offline', t('opt.stationsOffline'))
  .option('--limit <n>', t('opt.stationsLimit'))
  .option('--page <n>', t('opt.stationsPage'))
  .option('--json', t('opt.json'))
  .action(run((o: Opts) => showStations(fleet(), o as StationsOptions)));
program
  .command('broadcasts')
  .description(t('cmd.broadcasts'))
  .option('--limit <n>', t('opt.limit'))
  .option('--json', t('opt.json'))
  .action(run((o: Opts) => listBroadcasts(fleet(), o as { json?: boolean; limit?: string })));
program
  .command('report')
  .description(t('cmd.report'))
  .requiredOption('--from <date>', t('opt.from'))
  .requiredOption('--to <date>', t('opt.toDate'))
  .option('--grace <seconds>', t('opt.grace'))
  .option('--csv', t('opt.csv'))
  .option('--json', t('opt.json'))
  .action(run((o: Opts) => report(fleet(), o as { from: string; to: string; csv?: boolean; json?: boolean; grace?: string })));

// ---- console ------------------------------------------------------------------------------
const collectList = (v: string, prev: string[] = []) => [...prev, v];
program
  .command('serve')
  .description(t('cmd.serve'))
  .option('--collect', t('opt.collect'))
  .option('--host <address>', t('opt.serveHost'))
  .option('--port <n>', t('opt.servePort'))
  .option('--tls-cert <file>', t('opt.tlsCert'))
  .option('--tls-key <file>', t('opt.tlsKey'))
  .option('--no-tls', t('opt.serveNoTls'))
  .option('--hostname <name>', t('opt.serveHostname'), collectList)
  .option('--idle-minutes <n>', t('opt.idleMinutes'))
  .option('--live-url <url>', t('opt.liveUrl'))
  .option('--live-port <n>', t('opt.livePort'))
  .action(run((o: Opts) => serve(fleet(), o as ServeOptions)));
const users = program.command('users').description(t('cmd.users'));
users
  .command('add')
  .description(t('cmd.users.add'))
  .argument('<name>')
  .requiredOption('--role <role>', t('opt.role'))
  .option('--stations <ids>', t('opt.userStations'))
  .option('--groups <ids>', t('opt.userGroups'))
  .option('--key <id>', t('opt.userKey'))
  .option('--password-stdin', t('opt.passwordStdin'))
  .option('--json', t('opt.json'))
  .action(run((name: string, o: Opts) => usersAdd(fleet(), name, o)));
users
  .command('list')
  .description(t('cmd.users.list'))
  .option('--json', t('opt.json'))
  .action(run((o: Opts) => usersList(fleet(), o)));
users
  .command('passwd')
  .description(t('cmd.users.passwd'))
  .argument('<name>')
  .option('--key <id>', t('opt.userKey'))
  .option('--password-stdin', t('opt.passwordStdin'))
  .action(run((name: string, o: Opts) => usersPasswd(fleet(), name, o)));
users
  .command('disable')
  .description(t('cmd.users.disable'))
  .argument('<name>')
  .action(run((name: string) => usersDisable(fleet(), name, true)));
users
  .command('enable')
  .description(t('cmd.users.enable'))
  .argument('<name>')
  .action(run((name: string) => usersDisable(fleet(), name, false)));

// Commander settings are copied to subcommands when they are created, so apply them everywhere.
function configure(cmd: Command): void {
  cmd.exitOverride();
  cmd.helpOption('-h, --help', t('opt.help'));
  if (cmd.commands.length > 0) cmd.helpCommand('help [command]', t('opt.help'));
  cmd.configureOutput({ outputError: (str, write) => write(str) });
  for (const sub of cmd.commands) configure(sub);
}
configure(program);

async function main(): Promise<void> {
  try {
    await program.parseAsync(process.argv);
  } catch (e) {
    if (e instanceof CommanderError) {
      // Help and version are not errors; everything else commander reports is a usage error.
      process.exitCode = e.code === 'commander.helpDisplayed' || e.code === 'commander.version' || (e.code === 'commander.help' && e.exitCode === 0) ? EXIT.ok : EXIT.usage;
      return;
    }
    if (e instanceof CliError) {
      process.stderr.write(`loa: ${e.message}\n`);
      process.exitCode = e.exitCode;
      return;
    }
    if (e instanceof ZodError) {
      const issue = e.issues[0];
      process.stderr.write(`loa: ${t('error.invalid', { path: issue?.path.join('.') || '(root)', reason: issue?.message ?? '' })}\n`);
      process.exitCode = EXIT.error;
      return;
    }
    process.stderr.write(`loa: ${(e as Error).stack ?? String(e)}\n`);
    process.exitCode = EXIT.error;
  }
}

await main();
// A finished command exits even if an MQTT socket or timer lingers, but only once its
// output is flushed (process.exit would truncate a large --json to a pipe).
const drained = (s: NodeJS.WriteStream) => new Promise<void>((r) => s.write('', () => r()));
await Promise.all([drained(process.stdout), drained(process.stderr)]);
setTimeout(() => process.exit(), 50).unref();
