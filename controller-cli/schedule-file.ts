import { z } from 'zod';
import { t } from '../io/i18n.js';
import { type AudioRef, canonicalJson, cronError, IsoTime, ItemId, ScheduleBody, ScheduleItem, Sha256, StreamRef, timezoneError } from '../protocol/index.js';
import { mediaStoreDir, speechCacheDir } from './audio-source.js';
import { ConfigFile, type KeyPath } from './config-file.js';
import { type Fleet, resolveFrom, stationsOfGroup } from './fleet.js';
import { storedMediaPath, storeMedia } from './media.js';
import { DEFAULT_VOICE, synthesise } from './speech.js';

const Targets = z.union([z.string().min(1), z.array(z.string().min(1)).min(1)], { error: 'expected a station id, group id or all, or a list of them' });

/** The authoring format: targets and file/tts/stream audio, compiled to one ScheduleBody per station. */
const AuthoredItem = z
  .strictObject({
    id: ItemId,
    to: Targets,
    cron: z.string().optional(),
    at: IsoTime.optional(),
    tz: z.string().optional(),
    validFrom: IsoTime.optional(),
    validUntil: IsoTime.optional(),
    priority: z.enum(['normal', 'priority']).optional(),
    title: z.string().max(200).optional(),
    zones: z.array(z.string()).min(1).optional(),
    volume: z.number().int().min(0).max(100).optional(),
    chime: z.boolean().optional(),
    repeat: z.number().int().min(1).max(20).optional(),
    gapSec: z.number().int().min(0).max(3600).optional(),
    maxDurationSec: z
      .number()
      .int()
      .min(1)
      .max(4 * 3600)
      .optional(),
    policy: z.enum(['interrupt', 'wait']).optional(),
    maxDelaySec: z.number().int().min(0).max(86_400).optional(),
    file: z.string().min(1).optional(),
    /** A clip already in the central media store (uploaded or recorded in the console), by its sha256. */
    media: Sha256.optional(),
    tts: z.strictObject({ text: z.string().min(1).max(5000), voice: z.string().default(DEFAULT_VOICE) }).optional(),
    stream: z.strictObject({ urls: StreamRef.shape.urls, durationSec: StreamRef.shape.durationSec }).optional(),
  })
  .refine((i) => (i.cron === undefined) !== (i.at === undefined), { message: 'expected exactly one of cron or at' })
  .refine((i) => [i.file, i.media, i.tts, i.stream].filter((x) => x !== undefined).length === 1, { message: 'expected exactly one of file, media, tts or stream' });
type AuthoredItem = z.infer<typeof AuthoredItem>;

const ScheduleFileSchema = z.strictObject({
  tz: z.string().optional(),
  items: z.array(z.unknown()).default([]),
});

export interface LoadedItem {
  file: ConfigFile;
  index: number;
  item: AuthoredItem;
  stations: string[];
}

export interface LoadedSchedules {
  files: string[];
  tz: string;
  items: LoadedItem[];
}

const PLACEHOLDER: AudioRef = { kind: 'media', sha256: '0'.repeat(64), size: 1 };

export function loadScheduleFiles(fleet: Fleet, paths: string[]): LoadedSchedules {
  return loadScheduleSources(
    fleet,
    paths.map((p) => ConfigFile.read(p)),
  );
}

/** Schedules from already-read YAML (files, or the console's editor text). */
export function loadScheduleSources(fleet: Fleet, sources: ConfigFile[]): LoadedSchedules {
  const items: LoadedItem[] = [];
  let tz = fleet.timezone;
  for (const file of sources) {
    const top = file.parse(ScheduleFileSchema);
    if (top.tz !== undefined) {
      if (timezoneError(top.tz)) throw file.error(['tz'], t('fleet.expectedTimezone'));
      tz = top.tz;
    }
    top.items.forEach((raw, index) => {
      const at: KeyPath = ['items', index];
      const item = file.parse(AuthoredItem, raw, at);
      const itemTz = item.tz ?? tz;
      if (item.tz !== undefined && timezoneError(item.tz)) throw file.error([...at, 'tz'], t('fleet.expectedTimezone'));
      if (item.cron !== undefined) {
        const err = cronError(item.cron, itemTz);
        if (err) throw file.error([...at, 'cron'], t('schedule.badCron', { reason: err }));
      }
      const stations = expandTo(fleet, file, item, at);
      for (const [zi, z] of (item.zones ?? []).entries()) {
        const lacking = stations.filter((s) => !fleet.stations.find((x) => x.id === s)!.zones.some((q) => q.id === z));
        if (lacking.length > 0) throw file.error([...at, 'zones', zi], t('schedule.unknownZone', { zone: z, stations: lacking.join(', ') }));
      }
      // Full protocol check now, with a placeholder clip, so every mistake is reported with its line.
      file.parse(ScheduleItem, toProtocolItem(item, PLACEHOLDER), at);
      for (const s of stations) {
        const clash = items.find((o) => o.item.id === item.id && o.stations.includes(s));
        if (clash) throw file.error([...at, 'id'], t('schedule.duplicateItem', { id: item.id, station: s, other: `${clash.file.path}:items[${clash.index}]` }));
      }
      items.push({ file, index, item, stations });
    });
  }
  return { files: sources.map((f) => f.path), tz, items };
}

function expandTo(fleet: Fleet, file: ConfigFile, item: AuthoredItem, at: KeyPath): string[] {
  const names = Array.isArray(item.to) ? item.to : item.to.split(',').map((s) => s.trim());
  const out = new Set<string>();
  names.forEach((n, i) => {
    if (n === 'all') fleet.stations.forEach((s) => out.add(s.id));
    else if (fleet.stations.some((s) => s.id === n)) out.add(n);
    else if (fleet.groups.some((g) => g.id === n)) stationsOfGroup(fleet, n).forEach((s) => out.add(s.id));
    else
      throw file.error(
        [...at, 'to', ...(Array.isArray(item.to) ? [i] : [])],
        t('targets.unknown', { id: n, known: ['all', ...fleet.groups.map((g) => g.id), ...fleet.stations.map((s) => s.id)].join(', ') }),
      );
  });
  return fleet.stations.map((s) => s.id).filter((id) => out.has(id));
}

function toProtocolItem(item: AuthoredItem, audio: AudioRef): unknown {
  const { to: _to, file: _file, media: _media, tts: _tts, stream: _stream, ...rest } = item;
  return { ...rest, audio };
}

/** Schedule bodies with a placeholder clip: enough for `next`, which only needs the times. */
export function timingBodies(fleet: Fleet, loaded: LoadedSchedules, only?: string[]): Map<string, ScheduleBody> {
  const out = new Map<string, ScheduleBody>();
  for (const s of fleet.stations) {
    if (only && !only.includes(s.id)) continue;
    const mine = loaded.items.filter((i) => i.stations.includes(s.id));
    if (!only && mine.length === 0) continue;
    out.set(s.id, ScheduleBody.parse({ station: s.id, version: 1, tz: loaded.tz, items: mine.map((i) => toProtocolItem(i.item, PLACEHOLDER)) }));
  }
  return out;
}

export interface CompiledSchedules {
  /** Items per station, version not yet assigned. */
  items: Map<string, ScheduleBody['items']>;
  tz: string;
  media: Set<string>;
}

/** Resolve audio: files are hashed and stored, speech is synthesised, streams pass through. */
export async function compileSchedules(fleet: Fleet, loaded: LoadedSchedules, only?: string[]): Promise<CompiledSchedules> {
  const media = new Set<string>();
  const audioOf = new Map<LoadedItem, AudioRef>();
  for (const li of loaded.items) {
    const { item, file, index } = li;
    let audio: AudioRef;
    if (item.stream) audio = { kind: 'stream', urls: item.stream.urls, durationSec: item.stream.durationSec };
    else if (item.tts) {
      const wav = await synthesise(speechCacheDir(fleet), item.tts.text, item.tts.voice);
      audio = storeMedia(mediaStoreDir(fleet), wav, { text: item.tts.text, voice: item.tts.voice }).ref;
    } else if (item.media) {
      const path = storedMediaPath(mediaStoreDir(fleet), item.media);
      try {
        audio = storeMedia(mediaStoreDir(fleet), path).ref;
      } catch {
        throw file.error(['items', index, 'media'], t('schedule.unknownMedia', { sha256: item.media }));
      }
    } else {
      const path = resolveFrom(file.path, item.file!);
      try {
        audio = storeMedia(mediaStoreDir(fleet), path).ref;
      } catch (e) {
        throw file.error(['items', index, 'file'], (e as Error).message);
      }
    }
    if (audio.kind === 'media') media.add(audio.sha256);
    audioOf.set(li, audio);
  }
  const items = new Map<string, ScheduleBody['items']>();
  for (const s of fleet.stations) {
    if (only && !only.includes(s.id)) continue;
    const mine = loaded.items.filter((i) => i.stations.includes(s.id));
    if (!only && mine.length === 0) continue;
    items.set(
      s.id,
      mine.map((li) => ScheduleItem.parse(toProtocolItem(li.item, audioOf.get(li)!))),
    );
  }
  return { items, tz: loaded.tz, media };
}

/**
 * The authoring text of what stations hold now: each item once, with the stations that carry it
 * identically as its `to` (a group or `all` when that is exactly who has it). Audio becomes
 * `tts` when it was speech, else `media` (the clip in the central store), or `stream`.
 */
export function decompileSchedules(fleet: Fleet, perStation: Map<string, ScheduleBody['items']>): { tz: string; items: Record<string, unknown>[] } {
  const byContent = new Map<string, { item: ScheduleBody['items'][number]; stations: string[] }>();
  for (const s of fleet.stations) {
    for (const item of perStation.get(s.id) ?? []) {
      const key = canonicalJson(item);
      const entry = byContent.get(key) ?? { item, stations: [] };
      entry.stations.push(s.id);
      byContent.set(key, entry);
    }
  }
  const toOf = (stations: string[]): string | string[] => {
    if (stations.length === fleet.stations.length) return 'all';
    const group = fleet.groups.find((g) => {
      const members = stationsOfGroup(fleet, g.id).map((m) => m.id);
      return members.length === stations.length && members.every((m) => stations.includes(m));
    });
    if (group) return group.id;
    return stations.length === 1 ? stations[0]! : stations;
  };
  const items = [...byContent.values()].map(({ item, stations }) => {
    const { audio, ...rest } = item;
    const source =
      audio.kind === 'stream'
        ? { stream: { urls: audio.urls, durationSec: audio.durationSec } }
        : audio.tts
          ? { tts: { text: audio.tts.text, voice: audio.tts.voice } }
          : { media: audio.sha256 };
    // Defaults the protocol filled in are left out, so the text reads as a person wrote it.
    const out: Record<string, unknown> = { id: rest.id, to: toOf(stations) };
    for (const [k, v] of Object.entries(rest)) {
      if (k === 'id' || v === undefined) continue;
      if ((k === 'title' && v === '') || (k === 'chime' && v === false) || (k === 'repeat' && v === 1) || (k === 'gapSec' && v === 0)) continue;
      if ((k === 'policy' && v === 'wait') || (k === 'maxDelaySec' && v === 300) || (k === 'priority' && v === 'normal')) continue;
      out[k] = v;
    }
    return { ...out, ...source };
  });
  return { tz: fleet.timezone, items };
}
