import { existsSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { z } from 'zod';
import { t } from '../io/i18n.js';
import { parseBrokerUrl } from '../io/mqtt.js';
import { DEFAULT_TOPIC_ROOT, Id, RELAY_SCHEMES, type RelayScheme, SignedType, type SignedType as SignedTypeT, Topics, timezoneError } from '../protocol/index.js';
import { type QuietWindow, QuietWindowSchema } from '../protocol/quiet-hours.js';
import { type ZoneOutputConfig, ZoneOutputSchema } from '../protocol/zone-output.js';
import { type CapConfig, CapConfigSchema, capConfigProblem, DEFAULT_CAP_CONFIG } from './cap-config.js';
import { isPostgresUrl } from './central-store.js';
import { ConfigFile } from './config-file.js';
import { UsageError } from './errors.js';

const Path = z.string().min(1, 'expected a file path');
const Name = z.string().min(1, 'expected a non-empty name').max(200);

const Zone = z.strictObject({
  id: Id,
  name: Name,
  output: ZoneOutputSchema.optional(),
  defaultVolume: z.number().int().min(0).max(100).optional(),
  maxVolume: z.number().int().min(0).max(100).optional(),
});

const Location = z.strictObject({
  lat: z.number().min(-90).max(90),
  lon: z.number().min(-180).max(180),
});

const Station = z.strictObject({
  id: Id,
  name: Name,
  groups: z.array(Id).default([]),
  zones: z
    .array(Zone)
    .min(1)
    .default([{ id: 'main', name: 'Loa chính' }]),
  timezone: z.string().optional(),
  /** Where the station's speakers are: the console's map and CAP polygons/circles use it. */
  location: Location.optional(),
  /** Local times normal and priority items do not start (stationDefaults.quietHours when absent). */
  quietHours: z.array(QuietWindowSchema).optional(),
});

const FleetSchema = z.strictObject({
  topicRoot: z.string().default(DEFAULT_TOPIC_ROOT),
  timezone: z.string().default('Asia/Ho_Chi_Minh'),
  broker: z.strictObject({
    /** How central tools (CLI, collector) reach the broker: its central listener. */
    urls: z.array(z.string().min(1)).min(1, 'expected at least one broker URL'),
    /**
     * What `loa provision` writes into every station.yaml: the station listener, where the broker
     * binds each client id to its user name. Stations never use the central listener.
     */
    stationUrls: z.array(z.string().min(1)).min(1, 'expected at least one broker URL for stations'),
    /** Central's broker user; its password lives in a file, never in this file. */
    username: Id.default('loa-central'),
    passwordFile: Path,
    clientId: z
      .string()
      .regex(/^[A-Za-z0-9_-]{1,64}$/, 'expected [A-Za-z0-9_-]{1,64}')
      .default('loa-central'),
    tls: z.strictObject({ ca: Path, cert: Path.optional(), key: Path.optional() }).optional(),
    /** What `loa broker config` writes into mosquitto.conf. */
    listener: z
      .strictObject({
        /** The central listener: central user only, any client id. */
        port: z.number().int().min(1).max(65535).default(1883),
        bind: z.string().min(1).default('127.0.0.1'),
        /** The stations' TLS listener: station users only, client id = user name. */
        tlsPort: z.number().int().min(1).max(65535).default(8883),
        tlsBind: z.string().min(1).default('0.0.0.0'),
        /** An optional plain station listener (a closed LAN, or one machine as in the demo). */
        stationPort: z.number().int().min(1).max(65535).optional(),
        stationBind: z.string().min(1).default('127.0.0.1'),
        hostnames: z.array(z.string().min(1)).default([]),
      })
      .prefault({}),
  }),
  keysDir: Path.default('keys'),
  secretsDir: Path.default('secrets'),
  /** A SQLite file (the embedded default) or a postgres:// URL (several collectors, one database). */
  database: Path.default('central/central.sqlite'),
  /** PostgreSQL only: a file holding the database password (else the URL, PGPASSWORD or ~/.pgpass). */
  databasePasswordFile: Path.optional(),
  /** Drafts, media copies and speech; default: next to a SQLite database, or `central/` next to this file. */
  centralDir: Path.optional(),
  alertQuorum: z.number().int().min(1).max(8).default(2),
  /** What every station enforces (provisioned into station.yaml). */
  policy: z
    .strictObject({
      testAlerts: z
        .strictObject({
          maxDurationSec: z.number().int().min(5).max(600).default(120),
          maxVolume: z.number().int().min(0).max(100).default(80),
        })
        .prefault({}),
      relaySchemes: z.array(z.enum(RELAY_SCHEMES)).min(1).default(['http', 'https']),
    })
    .prefault({}),
  /** How long central tables keep acks, state history and finished broadcasts. */
  retention: z.strictObject({ days: z.number().int().min(30).max(3650).default(400) }).prefault({}),
  /** Which key may sign which message types; stations get exactly this list. */
  signers: z.array(z.strictObject({ key: Id, allow: z.array(SignedType).min(1) })).default([]),
  /** Key used when `--key` is not given (must be allowed for the type). */
  defaultKey: Id.optional(),
  stationDefaults: z
    .strictObject({
      dataDir: Path.default('/var/lib/loa-station'),
      output: ZoneOutputSchema.default({ type: 'alsa', device: 'default' }),
      defaultVolume: z.number().int().min(0).max(100).default(80),
      maxVolume: z.number().int().min(0).max(100).default(100),
      quietHours: z.array(QuietWindowSchema).default([]),
    })
    .prefault({}),
  groups: z.array(z.strictObject({ id: Id, name: Name })).default([]),
  stations: z.array(Station).min(1, 'expected at least one station'),
  /**
   * Ward or district brokers bridged to this one (`loa broker config --bridge ID`): the listed
   * stations connect to that broker, which passes exactly their topics on. The id is the bridge's
   * user on this broker; `stationUrls` are what `loa provision` gives those stations.
   */
  bridges: z
    .array(
      z.strictObject({
        id: Id,
        stations: z.array(Id).min(1, 'expected at least one station'),
        stationUrls: z.array(z.string().min(1)).min(1).optional(),
        hostnames: z.array(z.string().min(1)).default([]),
      }),
    )
    .default([]),
  /** CAP warnings in (`loa cap`, docs/cap.md). */
  cap: CapConfigSchema.optional(),
});

export type FleetStation = z.infer<typeof Station>;
export interface FleetBridge {
  id: string;
  stations: string[];
  stationUrls?: string[];
  hostnames: string[];
}

export interface Fleet {
  file: string;
  dir: string;
  topicRoot: string;
  topics: Topics;
  timezone: string;
  broker: {
    urls: string[];
    stationUrls: string[];
    username: string;
    passwordFile: string;
    clientId: string;
    tls?: { ca: string; cert?: string; key?: string };
    listener: { port: number; bind: string; tlsPort: number; tlsBind: string; stationPort?: number; stationBind: string; hostnames: string[] };
  };
  keysDir: string;
  secretsDir: string;
  /** A SQLite file path, or a postgres:// URL (central-store.ts). */
  database: string;
  databasePasswordFile?: string;
  /** Central working files: media copies, drafts, synthesised speech. */
  centralDir: string;
  alertQuorum: number;
  policy: { testAlerts: { maxDurationSec: number; maxVolume: number }; relaySchemes: RelayScheme[] };
  retention: { days: number };
  signers: { key: string; allow: SignedTypeT[] }[];
  defaultKey?: string;
  stationDefaults: { dataDir: string; output: ZoneOutputConfig; defaultVolume: number; maxVolume: number; quietHours: QuietWindow[] };
  groups: { id: string; name: string }[];
  stations: FleetStation[];
  bridges: FleetBridge[];
  /** The `cap:` section, defaults filled in (no trusted sender when absent). */
  cap: CapConfig;
}

export function resolveFrom(file: string, p: string): string {
  return isAbsolute(p) ? p : resolve(dirname(file), p);
}

/** `--fleet`, then LOA_FLEET, then ./fleet.yaml. */
export function fleetPath(option: string | undefined): string {
  const chosen = option ?? process.env.LOA_FLEET ?? 'fleet.yaml';
  const abs = resolve(chosen);
  if (!existsSync(abs)) throw new UsageError(t('fleet.missing', { file: abs }));
  return abs;
}

export function loadFleet(option: string | undefined): Fleet {
  const file = fleetPath(option);
  const cfg = ConfigFile.read(file);
  const raw = cfg.parse(FleetSchema);
  try {
    new Topics(raw.topicRoot);
  } catch (e) {
    throw cfg.error(['topicRoot'], (e as Error).message);
  }
  if (timezoneError(raw.timezone)) throw cfg.error(['timezone'], t('fleet.expectedTimezone'));
  for (const key of ['urls', 'stationUrls'] as const) {
    raw.broker[key].forEach((u, i) => {
      try {
        parseBrokerUrl(u);
      } catch (e) {
        throw cfg.error(['broker', key, i], (e as Error).message);
      }
    });
  }

  // Ids are resolved by name on the command line (`--to`), so a name must mean one thing.
  const seen = new Map<string, string>();
  const claim = (id: string, what: string, path: (string | number)[]) => {
    if (id === 'all') throw cfg.error(path, t('fleet.reservedId'));
    const before = seen.get(id);
    if (before) throw cfg.error(path, t('fleet.duplicateId', { id, before }));
    seen.set(id, what);
  };
  raw.groups.forEach((g, i) => claim(g.id, `groups[${i}]`, ['groups', i, 'id']));
  raw.stations.forEach((s, i) => {
    claim(s.id, `stations[${i}]`, ['stations', i, 'id']);
    s.groups.forEach((g, j) => {
      if (!raw.groups.some((x) => x.id === g)) {
        throw cfg.error(['stations', i, 'groups', j], t('fleet.unknownGroup', { id: g, known: raw.groups.map((x) => x.id).join(', ') }));
      }
    });
    const zoneIds = new Set<string>();
    s.zones.forEach((z, j) => {
      if (zoneIds.has(z.id)) throw cfg.error(['stations', i, 'zones', j, 'id'], t('fleet.duplicateZone', { id: z.id }));
      zoneIds.add(z.id);
    });
    if (s.timezone && timezoneError(s.timezone)) throw cfg.error(['stations', i, 'timezone'], t('fleet.expectedTimezone'));
    if (s.id === raw.broker.username) throw cfg.error(['stations', i, 'id'], t('fleet.stationIsCentralUser'));
  });
  const signerIds = new Set<string>();
  raw.signers.forEach((s, i) => {
    if (signerIds.has(s.key)) throw cfg.error(['signers', i, 'key'], t('fleet.duplicateId', { id: s.key, before: 'signers' }));
    signerIds.add(s.key);
  });
  if (raw.defaultKey && !signerIds.has(raw.defaultKey)) throw cfg.error(['defaultKey'], t('fleet.defaultKeyNotSigner'));
  // A bridge id is a broker user beside the stations: it must not be a station's (or group's) id.
  const bridged = new Map<string, string>();
  raw.bridges.forEach((b, i) => {
    claim(b.id, `bridges[${i}]`, ['bridges', i, 'id']);
    if (b.id === raw.broker.username) throw cfg.error(['bridges', i, 'id'], t('fleet.stationIsCentralUser'));
    b.stations.forEach((st, j) => {
      if (!raw.stations.some((x) => x.id === st))
        throw cfg.error(['bridges', i, 'stations', j], t('fleet.unknownStation', { id: st, known: someIds(raw.stations.map((x) => x.id)) }));
      const before = bridged.get(st);
      if (before) throw cfg.error(['bridges', i, 'stations', j], t('fleet.duplicateId', { id: st, before }));
      bridged.set(st, `bridges[${i}]`);
    });
    b.stationUrls?.forEach((u, j) => {
      try {
        parseBrokerUrl(u);
      } catch (e) {
        throw cfg.error(['bridges', i, 'stationUrls', j], (e as Error).message);
      }
    });
  });
  const capProblem = raw.cap && capConfigProblem(raw.cap, { stations: raw.stations.map((s) => s.id), groups: raw.groups.map((g) => g.id) });
  if (capProblem) throw cfg.error(['cap', ...capProblem.path], capProblem.expected);

  const at = (p: string) => resolveFrom(file, p);
  const postgres = isPostgresUrl(raw.database);
  if (postgres) {
    try {
      new URL(raw.database);
    } catch {
      throw cfg.error(['database'], t('fleet.databaseUrl'));
    }
  } else if (/^[a-z][a-z0-9+.-]*:\/\//i.test(raw.database)) throw cfg.error(['database'], t('fleet.databaseUrl'));
  if (raw.databasePasswordFile && !postgres) throw cfg.error(['databasePasswordFile'], t('fleet.databasePasswordFile'));
  const database = postgres ? raw.database : at(raw.database);
  return {
    file,
    dir: dirname(file),
    topicRoot: raw.topicRoot,
    topics: new Topics(raw.topicRoot),
    timezone: raw.timezone,
    broker: {
      urls: raw.broker.urls,
      stationUrls: raw.broker.stationUrls,
      username: raw.broker.username,
      passwordFile: at(raw.broker.passwordFile),
      clientId: raw.broker.clientId,
      ...(raw.broker.tls
        ? {
            tls: {
              ca: at(raw.broker.tls.ca),
              ...(raw.broker.tls.cert ? { cert: at(raw.broker.tls.cert) } : {}),
              ...(raw.broker.tls.key ? { key: at(raw.broker.tls.key) } : {}),
            },
          }
        : {}),
      listener: raw.broker.listener,
    },
    keysDir: at(raw.keysDir),
    secretsDir: at(raw.secretsDir),
    database,
    ...(raw.databasePasswordFile ? { databasePasswordFile: at(raw.databasePasswordFile) } : {}),
    centralDir: raw.centralDir ? at(raw.centralDir) : postgres ? at('central') : dirname(database),
    alertQuorum: raw.alertQuorum,
    policy: raw.policy,
    retention: raw.retention,
    signers: raw.signers,
    ...(raw.defaultKey ? { defaultKey: raw.defaultKey } : {}),
    stationDefaults: raw.stationDefaults,
    groups: raw.groups,
    stations: raw.stations,
    bridges: raw.bridges.map((b) => ({ id: b.id, stations: b.stations, ...(b.stationUrls ? { stationUrls: b.stationUrls } : {}), hostnames: b.hostnames })),
    cap: raw.cap ?? DEFAULT_CAP_CONFIG,
  };
}

/** Known ids for an error message: a few, not 10,000. */
function someIds(ids: string[]): string {
  return ids.length <= 20 ? ids.join(', ') : `${ids.slice(0, 20).join(', ')}, … (${ids.length})`;
}

export function findStation(fleet: Fleet, id: string): FleetStation {
  const s = fleet.stations.find((x) => x.id === id);
  if (!s) throw new UsageError(t('fleet.unknownStation', { id, known: someIds(fleet.stations.map((x) => x.id)) }));
  return s;
}

export function findGroup(fleet: Fleet, id: string): { id: string; name: string } {
  const g = fleet.groups.find((x) => x.id === id);
  if (!g) throw new UsageError(t('fleet.unknownGroup', { id, known: someIds(fleet.groups.map((x) => x.id)) }));
  return g;
}

/** The bridge a station connects through, if any. */
export function bridgeOf(fleet: Fleet, station: string): FleetBridge | undefined {
  return fleet.bridges.find((b) => b.stations.includes(station));
}

export function findBridge(fleet: Fleet, id: string): FleetBridge {
  const b = fleet.bridges.find((x) => x.id === id);
  if (!b) throw new UsageError(t('fleet.unknownBridge', { id, known: someIds(fleet.bridges.map((x) => x.id)) || '-' }));
  return b;
}

export function stationsOfGroup(fleet: Fleet, group: string): FleetStation[] {
  return fleet.stations.filter((s) => s.groups.includes(group));
}

/** The quiet hours a station enforces: its own, else the fleet's default. */
export function quietHoursOf(fleet: Fleet, station: FleetStation): QuietWindow[] {
  return station.quietHours ?? fleet.stationDefaults.quietHours;
}
