import { z } from 'zod';
import { ID_PATTERN, SHA256_PATTERN } from './ids.js';
import { MAX_MEDIA_BYTES } from './topics.js';

export const PROTOCOL_VERSION = 1 as const;

export const Id = z.string().regex(ID_PATTERN, 'expected an id of [a-z0-9-]{1,64}');
export const StoreId = z.string().regex(/^[a-f0-9]{16}$/, 'expected a store id of 16 lowercase hex digits');
export const Sha256 = z.string().regex(SHA256_PATTERN, 'expected a lowercase hex sha256');
export const IsoTime = z.iso.datetime({ offset: true });
const Text = (max: number) => z.string().max(max);
const HttpUrl = z
  .string()
  .max(2048)
  .refine((s) => /^https?:\/\/[^\s]+$/i.test(s), 'expected an http(s) URL');

/**
 * Live relay sources. The wire accepts these schemes; each station narrows them further to the
 * schemes its fleet allows (`relay.schemes`), and ffmpeg gets a matching protocol whitelist.
 */
export const RELAY_SCHEMES = ['http', 'https', 'rtsp', 'rtmp', 'srt'] as const;
export type RelayScheme = (typeof RELAY_SCHEMES)[number];
const RELAY_URL = new RegExp(`^(${RELAY_SCHEMES.join('|')})://[^\\s]+$`, 'i');
const RelayUrl = z
  .string()
  .max(2048)
  .refine((s) => RELAY_URL.test(s), `expected a ${RELAY_SCHEMES.join('/')} URL`);

/** Circular 39/2020/TT-BTTTT levels. Emergency preempts anything. */
export const Priority = z.enum(['normal', 'priority', 'emergency']);
export type Priority = z.infer<typeof Priority>;
export const PRIORITY_RANK: Record<Priority, number> = { normal: 0, priority: 1, emergency: 2 };

export const SIGNED_TYPES = ['schedule', 'announce', 'alert', 'cancel', 'control'] as const;
export const SignedType = z.enum(SIGNED_TYPES);
export type SignedType = z.infer<typeof SignedType>;
export const MESSAGE_TYPES = [...SIGNED_TYPES, 'ack', 'state', 'telemetry'] as const;

// ---- audio -------------------------------------------------------------------------------

export const MediaRef = z.strictObject({
  kind: z.literal('media'),
  sha256: Sha256,
  size: z.number().int().min(1).max(MAX_MEDIA_BYTES),
  urls: z.array(HttpUrl).max(4).optional(),
  /** Present when the controller synthesised the clip; kept for the as-run log. */
  tts: z.strictObject({ text: Text(5000), voice: Text(32) }).optional(),
});
export type MediaRef = z.infer<typeof MediaRef>;

export const StreamRef = z.strictObject({
  kind: z.literal('stream'),
  urls: z.array(RelayUrl).min(1).max(8),
  durationSec: z
    .number()
    .int()
    .min(1)
    .max(4 * 3600),
});
export type StreamRef = z.infer<typeof StreamRef>;

/** What stations receive. `tts` sources are synthesised by the controller into `media`. */
export const AudioRef = z.discriminatedUnion('kind', [MediaRef, StreamRef]);
export type AudioRef = z.infer<typeof AudioRef>;

const PlayOptions = {
  title: Text(200).default(''),
  zones: z.array(Id).min(1).max(64).optional(),
  volume: z.number().int().min(0).max(100).optional(),
  chime: z.boolean().default(false),
  repeat: z.number().int().min(1).max(20).default(1),
  gapSec: z.number().int().min(0).max(3600).default(0),
  maxDurationSec: z
    .number()
    .int()
    .min(1)
    .max(4 * 3600)
    .optional(),
  policy: z.enum(['interrupt', 'wait']).default('wait'),
  maxDelaySec: z
    .number()
    .int()
    .min(0)
    .max(24 * 3600)
    .default(300),
  audio: AudioRef,
};

// ---- bodies ------------------------------------------------------------------------------

/** Item ids are shorter than other ids: an occurrence's broadcast id appends `-<unix seconds>`. */
export const ItemId = z.string().regex(/^[a-z0-9-]{1,48}$/, 'expected an item id of [a-z0-9-]{1,48}');

export const ScheduleItem = z
  .strictObject({
    id: ItemId,
    cron: Text(120).optional(),
    at: IsoTime.optional(),
    tz: Text(64).optional(),
    validFrom: IsoTime.optional(),
    validUntil: IsoTime.optional(),
    priority: z.enum(['normal', 'priority']).default('normal'),
    ...PlayOptions,
  })
  .refine((i) => (i.cron === undefined) !== (i.at === undefined), {
    message: 'an item needs exactly one of cron or at',
  });
export type ScheduleItem = z.infer<typeof ScheduleItem>;

export const ScheduleBody = z
  .strictObject({
    station: Id,
    version: z.number().int().min(1).max(Number.MAX_SAFE_INTEGER),
    tz: Text(64).default('Asia/Ho_Chi_Minh'),
    items: z.array(ScheduleItem).max(1000),
  })
  .refine((s) => new Set(s.items.map((i) => i.id)).size === s.items.length, {
    message: 'item ids must be unique',
    path: ['items'],
  });
export type ScheduleBody = z.infer<typeof ScheduleBody>;

export const AnnounceBody = z.strictObject({
  at: IsoTime.optional(),
  priority: z.enum(['normal', 'priority']).default('normal'),
  ...PlayOptions,
});
export type AnnounceBody = z.infer<typeof AnnounceBody>;

export const AlertBody = z.strictObject({
  title: Text(200).default(''),
  /** A test alert is labelled test in every ack and report and needs one signature. */
  test: z.boolean(),
  zones: z.array(Id).min(1).max(64).optional(),
  repeat: z.number().int().min(1).max(20).default(1),
  gapSec: z.number().int().min(0).max(3600).default(0),
  maxDurationSec: z
    .number()
    .int()
    .min(1)
    .max(4 * 3600)
    .optional(),
  /** Set on the correction that `loa alert cancel` sends. */
  correctionOf: Id.optional(),
  audio: AudioRef,
});
export type AlertBody = z.infer<typeof AlertBody>;

export const CancelBody = z.strictObject({
  broadcastId: Id,
  reason: Text(500).optional(),
});
export type CancelBody = z.infer<typeof CancelBody>;

export const ControlBody = z.discriminatedUnion('action', [
  z.strictObject({ action: z.literal('volume'), zone: Id.optional(), volume: z.number().int().min(0).max(100) }),
  /** Non-emergency audio goes off air and stays off until `resume` (emergencies are exempt). */
  z.strictObject({ action: z.literal('stop') }),
  z.strictObject({ action: z.literal('resume') }),
  z.strictObject({ action: z.literal('rebirth') }),
  z.strictObject({ action: z.literal('resync') }),
]);
export type ControlBody = z.infer<typeof ControlBody>;

export const BODY_SCHEMAS = {
  schedule: ScheduleBody,
  announce: AnnounceBody,
  alert: AlertBody,
  cancel: CancelBody,
  control: ControlBody,
} as const;
export type BodyOf<T extends SignedType> = z.infer<(typeof BODY_SCHEMAS)[T]>;

// ---- signed envelope ---------------------------------------------------------------------

export const Target = z
  .strictObject({
    stations: z.array(Id).max(10_000).optional(),
    groups: z.array(Id).max(1000).optional(),
    all: z.boolean().optional(),
  })
  .refine((t) => t.all === true || (t.stations?.length ?? 0) + (t.groups?.length ?? 0) > 0, {
    message: 'target names no station, group or all',
  });
export type Target = z.infer<typeof Target>;

export const Signature = z.strictObject({
  key: Id,
  sig: z.string().regex(/^[A-Za-z0-9+/]{86}==$/, 'expected a base64 Ed25519 signature'),
});
export type Signature = z.infer<typeof Signature>;

export const EnvelopeShape = z.strictObject({
  v: z.literal(PROTOCOL_VERSION),
  id: Id,
  type: SignedType,
  issuer: Id,
  seq: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
  issuedAt: IsoTime,
  expiresAt: IsoTime,
  target: Target,
  body: z.unknown(),
  sigs: z.array(Signature).min(1).max(8),
});
export type UnsignedEnvelope = Omit<z.infer<typeof EnvelopeShape>, 'sigs'>;
export type SignedEnvelope = z.infer<typeof EnvelopeShape>;

/** An envelope whose body has been parsed by the schema of its type. */
export type Command =
  | (Omit<SignedEnvelope, 'type' | 'body'> & { type: 'schedule'; body: ScheduleBody })
  | (Omit<SignedEnvelope, 'type' | 'body'> & { type: 'announce'; body: AnnounceBody })
  | (Omit<SignedEnvelope, 'type' | 'body'> & { type: 'alert'; body: AlertBody })
  | (Omit<SignedEnvelope, 'type' | 'body'> & { type: 'cancel'; body: CancelBody })
  | (Omit<SignedEnvelope, 'type' | 'body'> & { type: 'control'; body: ControlBody });

// ---- station -> central ------------------------------------------------------------------

export const ACK_STATES = ['received', 'rejected', 'applied', 'scheduled', 'started', 'completed', 'failed', 'preempted', 'cancelled', 'missed'] as const;
export const AckState = z.enum(ACK_STATES);
export type AckState = z.infer<typeof AckState>;

export const Ack = z.strictObject({
  v: z.literal(PROTOCOL_VERSION),
  type: z.literal('ack'),
  /** `<station>:<db>:<seq>`: stable across replays so the collector deduplicates. */
  id: z.string().regex(/^[a-z0-9-]{1,64}:[a-f0-9]{16}:[0-9]{1,16}$/),
  station: Id,
  /**
   * The station database that numbered this ack: random, made when the store is created. A
   * replaced, re-imaged or reset store starts a new numbering that can never collide with one
   * the collector already holds, whatever the box's clock says.
   */
  db: StoreId,
  seq: z.number().int().min(1).max(Number.MAX_SAFE_INTEGER),
  epoch: z.number().int().min(0),
  state: AckState,
  /** Envelope id of the command or schedule this ack is about (absent when unparseable). */
  commandId: Id.optional(),
  commandType: SignedType.optional(),
  /** Announce/alert: its envelope id. Schedule occurrence: `<itemId>-<plannedEpochSeconds>`. */
  broadcastId: Id.optional(),
  itemId: Id.optional(),
  priority: Priority.optional(),
  zones: z.array(Id),
  plannedAt: IsoTime.optional(),
  startedAt: IsoTime.optional(),
  endedAt: IsoTime.optional(),
  at: IsoTime,
  sha256: Sha256.optional(),
  reason: Text(200).optional(),
  detail: Text(2000).optional(),
  scheduleVersion: z.number().int().min(1).optional(),
  url: Text(2048).optional(),
  test: z.boolean().optional(),
  historical: z.boolean(),
});
export type Ack = z.infer<typeof Ack>;

export const ZoneInfo = z.strictObject({ id: Id, name: Text(200) });

/** Why a station started with a fresh store (its old database was unreadable). */
export const StoreReset = z.strictObject({
  at: IsoTime,
  reason: Text(500),
  /** Where the unreadable file was moved for inspection. */
  movedTo: Text(500),
});
export type StoreReset = z.infer<typeof StoreReset>;

export const StationState = z.strictObject({
  v: z.literal(PROTOCOL_VERSION),
  type: z.literal('state'),
  station: Id,
  online: z.boolean(),
  epoch: z.number().int().min(0),
  at: IsoTime.optional(),
  software: Text(64).optional(),
  name: Text(200).optional(),
  groups: z.array(Id).optional(),
  zones: z.array(ZoneInfo).optional(),
  scheduleVersion: z.number().int().min(1).nullable().optional(),
  /** The store id acks of this connection are numbered in. */
  db: StoreId.optional(),
  storeReset: StoreReset.optional(),
});
export type StationState = z.infer<typeof StationState>;

export const Telemetry = z.strictObject({
  v: z.literal(PROTOCOL_VERSION),
  type: z.literal('telemetry'),
  station: Id,
  epoch: z.number().int().min(0),
  at: IsoTime,
  nowPlaying: z.array(
    z.strictObject({
      zone: Id,
      broadcastId: Id.optional(),
      itemId: Id.optional(),
      priority: Priority,
      title: Text(200).optional(),
      since: IsoTime,
    }),
  ),
  queue: z.number().int().min(0),
  zones: z.array(z.strictObject({ id: Id, onAir: z.boolean(), volume: z.number().int().min(0).max(100) })),
  diskFreeBytes: z.number().int().min(0).nullable(),
  cacheBytes: z.number().int().min(0),
  ffmpegOk: z.boolean(),
  scheduleVersion: z.number().int().min(1).nullable(),
  outboxDepth: z.number().int().min(0),
  /** How often the station sends telemetry: central judges "silent too long" against it. */
  intervalSec: z.number().int().min(1).max(86_400).optional(),
  lastError: Text(500).optional(),
  /** The station's clock minus the collector's, from the last live central/state heartbeat. */
  clockOffsetMs: z.number().int().optional(),
  /** The store refuses writes (disk full, read-only, I/O error): commands are not being acknowledged. */
  storeFault: Text(500).optional(),
  /** Operator `stop` in force: only emergencies air until `resume`. */
  stopped: z.boolean().optional(),
  storeReset: StoreReset.optional(),
});
export type Telemetry = z.infer<typeof Telemetry>;

// ---- central -> station ------------------------------------------------------------------

export const Receipt = z.strictObject({
  v: z.literal(PROTOCOL_VERSION),
  type: z.literal('receipt'),
  station: Id,
  /** The station store whose seqs these are; a receipt for another store is ignored. */
  db: StoreId,
  /** Ack seqs the central database holds durably; the station may drop them from its outbox. */
  seqs: z.array(z.number().int().min(1)).max(10_000),
});
export type Receipt = z.infer<typeof Receipt>;

export const CentralState = z.strictObject({
  v: z.literal(PROTOCOL_VERSION),
  type: z.literal('central-state'),
  online: z.boolean(),
  at: IsoTime.optional(),
  /** Collectors alive (several `loa collect --shared` share the acks); absent with a single collector. */
  collectors: z.number().int().min(0).max(10_000).optional(),
  /**
   * Names the set of live collectors; it changes when one joins or dies. A station re-sends every
   * unreceipted ack when it changes: a collector that died may have taken acks with it.
   */
  view: z
    .string()
    .regex(/^[a-f0-9]{8,64}$/, 'expected 8-64 lowercase hex digits')
    .optional(),
});
export type CentralState = z.infer<typeof CentralState>;

/** MQTT client ids the central user picks (the fleet's `broker.clientId`, `loa collect --client-id`). */
export const CLIENT_ID_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;

// ---- central -> central ------------------------------------------------------------------

/** A collector's own presence (retained on central/collector/<id>, its will says offline): collectors derive central/state from these. */
export const CollectorState = z.strictObject({
  v: z.literal(PROTOCOL_VERSION),
  type: z.literal('collector-state'),
  id: z.string().regex(CLIENT_ID_PATTERN, 'expected [A-Za-z0-9_-]{1,64}'),
  online: z.boolean(),
  at: IsoTime,
  /** When this collector process started: a restart under the same client id is a new member. */
  since: IsoTime,
});
export type CollectorState = z.infer<typeof CollectorState>;
