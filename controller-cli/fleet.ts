import { existsSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { z } from 'zod';
import { t } from '../io/i18n.js';
import { parseBrokerUrl } from '../io/mqtt.js';
import { DEFAULT_TOPIC_ROOT, Id, RELAY_SCHEMES, type RelayScheme, SignedType, type SignedType as SignedTypeT, Topics, timezoneError } from '../protocol/index.js';
import { type ZoneOutputConfig, ZoneOutputSchema } from '../protocol/zone-output.js';
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
  database: Path.default('central/central.sqlite'),
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
    })
    .prefault({}),
  groups: z.array(z.strictObject({ id: Id, name: Name })).default([]),
  stations: z.array(Station).min(1, 'expected at least one station'),
});

export type FleetStation = z.infer<typeof Station>;

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
  database: string;
  /** Central working files: media copies, drafts, synthesised speech. */
  centralDir: string;
  alertQuorum: number;
  policy: { testAlerts: { maxDurationSec: number; maxVolume: number }; relaySchemes: RelayScheme[] };
  retention: { days: number };
  signers: { key: string; allow: SignedTypeT[] }[];
  defaultKey?: string;
  stationDefaults: { dataDir: string; output: ZoneOutputConfig; defaultVolume: number; maxVolume: number };
  groups: { id: string; name: string }[];
  stations: FleetStation[];
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

  const at = (p: string) => resolveFrom(file, p);
  const database = at(raw.database);
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
    centralDir: dirname(database),
    alertQuorum: raw.alertQuorum,
    policy: raw.policy,
    retention: raw.retention,
    signers: raw.signers,
    ...(raw.defaultKey ? { defaultKey: raw.defaultKey } : {}),
    stationDefaults: raw.stationDefaults,
    groups: raw.groups,
    stations: raw.stations,
  };
}

export function findStation(fleet: Fleet, id: string): FleetStation {
  const s = fleet.stations.find((x) => x.id === id);
  if (!s) throw new UsageError(t('fleet.unknownStation', { id, known: fleet.stations.map((x) => x.id).join(', ') }));
  return s;
}

export function stationsOfGroup(fleet: Fleet, group: string): FleetStation[] {
  return fleet.stations.filter((s) => s.groups.includes(group));
}
