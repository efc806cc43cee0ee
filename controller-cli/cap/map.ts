// Parsed CAP message + fleet context → alert-draft plan. Pure and deterministic: no clock, no
// I/O, no locale-dependent sorting; the same message and context give a deeply equal plan.
// The plan is what `loa cap import --dry-run` shows and what the draft/approve flow starts from.
import { inCircle, type LatLon, pointInPolygon } from './geo.js';
import {
  type CapAlert,
  type CapArea,
  type CapCertainty,
  type CapInfo,
  type CapMsgType,
  type CapReference,
  type CapSeverity,
  type CapStatus,
  type CapUrgency,
  capTimeMs,
} from './parse.js';

export interface CapStation {
  id: string;
  groups: string[];
  location?: LatLon;
}

/** A fleet `cap.areas` row: this geocode means these station or group ids. */
export interface CapAreaRule {
  valueName: string;
  value: string;
  targets: string[];
}

export interface CapTextParts {
  language: string;
  event: string;
  /** Falls back to event. */
  headline: string;
  description?: string;
  instruction?: string;
}

export interface CapContext {
  /** ms since the epoch: expiry and validity are judged as of this instant. */
  now: number;
  stations: CapStation[];
  /** Group ids that exist in the fleet. */
  groups: string[];
  areas: CapAreaRule[];
  /** Fleet `cap.languages` preference list, after vi-VN / vi. */
  languages: string[];
  /** Trusted senders (fleet `cap.sources`). */
  sources: { sender: string; url?: string }[];
  repeatPolicy?: { immediateSevere?: number; immediateExtreme?: number };
  template?: (parts: CapTextParts) => string;
}

export type CapAction = 'alert' | 'update' | 'cancel' | 'ignore' | 'refuse';

export interface CapAudio {
  uri?: string;
  derefBase64?: string;
  mimeType: string;
  size?: number;
  digest?: string;
}

export interface CapOtherLanguage {
  language: string;
  headline?: string;
  description?: string;
  instruction?: string;
}

export interface CapPlan {
  identifier: string;
  sender: string;
  sent: string;
  status: CapStatus;
  msgType: CapMsgType;
  action: CapAction;
  reason?: string;
  test: boolean;
  language?: string;
  headline?: string;
  text?: string;
  /** Station ids, sorted, unique. Always empty when action is refuse or ignore. */
  targets: string[];
  /** ISO-8601 UTC with Z. Absent: the caller applies its default lifetime. */
  expiresAt?: string;
  effectiveAt?: string;
  onsetAt?: string;
  references: CapReference[];
  urgency?: CapUrgency;
  severity?: CapSeverity;
  certainty?: CapCertainty;
  event?: string;
  repeat: number;
  otherLanguages: CapOtherLanguage[];
  audio?: CapAudio;
  areaDescs: string[];
}

/** A sender's clock may run a little fast; more than this is refused. */
export const MAX_SENT_AHEAD_MS = 5 * 60_000;
export const MAX_REPEAT = 20;

/** Idempotency key: CAP defines a message by sender, identifier and sent together. */
export function capKey(msg: Pick<CapAlert, 'sender' | 'identifier' | 'sent'>): string {
  return `${msg.sender},${msg.identifier},${msg.sent}`;
}

/** Headline, description, instruction as sentences: ". " between parts unless one already ends a sentence. */
export function defaultCapTemplate(parts: CapTextParts): string {
  const pieces = [parts.headline, parts.description, parts.instruction].map((p) => (p ?? '').replace(/\s+/g, ' ').trim()).filter((p) => p !== '');
  return pieces.reduce((acc, p) => (acc === '' ? p : `${acc}${/[.!?…:;]$/.test(acc) ? ' ' : '. '}${p}`), '');
}

const primary = (tag: string): string => tag.toLowerCase().split('-')[0];

/**
 * Index of the info block to broadcast: vi-VN, then any vi, then each preference (exact, then
 * primary subtag), then the first block. -1 when there is none. Tags compare case-insensitively
 * (BCP 47) except the first tier, which is the exact canonical vi-VN.
 */
export function chooseInfo(info: readonly CapInfo[], preferences: readonly string[]): number {
  if (info.length === 0) return -1;
  const tiers: ((lang: string) => boolean)[] = [
    (l) => l === 'vi-VN',
    (l) => primary(l) === 'vi',
    ...preferences.flatMap((pref) => [(l: string) => l.toLowerCase() === pref.toLowerCase(), (l: string) => primary(l) === primary(pref)]),
  ];
  for (const tier of tiers) {
    const i = info.findIndex((x) => tier(x.language));
    if (i >= 0) return i;
  }
  return 0;
}

function utcIso(capTime: string): string {
  return new Date(capTimeMs(capTime)!).toISOString().replace('.000Z', 'Z');
}

function repeatCount(info: CapInfo, policy: CapContext['repeatPolicy']): number {
  let n = 1;
  if (info.urgency === 'Immediate' && info.severity === 'Extreme') n = policy?.immediateExtreme ?? 1;
  else if (info.urgency === 'Immediate' && info.severity === 'Severe') n = policy?.immediateSevere ?? 1;
  return Number.isFinite(n) ? Math.min(MAX_REPEAT, Math.max(1, Math.round(n))) : 1;
}

function audioOf(info: CapInfo): CapAudio | undefined {
  // A resource with neither uri nor derefUri cannot be played; look further.
  const r = info.resource.find((x) => x.mimeType.toLowerCase().startsWith('audio/') && (x.uri !== undefined || x.derefUri !== undefined));
  if (!r) return undefined;
  const audio: CapAudio = { mimeType: r.mimeType };
  if (r.uri !== undefined) audio.uri = r.uri;
  if (r.derefUri !== undefined) audio.derefBase64 = r.derefUri;
  if (r.size !== undefined) audio.size = r.size;
  if (r.digest !== undefined) audio.digest = r.digest;
  return audio;
}

function describe(info: CapInfo): CapOtherLanguage {
  const o: CapOtherLanguage = { language: info.language, headline: info.headline ?? info.event };
  if (info.description !== undefined) o.description = info.description;
  if (info.instruction !== undefined) o.instruction = info.instruction;
  return o;
}

type Resolved = { ok: true; stations: Set<string> } | { ok: false; reason: string };

/** Stations one area reaches: geocodes via cap.areas, polygons and circles via station locations. */
function areaStations(area: CapArea, ctx: CapContext): Resolved {
  const stations = new Set<string>();
  const groups = new Set(ctx.groups);
  for (const gc of area.geocode) {
    for (const rule of ctx.areas) {
      if (rule.valueName !== gc.valueName || rule.value !== gc.value) continue;
      for (const id of rule.targets) {
        if (ctx.stations.some((s) => s.id === id)) {
          stations.add(id);
        } else if (groups.has(id)) {
          for (const s of ctx.stations) if (s.groups.includes(id)) stations.add(s.id);
        } else {
          return { ok: false, reason: `cap.areas row ${rule.valueName}=${rule.value} targets "${id}", which is neither a station nor a group` };
        }
      }
    }
  }
  for (const s of ctx.stations) {
    const at = s.location;
    if (!at) continue; // unlocated stations are reached by geocode only
    if (area.polygon.some((ring) => pointInPolygon(at, ring)) || area.circle.some((c) => inCircle(at, c))) stations.add(s.id);
  }
  return { ok: true, stations };
}

export function planCapMessage(msg: CapAlert, ctx: CapContext): CapPlan {
  const base: CapPlan = {
    identifier: msg.identifier,
    sender: msg.sender,
    sent: msg.sent,
    status: msg.status,
    msgType: msg.msgType,
    action: 'ignore',
    test: msg.status !== 'Actual',
    targets: [],
    references: msg.references.map((r) => ({ ...r })),
    repeat: 1,
    otherLanguages: [],
    areaDescs: [],
  };
  const stop = (action: 'refuse' | 'ignore', reason: string, plan: CapPlan = base): CapPlan => ({ ...plan, action, reason, targets: [] });

  // Untrusted senders get nothing else looked at: not even their text reaches the plan.
  if (!ctx.sources.some((s) => s.sender === msg.sender)) return stop('refuse', `sender "${msg.sender}" is not a trusted cap.sources sender`);
  if (msg.status === 'System' || msg.status === 'Draft') return stop('ignore', `status ${msg.status} is not meant for the public`);
  if (msg.msgType === 'Ack' || msg.msgType === 'Error') return stop('ignore', `msgType ${msg.msgType} is a reply between systems, not an alert`);

  const action = msg.msgType === 'Alert' ? 'alert' : msg.msgType === 'Update' ? 'update' : 'cancel';
  const chosen = chooseInfo(msg.info, ctx.languages);
  const info = chosen >= 0 ? msg.info[chosen] : undefined;
  const plan: CapPlan = { ...base, action, otherLanguages: msg.info.filter((_, i) => i !== chosen).map(describe) };
  if (info) {
    const headline = info.headline ?? info.event;
    const parts: CapTextParts = { language: info.language, event: info.event, headline };
    if (info.description !== undefined) parts.description = info.description;
    if (info.instruction !== undefined) parts.instruction = info.instruction;
    Object.assign(plan, {
      language: info.language,
      headline,
      text: (ctx.template ?? defaultCapTemplate)(parts),
      event: info.event,
      urgency: info.urgency,
      severity: info.severity,
      certainty: info.certainty,
      repeat: repeatCount(info, ctx.repeatPolicy),
      areaDescs: info.area.map((a) => a.areaDesc),
    });
    if (info.expires !== undefined) plan.expiresAt = utcIso(info.expires);
    if (info.effective !== undefined) plan.effectiveAt = utcIso(info.effective);
    if (info.onset !== undefined) plan.onsetAt = utcIso(info.onset);
    const audio = audioOf(info);
    if (audio) plan.audio = audio;
  }

  if (capTimeMs(msg.sent)! - ctx.now > MAX_SENT_AHEAD_MS) return stop('refuse', `sent in the future: ${utcIso(msg.sent)}`, plan);
  if (action !== 'alert' && msg.references.length === 0) return stop('refuse', `${msg.msgType} without <references>: nothing to ${action}`, plan);
  if (!info) {
    // A Cancel needs no info: it follows the referenced alert to wherever that went.
    return action === 'cancel' ? plan : stop('refuse', `${msg.msgType} has no <info> block: nothing to announce`, plan);
  }
  if (plan.expiresAt !== undefined && capTimeMs(info.expires!)! <= ctx.now) return stop('refuse', `expired at ${plan.expiresAt}`, plan);

  const targets = new Set<string>();
  for (const area of info.area) {
    const r = areaStations(area, ctx);
    // A Cancel only stops something already playing, so its area never blocks it; an alert
    // that cannot be placed is refused, never widened to "all".
    if (action === 'cancel') {
      if (r.ok) r.stations.forEach((s) => targets.add(s));
      continue;
    }
    if (!r.ok) return stop('refuse', r.reason, plan);
    if (r.stations.size === 0) return stop('refuse', `area "${area.areaDesc}" matches no station`, plan);
    r.stations.forEach((s) => targets.add(s));
  }
  if (action !== 'cancel' && info.area.length === 0) return stop('refuse', 'no <area>: refusing to guess where to broadcast', plan);
  plan.targets = [...targets].sort();
  return plan;
}
