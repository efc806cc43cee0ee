// Files the demo writes before anything runs: the fleet, station configs, schedule, audio.
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parse, stringify } from 'yaml';
import { ROOT } from './procs.js';

export const HOI_AN_FLEET = path.join(ROOT, 'schedules/hoi-an/fleet.yaml');
export const FIXTURES = path.join(ROOT, 'audio-fixtures');
const MARKER = '.loa-demo';

/**
 * Empty the output directory. It is only wiped when it is ours (it holds the marker file we
 * leave in it) or empty, so `--out ~` cannot delete anything that the demo did not write.
 */
export function prepareOutDir(out: string): void {
  if (existsSync(out)) {
    const entries = readdirSync(out);
    if (entries.length > 0 && !entries.includes(MARKER)) {
      throw new Error(`${out} exists, is not empty and was not made by the demo (no ${MARKER} file in it): choose another --out`);
    }
    rmSync(out, { recursive: true, force: true });
  }
  mkdirSync(out, { recursive: true });
  writeFileSync(path.join(out, MARKER), 'Made by `npm run demo`; deleted and recreated by every run.\n');
}

interface FleetStationYaml {
  id: string;
  name: string;
  groups: string[];
  zones?: { id: string; name: string }[];
}

/**
 * The Hội An fleet file with the broker moved to this run's local port. N > 13 adds made-up
 * stations; `extraSigners` adds keys to the signer policy (the console's ward office).
 */
export function writeFleet(
  out: string,
  broker: { url: string; port: number; stationUrl: string; stationPort: number },
  count: number,
  extraSigners: { key: string; allow: string[] }[] = [],
): { file: string; stations: FleetStationYaml[] } {
  const fleet = parse(readFileSync(HOI_AN_FLEET, 'utf8')) as Record<string, unknown> & {
    stations: FleetStationYaml[];
    groups: { id: string; name: string }[];
    signers: { key: string; allow: string[] }[];
  };
  fleet.signers = [...fleet.signers, ...extraSigners];
  const stations = fleet.stations.slice(0, count);
  for (let i = stations.length; i < count; i++) {
    const group = fleet.groups[i % fleet.groups.length]!;
    stations.push({ id: `tram-demo-${i + 1}`, name: `Trạm thử ${i + 1}`, groups: [group.id] });
  }
  const used = new Set(stations.flatMap((s) => s.groups));
  fleet.stations = stations;
  fleet.groups = fleet.groups.filter((g) => used.has(g.id));
  // CAP areas name groups and stations; keep only the targets this smaller fleet still has.
  const cap = fleet.cap as { areas?: { targets: string[] }[] } | undefined;
  if (cap?.areas) {
    const known = new Set([...stations.map((s) => s.id), ...fleet.groups.map((g) => g.id)]);
    for (const a of cap.areas) a.targets = a.targets.filter((x) => known.has(x));
    cap.areas = cap.areas.filter((a) => a.targets.length > 0);
  }
  fleet.broker = {
    urls: [broker.url],
    stationUrls: [broker.stationUrl],
    username: 'loa-central',
    passwordFile: 'secrets/central.password',
    clientId: 'loa-central',
    // The demo broker listens on loopback only: a plain station listener, no TLS one.
    listener: { port: broker.port, bind: '127.0.0.1', stationPort: broker.stationPort, stationBind: '127.0.0.1' },
  };
  // Each station gets its own directory; `loa provision` writes this path into station.yaml,
  // where it resolves against the station's directory.
  fleet.stationDefaults = { ...(fleet.stationDefaults as object), dataDir: 'data' };
  const file = path.join(out, 'fleet.yaml');
  writeFileSync(
    file,
    "# Written by `npm run demo` from schedules/hoi-an/fleet.yaml: the broker is the demo's own\n" +
      '# (Aedes, in the demo process) on a free local port; keys, secrets and the central database\n' +
      '# live next to this file. Try: loa --fleet THIS_FILE stations\n' +
      stringify(fleet, { lineWidth: 0 }),
  );
  return { file, stations };
}

/**
 * `loa provision` writes a station.yaml for a real ward box (ALSA output, /var/lib dataDir).
 * On one machine every station writes WAV files instead, and gets the demo's chimes.
 */
export function adaptStationConfig(configFile: string, out: string, stationId: string): void {
  const text = readFileSync(configFile, 'utf8');
  const header = text
    .split('\n')
    .filter((l) => l.startsWith('#'))
    .join('\n');
  const cfg = parse(text) as Record<string, unknown> & { zones: { id: string; output: unknown }[]; broker: Record<string, unknown> };
  for (const z of cfg.zones) z.output = { type: 'file', dir: path.join(out, 'recordings', stationId, z.id) };
  cfg.chimes = {
    normal: path.join(out, 'audio', 'chime-normal.wav'),
    priority: path.join(out, 'audio', 'chime-priority.wav'),
    emergency: path.join(out, 'audio', 'chime-emergency.wav'),
  };
  cfg.broker.keepaliveSec = 10;
  cfg.telemetrySec = 2;
  cfg.cache = { quotaMB: 64 };
  writeFileSync(configFile, `${header}\n# Adapted by the demo: zones write WAV files under ${path.join(out, 'recordings', stationId)}/.\n${stringify(cfg, { lineWidth: 0 })}`, {
    mode: 0o600,
  });
}

export const AUDIO = ['speech-vi.wav', 'music-10s.mp3', 'chime-normal.wav', 'chime-priority.wav', 'chime-emergency.wav'] as const;

export function copyAudio(out: string): string {
  const dir = path.join(out, 'audio');
  mkdirSync(dir, { recursive: true });
  for (const f of AUDIO) copyFileSync(path.join(FIXTURES, f), path.join(dir, f));
  return dir;
}

/** ISO time with the zone's offset, e.g. 2026-12-12T07:30:05.000+07:00. */
export function isoInZone(ms: number, tz: string): string {
  const parts = new Intl.DateTimeFormat('en-US', {
    timeZone: tz,
    hourCycle: 'h23',
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
  }).formatToParts(new Date(ms));
  const get = (t: string) => parts.find((p) => p.type === t)!.value;
  const local = Date.UTC(+get('year'), +get('month') - 1, +get('day'), +get('hour'), +get('minute'), +get('second'));
  const offMin = Math.round((local - Math.floor(ms / 1000) * 1000) / 60_000);
  const sign = offMin < 0 ? '-' : '+';
  const hh = String(Math.floor(Math.abs(offMin) / 60)).padStart(2, '0');
  const mm = String(Math.abs(offMin) % 60).padStart(2, '0');
  const ms3 = String(ms % 1000).padStart(3, '0');
  return `${get('year')}-${get('month')}-${get('day')}T${get('hour')}:${get('minute')}:${get('second')}.${ms3}${sign}${hh}:${mm}`;
}

export interface DemoScheduleTimes {
  relayAt: number;
  newsAt: number;
  relaySec: number;
  eveningAt: number;
}

/** The "morning" of the accelerated day: a live relay and the ward's own news, seconds apart. */
export function writeSchedule(out: string, relayUrl: string | undefined, t: DemoScheduleTimes, tz: string): string {
  const items: Record<string, unknown>[] = [];
  if (relayUrl) {
    items.push({
      id: 'tiep-song-vov1',
      to: 'all',
      at: isoInZone(t.relayAt, tz),
      title: '05:30 Tiếp sóng Đài Tiếng nói Việt Nam (VOV1)',
      stream: { urls: [relayUrl], durationSec: t.relaySec },
    });
  }
  items.push({
    id: 'ban-tin-sang',
    to: 'all',
    at: isoInZone(t.newsAt, tz),
    title: '06:00 Bản tin sáng của phường',
    file: '../audio/speech-vi.wav',
  });
  // Later today, so it is not part of the demo's report. Stations fetch and prepare every clip of
  // a schedule when it arrives, so this clip is ready long before it airs.
  items.push({
    id: 'ca-nhac-toi',
    to: 'all',
    at: isoInZone(t.eveningAt, tz),
    title: '20:00 Chương trình ca nhạc buổi tối',
    file: '../audio/music-10s.mp3',
  });
  const dir = path.join(out, 'schedules');
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, 'ngay-demo.yaml');
  writeFileSync(
    file,
    "# The demo's accelerated day: real fleets use cron lines (see schedules/hoi-an/daily.yaml);\n" +
      '# here each item is an `at` time a few seconds after the push.\n' +
      stringify({ tz, items }, { lineWidth: 0 }),
  );
  return file;
}

/** The console's demo accounts, written beside the fleet for `npm run screenshots` and for the reader. */
export const CONSOLE_LOGINS = 'console-logins.json';

export interface ConsoleLogin {
  name: string;
  role: 'ward' | 'operator' | 'approver';
  password: string;
  /** The signing key bound to the account (its owner's key directory), if any. */
  key: string | null;
  /** What the account may address: a unit's group id, or "all". */
  scope: string;
}

export interface ConsoleInfo {
  url: string;
  users: ConsoleLogin[];
}

export function writeConsoleLogins(out: string, info: ConsoleInfo): string {
  const file = path.join(out, CONSOLE_LOGINS);
  writeFileSync(file, `${JSON.stringify(info, null, 2)}\n`, { mode: 0o600 });
  return file;
}

export function readConsoleLogins(out: string): ConsoleInfo {
  return JSON.parse(readFileSync(path.join(out, CONSOLE_LOGINS), 'utf8')) as ConsoleInfo;
}
