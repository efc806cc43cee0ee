#!/usr/bin/env node
// `npm run demo`: the Hội An fleet on one machine. An in-process broker (Aedes, this run's own
// passwords and ACL), the real central collector (`loa collect`) and one real `loa-station`
// process per ward, then an accelerated broadcast day driven through the real `loa` CLI.
// Exit 0 only if every station's acks for every broadcast reached the collector. With --console,
// the web console (`loa serve`) runs beside the collector with three demo accounts.
import { spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { copyFileSync, createReadStream, existsSync, mkdirSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { loadFleet } from '../controller-cli/fleet.js';
import { provisionStation } from '../controller-cli/provision.js';
import { findFfmpeg } from '../io/ffmpeg.js';
import { spoken } from '../io/i18n.js';
import { AckView } from './acks.js';
import { type DemoBroker, startDemoBroker } from './broker.js';
import { LOA_BIN, LoggedProcess, portOrFree, ROOT, type RunResult, runLoa, STATION_BIN } from './procs.js';
import {
  adaptStationConfig,
  CONSOLE_LOGINS,
  type ConsoleInfo,
  type ConsoleLogin,
  copyAudio,
  isoInZone,
  prepareOutDir,
  writeConsoleLogins,
  writeFleet,
  writeSchedule,
} from './setup.js';

const TZ = 'Asia/Ho_Chi_Minh';
const USAGE = `usage: npm run demo -- [--stations N] [--keep] [--console] [--out DIR] [--no-relay]

  --stations N   how many stations (default 13, the Hội An fleet; more than 13 adds test stations)
  --keep         keep everything running afterwards, to try \`loa stations --watch\` and other commands
  --console      also start the web console (\`loa serve\`, plain HTTP on 127.0.0.1, port 8080 or a
                 free one) with a ward, an operator and an approver account, print its URL and the
                 logins, and keep everything running until Ctrl+C (as --keep does)
  --out DIR      where everything is written (default ./demo-out; wiped at start)
  --no-relay     leave out the live-relay item (it streams a clip from a local HTTP server)
`;

// ---- options -----------------------------------------------------------------------------
let opts: { stations: number; keep: boolean; console: boolean; out: string; relay: boolean };
try {
  const { values } = parseArgs({
    options: {
      stations: { type: 'string', default: '13' },
      keep: { type: 'boolean', default: false },
      console: { type: 'boolean', default: false },
      out: { type: 'string', default: 'demo-out' },
      'no-relay': { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    process.stdout.write(USAGE);
    process.exit(0);
  }
  const n = Number(values.stations);
  if (!Number.isInteger(n) || n < 2 || n > 100) throw new Error(`--stations expects a whole number from 2 to 100, got "${values.stations}"`);
  opts = { stations: n, keep: values.keep!, console: values.console!, out: path.resolve(values.out!), relay: !values['no-relay'] };
} catch (e) {
  process.stderr.write(`demo: ${(e as Error).message}\n${USAGE}`);
  process.exit(2);
}

// ---- output helpers ----------------------------------------------------------------------
const t0 = Date.now();
const color = process.stdout.isTTY && !process.env.NO_COLOR;
const paint = (code: string, s: string) => (color ? `\x1b[${code}m${s}\x1b[0m` : s);
const bold = (s: string) => paint('1', s);
const dim = (s: string) => paint('2', s);
const green = (s: string) => paint('32', s);
const red = (s: string) => paint('31', s);
const elapsed = () => `+${((Date.now() - t0) / 1000).toFixed(1).padStart(4)}s`;
const say = (s: string) => process.stdout.write(`${dim(elapsed())} ${s}\n`);
const step = (s: string) => process.stdout.write(`\n${dim(elapsed())} ${bold(`== ${s}`)}\n`);
const rel = (p: string) => {
  const r = path.relative(process.cwd(), p);
  return r && !r.startsWith('..') && !path.isAbsolute(r) ? r : p;
};
const indent = (text: string) =>
  text
    .trimEnd()
    .split('\n')
    .map((l) => `      ${l}`)
    .join('\n') + '\n';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const problems: string[] = [];

// ---- state shared with shutdown ----------------------------------------------------------
const out = opts.out;
const fleetFile = path.join(out, 'fleet.yaml');
const env: NodeJS.ProcessEnv = { ...process.env, LOA_FLEET: fleetFile };
let broker: DemoBroker | undefined;
let httpServer: http.Server | undefined;
let collector: LoggedProcess | undefined;
let consoleProc: LoggedProcess | undefined;
const stations = new Map<string, LoggedProcess>();
let acks: AckView | undefined;

/**
 * The two officials keep their keys in their own accounts (here: their own key directories),
 * so neither can make the two signatures of a live alert alone. With --console a third key, the
 * ward office's (announcements and schedules only), is bound to the ward's console account.
 */
const WARD_KEY = 'ubnd-phuong';
const officials = {
  'vp-ubnd-hoi-an': path.join(out, 'officials', 'vp-ubnd-hoi-an', 'keys'),
  'truc-ban-pctt': path.join(out, 'officials', 'truc-ban-pctt', 'keys'),
  [WARD_KEY]: path.join(out, 'officials', WARD_KEY, 'keys'),
};
type Official = keyof typeof officials;

/** Run a `loa` command, echo it like a terminal session, and fail loudly if it fails. */
async function loa(args: string[], o: { show?: boolean; okCodes?: number[]; as?: Official; stdin?: string } = {}): Promise<RunResult> {
  const as = o.as ?? 'vp-ubnd-hoi-an';
  if (o.show !== false) say(`${dim(`[${as}]`)} $ loa ${shownArgs(args)}`);
  const r = await runLoa(args, { ...env, LOA_KEY_DIR: officials[as] }, o.stdin);
  if (o.show !== false) echo(r);
  if (!(o.okCodes ?? [0]).includes(r.code)) throw new Error(`loa ${shownArgs(args)} exited ${r.code}\n${r.stderr}`);
  return r;
}

function shownArgs(args: string[]): string {
  return args.map((a) => (a.startsWith('/') ? rel(a) : /[\s"]/.test(a) ? JSON.stringify(a) : a)).join(' ');
}

function echo(r: RunResult): void {
  if (r.stdout.trim()) process.stdout.write(indent(r.stdout));
  // Per-station progress lines from --wait are noise here; the table at the end says it all.
  const err = r.stderr.split('\n').filter((l) => l.trim() && !/^[a-z0-9-]+ (received|scheduled|applied|started|completed|failed|rejected|missed|preempted|cancelled)\b/.test(l));
  if (err.length) process.stdout.write(indent(err.join('\n')));
}

const idsIn = (text: string, type: string) => [...text.matchAll(new RegExp(`\\b${type}-\\d{14}-[0-9a-f]{8}\\b`, 'g'))].map((m) => m[0]);

/** Poll the collector's database until `done()`; record a problem (not an exception) on timeout. */
async function until(what: string, done: () => boolean, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (!done()) {
    if (Date.now() > deadline) {
      problems.push(`timed out after ${timeoutMs / 1000} s waiting for ${what}`);
      say(red(`timed out waiting for ${what}`));
      return false;
    }
    await sleep(200);
  }
  return true;
}

function startStation(id: string): LoggedProcess {
  const p = new LoggedProcess(id, [STATION_BIN, 'run', '--config', path.join(out, 'stations', id, 'station.yaml')], env, path.join(out, 'logs', `${id}.log`));
  stations.set(id, p);
  return p;
}

async function shutdown(): Promise<void> {
  await consoleProc?.stop('SIGTERM');
  await Promise.all([...stations.values()].map((p) => p.stop('SIGTERM')));
  await collector?.stop('SIGTERM');
  acks?.close();
  await broker?.stop();
  await new Promise<void>((r) => (httpServer ? httpServer.close(() => r()) : r()));
  httpServer?.closeAllConnections();
}

let interrupted = false;
const onSignal = () => {
  if (interrupted) return;
  interrupted = true;
  process.stdout.write('\nstopping the demo fleet…\n');
  void shutdown().finally(() => process.exit(130));
};

// ---- the run ----------------------------------------------------------------------------
async function main(): Promise<number> {
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  for (const bin of [LOA_BIN, STATION_BIN]) {
    if (!existsSync(bin)) throw new Error(`${rel(bin)} is missing: run \`npm run build\` first (\`npm run demo\` does)`);
  }
  const N = opts.stations;
  process.stdout.write(bold(`Loa demo: ${N} ward stations of Hội An, one accelerated broadcast day\n`));
  process.stdout.write(dim(`everything is written to ${rel(out)}/ (wiped first)\n`));

  // ---- 1. the central machine -----------------------------------------------------------
  step('Central machine: keys, broker credentials and ACL, station configs');
  prepareOutDir(out);
  for (const d of ['logs', 'stations', 'recordings']) mkdirSync(path.join(out, d), { recursive: true });
  let ffmpeg: string;
  try {
    const f = findFfmpeg();
    ffmpeg = `${f.path} (${f.source})`;
  } catch (e) {
    throw new Error(`${(e as Error).message}\nThe stations need ffmpeg: \`npm ci\` installs one (@ffmpeg-installer/ffmpeg), or apt-get install ffmpeg.`);
  }
  say(`ffmpeg for the stations: ${ffmpeg}`);
  const audioDir = copyAudio(out);
  broker = await startDemoBroker({ passwd: path.join(out, 'broker', 'passwd'), centralPasswd: path.join(out, 'broker', 'passwd-central'), acl: path.join(out, 'broker', 'acl') });
  say(
    `MQTT broker (Aedes, in this process): central listener ${broker.url}, station listener ${broker.stationUrl} (client id = user name); no anonymous access, users and ACL from \`loa broker config\``,
  );
  const fleet = writeFleet(out, broker, N, opts.console ? [{ key: WARD_KEY, allow: ['announce', 'schedule'] }] : []);
  const ids = fleet.stations.map((s) => s.id);
  say(`fleet file: ${rel(fleet.file)} (${N} stations in ${new Set(fleet.stations.flatMap((s) => s.groups)).size} groups)`);
  say(`every \`loa\` command below runs with LOA_FLEET=${rel(fleet.file)}`);

  await loa(['keys', 'init', 'vp-ubnd-hoi-an']);
  await loa(['keys', 'init', 'truc-ban-pctt'], { as: 'truc-ban-pctt' });
  if (opts.console) await loa(['keys', 'init', WARD_KEY], { as: WARD_KEY });
  // Provision first, then write the broker files: `broker config` puts every station's
  // password (created by provision) into the mosquitto password file in one go. The demo calls
  // the function behind `loa provision` directly: the same code, without N node start-ups.
  say(`$ loa provision <station> --out ${rel(path.join(out, 'stations'))}/<station>   ${dim(`(× ${N}, called in-process)`)}`);
  const fleetConfig = loadFleet(fleet.file);
  for (const id of ids) {
    const dir = path.join(out, 'stations', id);
    provisionStation(fleetConfig, id, dir);
    adaptStationConfig(path.join(dir, 'station.yaml'), out, id);
  }
  await loa(['broker', 'config', '--out', path.join(out, 'broker'), '--no-tls']);
  say(dim(`station configs use file outputs: every airing becomes a WAV under ${rel(path.join(out, 'recordings'))}/<station>/<zone>/`));

  // ---- 2. collector and stations --------------------------------------------------------
  step(`Start the collector and ${N} station daemons`);
  acks = new AckView(path.join(out, 'central', 'central.sqlite'));
  collector = new LoggedProcess('loa collect', [LOA_BIN, 'collect'], env, path.join(out, 'logs', 'collect.log'));
  say(`$ loa collect   ${dim(`(log: ${rel(path.join(out, 'logs', 'collect.log'))})`)}`);
  await collector.waitFor(/collector connected|bộ thu đã kết nối/, 15_000);
  say(`$ loa-station run --config ${rel(path.join(out, 'stations'))}/<station>/station.yaml   ${dim(`(× ${N}; logs: ${rel(path.join(out, 'logs'))}/<station>.log)`)}`);
  for (const id of ids) startStation(id);
  // Each station prepares its three chimes with ffmpeg before it subscribes: on a busy 2-core
  // machine, 13 of them at once take well over 40 s.
  await Promise.all([...stations.values()].map((p) => p.waitFor(/"msg":"subscribed"/, 120_000)));
  await until(`all ${N} stations online at the collector`, () => acks!.onlineStations().size >= N, 20_000);
  say(green(`${N}/${N} stations connected and reported online`));

  let consoleInfo: ConsoleInfo | undefined;
  if (opts.console) {
    step('Web console: three accounts, then `loa serve` beside the collector');
    consoleInfo = await startWebConsole(fleet.stations);
    printConsole(consoleInfo, fleet.stations);
  }

  // A local stand-in for the national radio stream, for the live-relay item.
  let relayUrl: string | undefined;
  if (opts.relay) {
    httpServer = http.createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'audio/mpeg' });
      createReadStream(path.join(audioDir, 'music-10s.mp3')).pipe(res);
    });
    await new Promise<void>((r) => httpServer!.listen(0, '127.0.0.1', () => r()));
    relayUrl = `http://127.0.0.1:${(httpServer.address() as AddressInfo).port}/vov1.mp3`;
  }

  // ---- 3. the morning schedule ----------------------------------------------------------
  step("Ward staff push the day's schedule (live relay + morning news)");
  const plan = (base: number) => ({ relayAt: base, relaySec: 3, newsAt: opts.relay ? base + 3500 : base, eveningAt: base + 3 * 3600_000 });
  // The first item a few seconds from now: time to validate, push, apply and fetch the clips.
  const scheduleFile = writeSchedule(out, relayUrl, plan(Date.now() + 4000), TZ);
  if (relayUrl) say(dim(`the "VOV1" relay streams ${rel(path.join(audioDir, 'music-10s.mp3'))} from ${relayUrl}`));
  else say(dim('--no-relay: the schedule has no live-relay item'));
  await loa(['schedule', 'validate', scheduleFile]);
  await loa(['schedule', 'push', scheduleFile]);
  await until(
    'schedule applied everywhere',
    () => [...ids].every((id) => acks!.all().some((a) => a.station === id && a.command_type === 'schedule' && a.state === 'applied')),
    20_000,
  );
  await loa(['schedule', 'diff', scheduleFile]);
  const items = [...(relayUrl ? ['tiep-song-vov1'] : []), 'ban-tin-sang'];
  for (const item of items) {
    await until(`"${item}" to start on every station`, () => acks!.itemStations(item, ['started', 'completed']).size >= N, 30_000);
    say(`${item}: on air at ${acks.itemStations(item, ['started', 'completed']).size}/${N} stations`);
  }
  await until('the morning news to complete everywhere', () => acks!.itemStations('ban-tin-sang', ['completed']).size >= N, 30_000);
  say(green(`morning schedule completed at ${N}/${N} stations`));

  // ---- 4. a station goes offline; a normal announcement -----------------------------------
  const lost = ids[ids.length - 1]!;
  const lostName = fleet.stations.find((s) => s.id === lost)!.name;
  step(`Power cut at ${lost} (${lostName}); the office sends a normal announcement`);
  await stations.get(lost)!.stop('SIGKILL');
  say(`kill -9 ${lost}   ${dim('(the broker publishes its will: offline)')}`);
  const annRun = await loa(['announce', path.join(audioDir, 'speech-vi.wav'), '--to', 'all', '--chime', '--title', '07:00 Thông báo lịch tiêm chủng']);
  const announcement = idsIn(annRun.stdout, 'announce')[0]!;
  const others = ids.filter((id) => id !== lost);
  await until('the announcement to complete at the online stations', () => others.every((id) => acks!.stations(announcement, ['completed']).has(id)), 30_000);
  const othersDoneAt = Date.now();
  say(`${acks.stations(announcement, ['completed']).size}/${N} completed; ${lost} is still dark — the broker holds its copy (persistent session, QoS 1)`);

  // ---- 5. the station comes back; a priority bulletin -------------------------------------
  step(`Power is back at ${lost}; a priority bulletin goes to everyone`);
  startStation(lost);
  say(`$ loa-station run --config ${rel(path.join(out, 'stations', lost, 'station.yaml'))}   ${dim('(restarted)')}`);
  const bulletinRun = await loa(
    ['announce', path.join(audioDir, 'speech-vi.wav'), '--to', 'all', '--priority', 'priority', '--chime', '--title', '07:30 Bản tin ưu tiên: lịch cắt điện', '--wait', '40'],
    { okCodes: [0, 3] },
  );
  if (bulletinRun.code === 3) problems.push('the priority bulletin did not start everywhere within --wait 40');
  const bulletin = idsIn(bulletinRun.stdout + bulletinRun.stderr, 'announce')[0]!;
  await until(`${lost} to play the announcement it missed`, () => acks!.stations(announcement, ['completed']).has(lost), 40_000);
  const lateAt = acks.receivedAt(announcement, lost, ['completed']);
  say(
    green(
      `${lost} played the 07:00 announcement after its restart; its acks reached the collector ${lateAt ? ((lateAt - othersDoneAt) / 1000).toFixed(1) : '?'} s after the others: ${N}/${N}`,
    ),
  );

  // ---- 6. emergency: draft + approve, preempting a programme ------------------------------
  step('A music programme is on air when a storm warning is issued (two-person rule)');
  const musicRun = await loa(['announce', path.join(audioDir, 'music-10s.mp3'), '--to', 'all', '--title', '09:00 Chương trình ca nhạc']);
  const music = idsIn(musicRun.stdout, 'announce')[0]!;
  await until('the music programme to be on air everywhere', () => acks!.stations(music, ['started']).size >= N, 40_000);
  say(`music on air at ${N}/${N} stations`);
  const draftRun = await loa(['alert', path.join(audioDir, 'speech-vi.wav'), '--to', 'all', '--title', 'KHẨN CẤP: bão số 9 — sơ tán khỏi bãi biển', '--repeat', '3', '--json']);
  const draft = JSON.parse(draftRun.stdout) as { id: string; draft: string };
  say(`drafted and signed by vp-ubnd-hoi-an; stations would reject it with one signature (alertQuorum 2)`);
  const approveRun = await loa(['alert', 'approve', draft.draft, '--key', 'truc-ban-pctt', '--wait', '30'], { okCodes: [0, 3], as: 'truc-ban-pctt' });
  if (approveRun.code === 3) problems.push('the emergency alert did not start everywhere within --wait 30');
  const alert = draft.id;
  await until('the music programme to be preempted everywhere', () => acks!.stations(music, ['preempted']).size >= N, 20_000);
  say(green(`the alert cut the music at ${acks.stations(music, ['preempted']).size}/${N} stations (acked "preempted")`));

  // ---- 7. cancel ------------------------------------------------------------------------
  step('The alert was sent in error: cancel it and air the correction');
  if (!hasEspeak()) {
    // `loa alert cancel` speaks the scripted correction with espeak-ng. Without it, seed the
    // CLI's speech cache with a recorded clip so the demo needs nothing beyond `npm ci`.
    const text = spoken('correction');
    const key = createHash('sha256').update('vi').update('\0').update(text).digest('hex');
    const cache = path.join(out, 'central', 'speech');
    mkdirSync(cache, { recursive: true });
    copyFileSync(path.join(audioDir, 'speech-vi.wav'), path.join(cache, `${key}.wav`));
    say(dim('espeak-ng is not installed: the spoken correction uses a recorded clip instead'));
  }
  // Stopping a live alert needs two officials too: one drafts the cancel and its correction…
  const cancelDraft = JSON.parse((await loa(['alert', 'cancel', alert, '--reason', 'Phát nhầm', '--json'])).stdout) as { draft: string };
  // …and the other approves both at once.
  const cancelRun = await loa(['alert', 'approve', cancelDraft.draft, '--key', 'truc-ban-pctt', '--wait', '30'], { okCodes: [0, 3], as: 'truc-ban-pctt' });
  if (cancelRun.code === 3) problems.push('the correction did not start everywhere within --wait 30');
  const correction = idsIn(cancelRun.stdout + cancelRun.stderr, 'alert').find((id) => id !== alert);
  if (!correction) throw new Error(`could not find the correction's id in:\n${cancelRun.stdout}`);
  await until('the alert to be cancelled everywhere', () => acks!.stations(alert, ['cancelled']).size >= N, 20_000);
  await until('the correction to complete everywhere', () => acks!.stations(correction, ['completed']).size >= N, 40_000);
  say(green(`alert stopped at ${N}/${N} ("cancelled"), correction aired at ${N}/${N}`));

  // ---- 8. the reports -------------------------------------------------------------------
  step('Delivery report');
  await sleep(600); // one more collector tick, so the CLI reads what the demo just saw
  const [broadcastsRun, stationsRun] = await Promise.all([loa(['broadcasts'], { show: false }), loa(['stations'], { show: false })]);
  say('$ loa broadcasts');
  echo(broadcastsRun);
  say('$ loa stations');
  echo(stationsRun);
  const from = isoInZone(t0 - 60_000, TZ);
  const to = isoInZone(Date.now() + 60_000, TZ);
  const reportArgs = ['report', '--from', from, '--to', to];
  const [reportJson, reportText, reportCsv] = await Promise.all([
    loa([...reportArgs, '--json'], { show: false }),
    loa(reportArgs, { show: false }),
    loa([...reportArgs, '--csv'], { show: false }),
  ]);
  writeFileSync(path.join(out, 'report.txt'), reportText.stdout);
  writeFileSync(path.join(out, 'report.csv'), reportCsv.stdout);
  say(`$ loa report --from "${from}" --to "${to}"   ${dim(`(full table: ${rel(path.join(out, 'report.txt'))}, CSV: ${rel(path.join(out, 'report.csv'))})`)}`);

  type Row = { broadcastId: string; kind: string; title: string; station: string; status: string; reason: string | null };
  const rows = JSON.parse(reportJson.stdout) as Row[];
  const expected: { label: string; match: (r: Row) => boolean; ok: (r: Row) => boolean; want: string }[] = [
    ...(relayUrl ? [{ label: 'schedule: live relay', match: (r: Row) => r.kind === 'schedule' && r.title.includes('VOV1'), ok: isConfirmed, want: 'confirmed' }] : []),
    { label: 'schedule: morning news', match: (r) => r.kind === 'schedule' && r.title.includes('Bản tin sáng'), ok: isConfirmed, want: 'confirmed' },
    { label: `announcement (${lost} late)`, match: (r) => r.broadcastId === announcement, ok: isConfirmed, want: 'confirmed' },
    { label: 'priority bulletin', match: (r) => r.broadcastId === bulletin, ok: isConfirmed, want: 'confirmed' },
    { label: 'music programme', match: (r) => r.broadcastId === music, ok: (r) => r.status === 'preempted' && /preempt/.test(r.reason ?? ''), want: 'preempted by the alert' },
    { label: 'emergency alert', match: (r) => r.broadcastId === alert, ok: (r) => r.status === 'cancelled', want: 'cancelled' },
    { label: 'correction', match: (r) => r.broadcastId === correction, ok: isConfirmed, want: 'confirmed' },
  ];
  process.stdout.write('\n');
  for (const e of expected) {
    const mine = rows.filter(e.match);
    const good = new Set(mine.filter(e.ok).map((r) => r.station));
    const all = good.size === N && mine.length === N;
    if (!all) {
      const bad = ids.filter((id) => !good.has(id)).map((id) => `${id}: ${mine.find((r) => r.station === id)?.status ?? 'no row'}`);
      problems.push(`${e.label}: ${good.size}/${N} ${e.want}; ${bad.join(', ')}`);
    }
    const mark = all ? green('ok ') : red('BAD');
    process.stdout.write(`  ${mark} ${String(good.size).padStart(3)}/${N}  ${e.label.padEnd(34)} ${dim(e.want)}\n`);
  }

  // ---- 9. where to listen ----------------------------------------------------------------
  step('Listen');
  const recDir = path.join(out, 'recordings');
  const wavs = listWavs(recDir);
  const first = ids[0]!;
  say(`${wavs.length} WAV files (48 kHz mono, what each speaker zone played) under ${rel(recDir)}/:`);
  for (const z of existsSync(path.join(recDir, first)) ? readdirSync(path.join(recDir, first)) : [])
    say(`  ${rel(path.join(recDir, first, z))}/  ${dim(`(${listWavs(path.join(recDir, first, z)).length} files)`)}`);
  say(dim(`e.g. aplay ${rel(wavs.find((w) => w.includes(`${path.sep}${first}${path.sep}`) && /alert/.test(w)) ?? wavs[0] ?? recDir)}  (or any audio player)`));
  say(dim(`station as-run log: node ${rel(STATION_BIN)} log --config ${rel(path.join(out, 'stations', first, 'station.yaml'))}`));
  if (broker.stats.refusedLogins + broker.stats.deniedPublishes + broker.stats.deniedSubscriptions > 0) {
    say(dim(`broker: ${broker.stats.refusedLogins} refused logins, ${broker.stats.deniedPublishes} denied publishes, ${broker.stats.deniedSubscriptions} denied subscriptions`));
  }

  const code = problems.length === 0 ? 0 : 1;
  process.stdout.write('\n');
  if (code === 0) process.stdout.write(green(bold(`ALL DELIVERED: every broadcast ${N}/${N} (${((Date.now() - t0) / 1000).toFixed(1)} s)`)) + '\n');
  else process.stdout.write(red(bold(`NOT ALL DELIVERED:\n  - ${problems.join('\n  - ')}`)) + '\n');

  if (opts.keep || opts.console) {
    const loaCmd = `node ${path.join(ROOT, 'dist/controller-cli/main.js')} --fleet ${fleet.file}`;
    if (consoleInfo) printConsole(consoleInfo, fleet.stations);
    process.stdout.write(`\n${bold(`The fleet keeps running (${opts.console ? '--console' : '--keep'}). In another terminal, try:`)}\n`);
    process.stdout.write(`  ${loaCmd} stations --watch\n`);
    process.stdout.write(`  ${loaCmd} announce ${path.join(audioDir, 'speech-vi.wav')} --to hoi-an --wait 30\n`);
    process.stdout.write(`  ${loaCmd} broadcasts\n`);
    process.stdout.write('Press Ctrl+C to stop.\n');
    await new Promise<void>((resolve) => {
      process.removeListener('SIGINT', onSignal);
      process.removeListener('SIGTERM', onSignal);
      process.once('SIGINT', () => resolve());
      process.once('SIGTERM', () => resolve());
    });
    process.stdout.write('\nstopping the demo fleet…\n');
  }
  return code;
}

/**
 * Three console accounts, each made by `loa users add` in the account of the official whose key
 * it binds (the key is read from their own key directory), then `loa serve` without --collect:
 * the demo's `loa collect` keeps the database, the console reads it. Plain HTTP on loopback only.
 */
async function startWebConsole(fleetStations: { id: string; groups: string[] }[]): Promise<ConsoleInfo> {
  const wardGroup = fleetStations.some((s) => s.groups.includes('hoi-an-dong')) ? 'hoi-an-dong' : fleetStations[0]!.groups[0]!;
  const password = () => randomBytes(12).toString('base64url');
  const users: ConsoleLogin[] = [
    { name: `phuong-${wardGroup}`, role: 'ward', password: password(), key: WARD_KEY, scope: wardGroup },
    { name: 'vp-ubnd', role: 'operator', password: password(), key: 'vp-ubnd-hoi-an', scope: 'all' },
    { name: 'truc-ban', role: 'approver', password: password(), key: 'truc-ban-pctt', scope: 'all' },
  ];
  for (const u of users) {
    const args = ['users', 'add', u.name, '--role', u.role, ...(u.scope === 'all' ? [] : ['--groups', u.scope]), ...(u.key ? ['--key', u.key] : []), '--password-stdin'];
    await loa(args, { as: (u.key ?? 'vp-ubnd-hoi-an') as Official, stdin: `${u.password}\n` });
  }
  const port = await portOrFree(8080);
  const serveArgs = ['serve', '--no-tls', '--host', '127.0.0.1', '--port', String(port)];
  // The console holds nobody's key file: each user's key is sealed in the database with their password.
  const serveEnv = { ...env, LOA_KEY_DIR: path.join(out, 'central', 'console-has-no-keys') };
  consoleProc = new LoggedProcess('loa serve', [LOA_BIN, ...serveArgs], serveEnv, path.join(out, 'logs', 'serve.log'));
  say(`$ loa ${serveArgs.join(' ')}   ${dim(`(${port === 0 ? 'port 8080 is taken: a free port; ' : ''}log: ${rel(path.join(out, 'logs', 'serve.log'))})`)}`);
  const listening = /(?:console at|bảng điều khiển tại) (\S+)/;
  const url = listening.exec(await consoleProc.waitFor(listening, 20_000))![1]!;
  const info = { url, users };
  writeConsoleLogins(out, info);
  return info;
}

function printConsole(info: ConsoleInfo, fleetStations: { id: string; groups: string[] }[]): void {
  const what = (u: ConsoleLogin) => {
    if (u.role === 'ward') return `ward: the ${fleetStations.filter((s) => s.groups.includes(u.scope)).length} stations of unit ${u.scope} (announce, schedule, live)`;
    if (u.role === 'operator') return `operator: all ${fleetStations.length} stations; drafts alerts`;
    return 'approver: approves alerts (the second signature)';
  };
  process.stdout.write(`\n${bold(`Web console: ${info.url}`)}   ${dim('(loa serve beside loa collect; plain HTTP on this machine only)')}\n`);
  for (const u of info.users) process.stdout.write(`  ${bold(u.name.padEnd(20))} password ${bold(u.password)}   ${dim(`${what(u)}; key ${u.key}`)}\n`);
  const port = new URL(info.url).port;
  process.stdout.write(dim(`  logins also in ${rel(path.join(out, CONSOLE_LOGINS))}; from another machine: ssh -L ${port}:127.0.0.1:${port} <this host>\n`));
  const missing = [
    ...(hasTool('ffprobe') ? [] : ['ffprobe (uploads and recordings are checked with it: apt-get install ffmpeg)']),
    ...(hasEspeak() ? [] : ['espeak-ng (text to speech, and the spoken correction of a cancel: apt-get install espeak-ng)']),
  ];
  if (missing.length > 0) process.stdout.write(dim(`  the console needs on this machine: ${missing.join('; ')}\n`));
}

function isConfirmed(r: { status: string }): boolean {
  return r.status === 'confirmed' || r.status === 'confirmed-late';
}

function hasEspeak(): boolean {
  return hasTool('espeak-ng', '--version');
}

function hasTool(tool: string, versionFlag = '-version'): boolean {
  const r = spawnSync(tool, [versionFlag], { stdio: 'ignore' });
  return !r.error && r.status === 0;
}

function listWavs(dir: string): string[] {
  if (!existsSync(dir)) return [];
  const outList: string[] = [];
  for (const e of readdirSync(dir)) {
    const p = path.join(dir, e);
    if (statSync(p).isDirectory()) outList.push(...listWavs(p));
    else if (e.endsWith('.wav')) outList.push(p);
  }
  return outList.sort();
}

let exitCode = 1;
try {
  exitCode = await main();
} catch (e) {
  process.stdout.write(`\n${red(bold('demo failed:'))} ${(e as Error).message}\n`);
  if (problems.length) process.stdout.write(`  - ${problems.join('\n  - ')}\n`);
  process.stdout.write(dim(`logs: ${rel(path.join(out, 'logs'))}/\n`));
  exitCode = 1;
} finally {
  await shutdown().catch(() => undefined);
}
process.exit(exitCode);
