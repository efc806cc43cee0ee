import { existsSync, readFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { z } from 'zod';
import { parseBrokerUrl } from '../io/mqtt.js';
import { describeIssue, describeValue, dottedPath, parseYamlConfig } from '../io/yaml-config.js';
import {
  DEFAULT_TOPIC_ROOT,
  ID_PATTERN,
  publicKeyError,
  RELAY_SCHEMES,
  type RelayScheme,
  repeatedPublicKeys,
  SIGNED_TYPES,
  type SignedType,
  Topics,
  type TrustedKey,
  timezoneError,
  trustedKey,
} from '../protocol/index.js';
import { type ZoneOutputConfig, ZoneOutputSchema } from '../protocol/zone-output.js';

export { type ZoneOutputConfig, ZoneOutputSchema };

/**
 * A config problem an operator must fix. The message always names the file, the key path
 * and what was expected, because the station is often configured over a slow remote shell.
 */
export class ConfigError extends Error {
  /** One line per problem, each already prefixed with the file name. */
  readonly problems: string[];
  constructor(problems: string[]) {
    super(problems.join('\n'));
    this.name = 'ConfigError';
    this.problems = problems;
  }
}

// ---- schema ------------------------------------------------------------------------------

const ID_EXPECT = 'expected an id of [a-z0-9-]{1,64}';
const Id = z.string({ error: ID_EXPECT }).regex(ID_PATTERN, ID_EXPECT);
const NonEmpty = (what: string) => z.string({ error: `expected ${what}` }).min(1, `expected ${what}`);
const Int = (min: number, max: number) => {
  const expect = `expected a number from ${min} to ${max}`;
  return z.number({ error: expect }).int(`expected a whole number from ${min} to ${max}`).min(min, expect).max(max, expect);
};
const Bool = z.boolean({ error: 'expected true or false' });
const Argv = z
  .array(NonEmpty('a non-empty string'), { error: 'expected a command as a list of arguments, e.g. [/usr/bin/gpioset, ...]' })
  .min(1, 'expected a command as a list of at least one argument');
const Clock = z.string({ error: 'expected a time of day "HH:MM"' }).regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'expected a time of day "HH:MM" (00:00 to 23:59)');

function validTimeZone(tz: string): boolean {
  return timezoneError(tz) === undefined;
}

function validBrokerUrl(url: string): boolean {
  try {
    parseBrokerUrl(url);
    return true;
  } catch {
    return false;
  }
}

function validTopicRoot(root: string): boolean {
  try {
    new Topics(root);
    return true;
  } catch {
    return false;
  }
}

function validPublicKey(b64: string): boolean {
  // Buffer.from(base64) silently skips junk; only the canonical spelling is accepted, so one
  // key cannot be listed twice under two spellings.
  return publicKeyError(b64) === undefined;
}

const Zone = z
  .strictObject({
    id: Id,
    name: z.string({ error: 'expected a zone name' }).max(200, 'expected at most 200 characters').optional(),
    output: ZoneOutputSchema,
    defaultVolume: Int(0, 100).default(80),
    maxVolume: Int(0, 100).default(100),
    relay: z.strictObject({ on: Argv, off: Argv, timeoutMs: Int(1, 600_000).default(5000) }).optional(),
  })
  .superRefine((z0, ctx) => {
    if (z0.defaultVolume > z0.maxVolume) {
      ctx.addIssue({
        code: 'custom',
        path: ['defaultVolume'],
        message: `expected at most maxVolume (${z0.maxVolume})`,
        input: z0.defaultVolume,
      });
    }
  });

const Key = z.strictObject({
  id: Id,
  publicKey: z
    .string({ error: 'expected a base64 raw 32-byte Ed25519 public key' })
    .refine(validPublicKey, 'expected the canonical base64 of a raw 32-byte Ed25519 public key (44 characters ending in =)'),
  allow: z
    .array(z.enum(SIGNED_TYPES, { error: `expected one of ${SIGNED_TYPES.join(', ')}` }), {
      error: `expected a list of message types (${SIGNED_TYPES.join(', ')})`,
    })
    .min(1, `expected at least one of ${SIGNED_TYPES.join(', ')}`),
});

const Broker = z
  .strictObject({
    urls: z
      .array(
        z
          .string({ error: 'expected a broker URL like mqtt://host:1883 or mqtts://host:8883' })
          .refine(validBrokerUrl, 'expected a broker URL like mqtt://host:1883 or mqtts://host:8883'),
        { error: 'expected a list of broker URLs' },
      )
      .min(1, 'expected at least one broker URL'),
    username: NonEmpty('a non-empty user name').optional(),
    password: NonEmpty('a non-empty password').optional(),
    passwordFile: NonEmpty('a path to a file holding the password').optional(),
    tls: z
      .strictObject({
        ca: NonEmpty('a path to a PEM file').optional(),
        cert: NonEmpty('a path to a PEM file').optional(),
        key: NonEmpty('a path to a PEM file').optional(),
      })
      .optional(),
    topicRoot: z
      .string({ error: 'expected a topic root like loa/v1' })
      .refine(validTopicRoot, 'expected a topic root of [A-Za-z0-9_-] segments separated by /, like loa/v1')
      .default(DEFAULT_TOPIC_ROOT),
    keepaliveSec: Int(5, 3600).default(30),
  })
  .superRefine((b, ctx) => {
    const hasPw = b.password !== undefined;
    const hasFile = b.passwordFile !== undefined;
    if (b.username !== undefined && hasPw === hasFile) {
      ctx.addIssue({
        code: 'custom',
        path: hasPw ? ['passwordFile'] : ['password'],
        message: hasPw ? 'expected only one of password or passwordFile, not both' : 'expected password or passwordFile when username is set (there are no default credentials)',
        input: undefined,
      });
    }
    if (b.username === undefined && (hasPw || hasFile)) {
      ctx.addIssue({
        code: 'custom',
        path: ['username'],
        message: `expected a username because ${hasPw ? 'password' : 'passwordFile'} is set`,
        input: undefined,
      });
    }
    if (b.tls && (b.tls.cert === undefined) !== (b.tls.key === undefined)) {
      ctx.addIssue({
        code: 'custom',
        path: ['tls', b.tls.cert === undefined ? 'cert' : 'key'],
        message: 'expected tls.cert and tls.key together (a client certificate needs its key)',
        input: undefined,
      });
    }
  });

const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;

const StationConfigSchema = z
  .strictObject({
    station: z.strictObject({
      id: Id,
      name: z.string({ error: 'expected a station name' }).max(200, 'expected at most 200 characters').optional(),
      groups: z.array(Id, { error: 'expected a list of group ids' }).max(64, 'expected at most 64 groups').default([]),
    }),
    broker: Broker,
    timezone: z
      .string({ error: 'expected an IANA time zone like Asia/Ho_Chi_Minh' })
      .refine(validTimeZone, 'expected an IANA time zone like Asia/Ho_Chi_Minh')
      .default('Asia/Ho_Chi_Minh'),
    dataDir: NonEmpty('a directory path').default('./data'),
    cache: z
      .strictObject({
        quotaMB: Int(16, 1024 * 1024).default(2048),
        /** Clips longer than this are refused before any transcoding (hostile "hours long" files). */
        maxClipMinutes: Int(1, 240).default(60),
        /** Fetch-and-prepare pipelines at once; more clips wait their turn (emergencies first). */
        concurrency: Int(1, 8).default(2),
      })
      .prefault({}),
    testAlerts: z
      .strictObject({
        maxDurationSec: Int(5, 600).default(120),
        maxVolume: Int(0, 100).default(80),
        /** The spoken "this is a test" the station puts before every test alert. */
        preamble: NonEmpty('a path to an audio file').optional(),
      })
      .prefault({}),
    relay: z
      .strictObject({
        schemes: z
          .array(z.enum(RELAY_SCHEMES, { error: `expected one of ${RELAY_SCHEMES.join(', ')}` }), { error: 'expected a list of URL schemes' })
          .min(1, 'expected at least one scheme')
          .default(['http', 'https']),
      })
      .prefault({}),
    /** An airing whose audio stops arriving for this long fails (no_audio) and frees its zones. */
    stallSec: Int(5, 600).default(30),
    central: z.strictObject({ collector: Bool.default(true) }).prefault({}),
    keys: z.array(Key, { error: 'expected a list of trusted keys' }).min(1, 'expected at least one trusted key'),
    alertQuorum: Int(1, 16).default(2),
    clockSkewSec: Int(0, 86_400).default(300),
    zones: z.array(Zone, { error: 'expected a list of zones' }).min(1, 'expected at least one zone'),
    quietHours: z.array(z.strictObject({ start: Clock, end: Clock }), { error: 'expected a list of {start, end} times' }).default([]),
    chimes: z
      .strictObject({
        normal: NonEmpty('a path to an audio file').optional(),
        priority: NonEmpty('a path to an audio file').optional(),
        emergency: NonEmpty('a path to an audio file').optional(),
      })
      .prefault({}),
    loudness: z
      .strictObject({
        targetLufs: z
          .number({ error: 'expected a number from -70 to -5 (LUFS)' })
          .min(-70, 'expected a number from -70 to -5 (LUFS)')
          .max(-5, 'expected a number from -70 to -5 (LUFS)')
          .default(-16),
        truePeakDb: z
          .number({ error: 'expected a number from -9 to 0 (dBTP)' })
          .min(-9, 'expected a number from -9 to 0 (dBTP)')
          .max(0, 'expected a number from -9 to 0 (dBTP)')
          .default(-1.5),
      })
      .prefault({}),
    graceSec: Int(0, 86_400).default(60),
    telemetrySec: Int(1, 86_400).default(30),
    asRunRetentionDays: Int(1, 36_500).default(365),
    ffmpeg: NonEmpty('a path to the ffmpeg binary').optional(),
    log: z.strictObject({ level: z.enum(LOG_LEVELS, { error: `expected one of ${LOG_LEVELS.join(', ')}` }).default('info') }).prefault({}),
  })
  .superRefine((c, ctx) => {
    duplicates(c.zones.map((z0) => z0.id)).forEach((i) => ctx.addIssue({ code: 'custom', path: ['zones', i, 'id'], message: 'expected a unique zone id', input: c.zones[i]!.id }));
    duplicates(c.keys.map((k) => k.id)).forEach((i) => ctx.addIssue({ code: 'custom', path: ['keys', i, 'id'], message: 'expected a unique key id', input: c.keys[i]!.id }));
    if (c.keys.every((k) => validPublicKey(k.publicKey))) {
      repeatedPublicKeys(c.keys).forEach((i) =>
        ctx.addIssue({
          code: 'custom',
          path: ['keys', i, 'publicKey'],
          message: 'expected a public key not already listed under another id (one key under two names would let one person meet alertQuorum)',
          input: undefined,
        }),
      );
    }
    duplicates(c.station.groups).forEach((i) =>
      ctx.addIssue({ code: 'custom', path: ['station', 'groups', i], message: 'expected a unique group id', input: c.station.groups[i] }),
    );
  });

/** Indexes of entries that repeat an earlier one. */
function duplicates(values: readonly string[]): number[] {
  const seen = new Set<string>();
  const out: number[] = [];
  values.forEach((v, i) => {
    if (seen.has(v)) out.push(i);
    seen.add(v);
  });
  return out;
}

type Parsed = z.output<typeof StationConfigSchema>;

export interface ZoneConfig {
  id: string;
  name: string;
  output: ZoneOutputConfig;
  defaultVolume: number;
  maxVolume: number;
  relay?: { on: string[]; off: string[]; timeoutMs: number };
}

export interface StationConfig {
  /** Absolute path of the file this was loaded from. */
  path: string;
  station: { id: string; name: string; groups: string[] };
  broker: {
    urls: string[];
    username?: string;
    /** The effective password: given inline, or read from passwordFile at load time. */
    password?: string;
    /** Absolute. */
    passwordFile?: string;
    /** Absolute paths. */
    tls?: { ca?: string; cert?: string; key?: string };
    topicRoot: string;
    keepaliveSec: number;
  };
  timezone: string;
  /** Absolute. */
  dataDir: string;
  cache: { quotaMB: number; maxClipMinutes: number; concurrency: number };
  testAlerts: { maxDurationSec: number; maxVolume: number /** Absolute. */; preamble: string };
  relay: { schemes: RelayScheme[] };
  stallSec: number;
  central: { collector: boolean };
  keys: { id: string; publicKey: string; allow: SignedType[] }[];
  alertQuorum: number;
  clockSkewSec: number;
  zones: ZoneConfig[];
  quietHours: { start: string; end: string }[];
  /** Absolute paths. */
  chimes: { normal?: string; priority?: string; emergency?: string };
  loudness: { targetLufs: number; truePeakDb: number };
  graceSec: number;
  telemetrySec: number;
  asRunRetentionDays: number;
  /** Absolute when given as a path; a bare name is left for PATH lookup. */
  ffmpeg?: string;
  log: { level: (typeof LOG_LEVELS)[number] };
}

// ---- loading -----------------------------------------------------------------------------

/** The preamble shipped with Loa (espeak-ng, Vietnamese): `assets/` from source or from dist/. */
export const DEFAULT_TEST_PREAMBLE = findAsset('test-preamble-vi.wav');

function findAsset(name: string): string {
  let dir = import.meta.dirname;
  for (let i = 0; i < 4; i++) {
    const candidate = resolve(dir, 'assets', name);
    if (existsSync(candidate)) return candidate;
    dir = dirname(dir);
  }
  return resolve(import.meta.dirname, '..', 'assets', name);
}

export function loadStationConfig(path: string): StationConfig {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new ConfigError([`${path}: cannot read the config file: ${(e as Error).message}`]);
  }
  return parseStationConfig(text, path);
}

/** Parse config text as if it were read from `path` (relative paths resolve against its directory). */
export function parseStationConfig(text: string, path: string): StationConfig {
  const yaml = parseYamlConfig(text, path);
  if (!yaml.ok) throw new ConfigError(yaml.problems);
  const raw = yaml.doc.raw;
  if (raw === null || raw === undefined) throw new ConfigError([`${path}: the file is empty: expected a mapping with station, broker, keys and zones`]);
  if (typeof raw !== 'object' || Array.isArray(raw)) {
    throw new ConfigError([`${path}: expected a mapping at the top level, got ${describeValue(raw)}`]);
  }
  const result = StationConfigSchema.safeParse(raw, { reportInput: true });
  if (!result.success) {
    throw new ConfigError(
      result.error.issues.flatMap((issue) =>
        describeIssue(StationConfigSchema, issue, raw, yaml.doc.lineOf).map(
          (pr) => `${path}: ${dottedPath(pr.path)}: ${pr.expected}${pr.got ? `, ${pr.got}` : ''}${pr.line !== undefined ? ` (line ${pr.line})` : ''}`,
        ),
      ),
    );
  }
  return finish(result.data, path);
}

function finish(c: Parsed, file: string): StationConfig {
  const absFile = resolve(file);
  const base = dirname(absFile);
  const abs = (p: string) => (isAbsolute(p) ? p : resolve(base, p));
  const abs2 = <T extends string | undefined>(p: T): T => (p === undefined ? p : (abs(p) as T));

  const broker: StationConfig['broker'] = {
    urls: c.broker.urls,
    topicRoot: c.broker.topicRoot,
    keepaliveSec: c.broker.keepaliveSec,
  };
  if (c.broker.username !== undefined) broker.username = c.broker.username;
  if (c.broker.password !== undefined) broker.password = c.broker.password;
  if (c.broker.passwordFile !== undefined) {
    broker.passwordFile = abs(c.broker.passwordFile);
    try {
      // One trailing newline is what `echo secret > file` leaves; it is never part of the password.
      broker.password = readFileSync(broker.passwordFile, 'utf8').replace(/\r?\n$/, '');
    } catch (e) {
      throw new ConfigError([`${file}: broker.passwordFile: expected a readable file, got ${broker.passwordFile} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`]);
    }
    if (broker.password.length === 0) {
      throw new ConfigError([`${file}: broker.passwordFile: expected a non-empty password in ${broker.passwordFile}`]);
    }
  }
  if (c.broker.tls) {
    broker.tls = {};
    if (c.broker.tls.ca) broker.tls.ca = abs(c.broker.tls.ca);
    if (c.broker.tls.cert) broker.tls.cert = abs(c.broker.tls.cert);
    if (c.broker.tls.key) broker.tls.key = abs(c.broker.tls.key);
  }

  const chimes: StationConfig['chimes'] = {};
  for (const k of ['normal', 'priority', 'emergency'] as const) {
    if (c.chimes[k] !== undefined) chimes[k] = abs2(c.chimes[k]);
  }

  const out: StationConfig = {
    path: absFile,
    station: { id: c.station.id, name: c.station.name ?? c.station.id, groups: c.station.groups },
    broker,
    timezone: c.timezone,
    dataDir: abs(c.dataDir),
    cache: c.cache,
    testAlerts: {
      maxDurationSec: c.testAlerts.maxDurationSec,
      maxVolume: c.testAlerts.maxVolume,
      preamble: c.testAlerts.preamble !== undefined ? abs(c.testAlerts.preamble) : DEFAULT_TEST_PREAMBLE,
    },
    relay: { schemes: [...new Set(c.relay.schemes)] },
    stallSec: c.stallSec,
    central: c.central,
    keys: c.keys.map((k) => ({ id: k.id, publicKey: k.publicKey, allow: [...new Set(k.allow)] })),
    alertQuorum: c.alertQuorum,
    clockSkewSec: c.clockSkewSec,
    zones: c.zones.map((z0) => {
      const zone: ZoneConfig = {
        id: z0.id,
        name: z0.name ?? z0.id,
        output: z0.output.type === 'file' ? { type: 'file', dir: abs(z0.output.dir) } : z0.output,
        defaultVolume: z0.defaultVolume,
        maxVolume: z0.maxVolume,
      };
      if (z0.relay) zone.relay = z0.relay;
      return zone;
    }),
    quietHours: c.quietHours,
    chimes,
    loudness: c.loudness,
    graceSec: c.graceSec,
    telemetrySec: c.telemetrySec,
    asRunRetentionDays: c.asRunRetentionDays,
    log: c.log,
  };
  // "ffmpeg" alone means "look it up on PATH"; only something path-like is resolved.
  if (c.ffmpeg !== undefined) out.ffmpeg = c.ffmpeg.includes('/') ? abs(c.ffmpeg) : c.ffmpeg;
  return out;
}

/** The verifier's view of the configured keys. */
export function trustedKeys(config: StationConfig): Map<string, TrustedKey> {
  const map = new Map<string, TrustedKey>();
  for (const k of config.keys) {
    map.set(k.id, trustedKey(k.id, k.publicKey, k.allow));
  }
  return map;
}

/** Valid but probably unintended settings; the daemon logs these at start-up. */
export function stationConfigWarnings(config: StationConfig): string[] {
  const warnings: string[] = [];
  const alertKeys = config.keys.filter((k) => k.allow.includes('alert')).length;
  if (alertKeys < config.alertQuorum) {
    warnings.push(`${config.path}: alertQuorum is ${config.alertQuorum} but only ${alertKeys} key(s) may sign alerts: live alerts can never play (test alerts still can)`);
  }
  if (config.broker.username === undefined) {
    warnings.push(`${config.path}: broker.username is not set: connecting without authentication`);
  }
  if (config.broker.password !== undefined && config.broker.urls.some((u) => /^(mqtt|tcp):/i.test(u))) {
    warnings.push(`${config.path}: broker password is sent over plain mqtt:// (use mqtts:// off the local network)`);
  }
  return warnings;
}
