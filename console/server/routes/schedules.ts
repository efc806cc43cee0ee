// Schedules in the console: the coming week as stations will compute it (the protocol's own
// expansion), an editor whose mistakes are reported by the CLI's schema with line and key
// path, a diff against what stations applied, and a signed push.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { stringify } from 'yaml';
import { z } from 'zod';
import { mediaStoreDir } from '../../../controller-cli/audio-source.js';
import { issueCommand } from '../../../controller-cli/command-issue.js';
import { ConfigError, ConfigFile } from '../../../controller-cli/config-file.js';
import { CliError } from '../../../controller-cli/errors.js';
import { type Fleet, quietHoursOf } from '../../../controller-cli/fleet.js';
import { publishMedia } from '../../../controller-cli/media.js';
import { compileSchedules, decompileSchedules, type LoadedSchedules, loadScheduleSources, timingBodies } from '../../../controller-cli/schedule-file.js';
import { publishAsync } from '../../../io/mqtt.js';
import { canonicalJson, DEFAULT_TTL_MS, isQuietTime, localMinutesOf, occurrencesBetween, ScheduleBody } from '../../../protocol/index.js';
import { audit, type ConsoleContext, fail, requireAction, scopeOfSession } from '../context.js';
import type { Session } from '../sessions.js';
import { signerOf } from './announce.js';

const WEEK_MS = 7 * 86_400_000;
/** Outside 05:30–21:00 local, an airing gets a second look even if no quiet hours cover it. */
const EARLY_MIN = 5 * 60 + 30;
const LATE_MIN = 21 * 60;

export interface Airing {
  station: string;
  plannedAt: string;
  itemId: string;
  title: string;
  priority: string;
  flags: ('quiet' | 'early' | 'late')[];
}

const Edit = z.strictObject({ stations: z.array(z.string().max(64)).min(1).max(2000), text: z.string().max(512 * 1024) });

function stationsParam(ctx: ConsoleContext, s: Session, list: string[] | undefined): string[] {
  const scope = scopeOfSession(ctx, s);
  if (!list || list.length === 0) return ctx.fleet.stations.map((x) => x.id).filter((id) => scope.has(id));
  const outside = list.filter((id) => !scope.has(id));
  if (outside.length > 0) throw fail(403, `not in your stations: ${outside.join(', ')}`, { path: 'stations' });
  return ctx.fleet.stations.map((x) => x.id).filter((id) => list.includes(id));
}

/** The next week of airings, flagged where a person should look twice. */
export function weekOf(fleet: Fleet, bodies: Map<string, ScheduleBody>, from: number): Airing[] {
  const out: Airing[] = [];
  for (const [station, body] of bodies) {
    const st = fleet.stations.find((s) => s.id === station)!;
    const quiet = quietHoursOf(fleet, st);
    for (const occ of occurrencesBetween(body, from, from + WEEK_MS, 500)) {
      const minutes = localMinutesOf(occ.plannedAt, occ.item.tz ?? body.tz);
      const flags: Airing['flags'] = [];
      if (isQuietTime(minutes, quiet)) flags.push('quiet');
      if (minutes < EARLY_MIN) flags.push('early');
      if (minutes >= LATE_MIN) flags.push('late');
      out.push({ station, plannedAt: new Date(occ.plannedAt).toISOString(), itemId: occ.item.id, title: occ.item.title, priority: occ.item.priority, flags });
    }
  }
  return out.sort((a, b) => a.plannedAt.localeCompare(b.plannedAt) || a.station.localeCompare(b.station));
}

/** Parse and check the editor's text: every mistake comes back with its line and key path. */
function load(ctx: ConsoleContext, stations: string[], text: string): LoadedSchedules {
  let loaded: LoadedSchedules;
  try {
    loaded = loadScheduleSources(ctx.fleet, [ConfigFile.fromText(text, 'schedule')]);
  } catch (e) {
    if (e instanceof ConfigError) throw fail(400, e.message, { path: e.keyPath, ...(e.line !== undefined ? { line: e.line } : {}) });
    if (e instanceof CliError) {
      const line = /line (\d+)/.exec(e.message)?.[1];
      throw fail(400, e.message, line ? { line: Number(line) } : {});
    }
    throw e;
  }
  // Items may only reach the stations being edited (which are within the user's scope).
  for (const li of loaded.items) {
    const outside = li.stations.filter((s) => !stations.includes(s));
    if (outside.length > 0) {
      const file = li.file;
      throw fail(403, `items[${li.index}].to reaches stations outside this edit: ${outside.join(', ')}`, {
        path: `items[${li.index}].to`,
        line: file.lineOf(['items', li.index, 'to']) ?? 0,
      });
    }
  }
  return loaded;
}

async function pushed(ctx: ConsoleContext, stations: string[]) {
  const out = new Map<string, { version: number; items: ScheduleBody['items']; body: ScheduleBody | null; pushedAt: number }>();
  for (const id of stations) {
    const last = await ctx.db.lastPushed(id);
    if (!last) continue;
    const envelope = JSON.parse(last.envelope) as { body: unknown };
    const body = ScheduleBody.safeParse(envelope.body);
    out.set(id, { version: last.version, items: JSON.parse(last.items_json) as ScheduleBody['items'], body: body.success ? body.data : null, pushedAt: last.pushed_at });
  }
  return out;
}

function diffOf(before: ScheduleBody['items'], after: ScheduleBody['items']) {
  const a = new Map(before.map((i) => [i.id, canonicalJson(i)]));
  const b = new Map(after.map((i) => [i.id, canonicalJson(i)]));
  return {
    added: [...b.keys()].filter((k) => !a.has(k)),
    removed: [...a.keys()].filter((k) => !b.has(k)),
    changed: [...b.keys()].filter((k) => a.has(k) && a.get(k) !== b.get(k)),
  };
}

export async function schedulesRoutes(app: FastifyInstance, ctx: ConsoleContext): Promise<void> {
  const listOf = (req: FastifyRequest) =>
    ((req.query as { stations?: string }).stations ?? '')
      .split(',')
      .map((x) => x.trim())
      .filter(Boolean);

  /** What the selected stations hold now: the editor's text, versions, and their coming week. */
  app.get('/api/schedules', async (req) => {
    const s = await requireAction(ctx, req, 'view');
    const stations = stationsParam(ctx, s, listOf(req));
    const current = await pushed(ctx, stations);
    const per = new Map([...current].map(([id, p]) => [id, p.items]));
    const doc = decompileSchedules(ctx.fleet, per);
    const bodies = new Map([...current].filter(([, p]) => p.body).map(([id, p]) => [id, p.body!]));
    return {
      text: stringify(doc, { lineWidth: 0 }),
      stations: await Promise.all(
        stations.map(async (id) => ({
          id,
          pushedVersion: current.get(id)?.version ?? null,
          pushedAt: current.get(id)?.pushedAt ?? null,
          appliedVersion: await ctx.db.appliedVersion(id),
          quietHours: quietHoursOf(ctx.fleet, ctx.fleet.stations.find((x) => x.id === id)!),
        })),
      ),
      week: weekOf(ctx.fleet, bodies, Date.now()),
      // Who changed these stations' schedules, whoever they were (scoped to the stations, not the user).
      history: (await ctx.store.audit({ action: 'schedule.', limit: 2000 })).filter((e) => (e.target ?? '').split(',').some((id) => stations.includes(id))).slice(0, 50),
    };
  });

  /** Validate an edit: errors with line and key path, else the diff and the week it would make. */
  app.post('/api/schedules/check', async (req) => {
    const s = await requireAction(ctx, req, 'schedule');
    const edit = Edit.safeParse(req.body);
    if (!edit.success) throw fail(400, 'expected {stations, text}');
    const stations = stationsParam(ctx, s, edit.data.stations);
    const loaded = load(ctx, stations, edit.data.text);
    const bodies = timingBodies(ctx.fleet, loaded, stations);
    const current = await pushed(ctx, stations);
    const diff = stations.map((id) => ({ station: id, ...diffOf(current.get(id)?.items ?? [], bodies.get(id)?.items ?? []) }));
    // Timing bodies carry a placeholder clip: the diff of audio is shown after push only.
    for (const d of diff) d.changed = d.changed.filter((k) => !d.added.includes(k));
    return { ok: true, items: loaded.items.length, diff, week: weekOf(ctx.fleet, bodies, Date.now()) };
  });

  /** Sign and publish one schedule per selected station (an empty one where no item remains). */
  app.post('/api/schedules/push', async (req) => {
    const s = await requireAction(ctx, req, 'schedule');
    const edit = Edit.safeParse(req.body);
    if (!edit.success) throw fail(400, 'expected {stations, text}');
    const stations = stationsParam(ctx, s, edit.data.stations);
    const signer = signerOf(s);
    const loaded = load(ctx, stations, edit.data.text);
    let compiled: Awaited<ReturnType<typeof compileSchedules>>;
    try {
      compiled = await compileSchedules(ctx.fleet, loaded, stations);
    } catch (e) {
      if (e instanceof ConfigError) throw fail(400, e.message, { path: e.keyPath, ...(e.line !== undefined ? { line: e.line } : {}) });
      if (e instanceof CliError) throw fail(400, e.message);
      throw e;
    }
    const client = await ctx.mqtt();
    for (const sha of compiled.media) await publishMedia(client, ctx.fleet.topics, mediaStoreDir(ctx.fleet), sha, ctx.db);
    const current = await pushed(ctx, stations);
    const results: { station: string; version: number; items: number; added: string[]; removed: string[]; changed: string[] }[] = [];
    for (const station of stations) {
      const items = compiled.items.get(station) ?? [];
      const version = Math.max(await ctx.db.lastPushedVersion(station), (await ctx.db.appliedVersion(station)) ?? 0) + 1;
      const body = ScheduleBody.parse({ station, version, tz: compiled.tz, items });
      const now = Date.now();
      const envelope = await issueCommand(ctx.fleet, ctx.db, { type: 'schedule', signer, target: { stations: [station] }, body, now, ttlMs: DEFAULT_TTL_MS.schedule });
      await publishAsync(client, ctx.fleet.topics.schedule(station), JSON.stringify(envelope), { qos: 1, retain: true });
      await ctx.db.recordPushed(station, version, JSON.stringify(items), envelope, now);
      ctx.live.schedulePushed(station, version);
      results.push({ station, version, items: items.length, ...diffOf(current.get(station)?.items ?? [], items) });
    }
    const summary = results.map((r) => `${r.station} v${r.version}: +${r.added.join(',') || '0'} -${r.removed.join(',') || '0'} ~${r.changed.join(',') || '0'}`).join('; ');
    await audit(ctx, req, 'schedule.push', stations.join(','), 'ok', summary);
    return { pushed: results };
  });
}
