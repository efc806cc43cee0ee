import { existsSync, statSync } from 'node:fs';
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { mediaStoreDir } from '../../../controller-cli/audio-source.js';
import { sendBroadcast } from '../../../controller-cli/broadcast-send.js';
import { issueCommand } from '../../../controller-cli/command-issue.js';
import { storedMediaPath } from '../../../controller-cli/media.js';
import { AnnounceBody, DEFAULT_TTL_MS, Id, MAX_LIFETIME_MS, Sha256 } from '../../../protocol/index.js';
import { audit, type ConsoleContext, fail, type HttpError, requireAction } from '../context.js';
import { summarise } from '../progress.js';
import { OutOfScope, scopedTarget } from '../scope.js';
import type { Session } from '../sessions.js';

export const AnnounceRequest = z.strictObject({
  media: Sha256,
  title: z.string().trim().max(200).default(''),
  to: z.array(z.string().max(64)).min(1).max(1000),
  at: z.iso.datetime({ offset: true }).optional(),
  priority: z.enum(['normal', 'priority']).default('normal'),
  chime: z.boolean().default(false),
  repeat: z.number().int().min(1).max(20).default(1),
  zones: z.array(Id).min(1).max(64).optional(),
});

/** The signing key of the acting user: never a key of the server or of anyone else. */
export function signerOf(s: Session): NonNullable<Session['signer']> {
  if (!s.signer) throw fail(403, 'no signing key is bound to your account (an administrator binds one with `loa users passwd --key`)');
  return s.signer;
}

/** A scope refusal is audited with what was asked for, then answered 403. */
export async function targetFor(ctx: ConsoleContext, req: Parameters<typeof audit>[1], s: Session, action: string, to: string[]) {
  try {
    return scopedTarget(ctx.fleet, s.user, to);
  } catch (e) {
    if (e instanceof OutOfScope) {
      await audit(ctx, req, action, to.join(','), 'refused', `out of scope: ${e.ids.join(', ')}`);
      throw fail(403, `not in your stations: ${e.ids.join(', ') || '(none)'}`, { path: 'to' }) as HttpError;
    }
    throw e;
  }
}

export async function announceRoutes(app: FastifyInstance, ctx: ConsoleContext): Promise<void> {
  app.post('/api/announce', async (req) => {
    const s = await requireAction(ctx, req, 'announce');
    const parsed = AnnounceRequest.safeParse(req.body);
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      throw fail(400, issue.message, { path: issue.path.join('.') });
    }
    const r = parsed.data;
    const { target, stations } = await targetFor(ctx, req, s, 'announce', r.to);
    const signer = signerOf(s);
    const path = storedMediaPath(mediaStoreDir(ctx.fleet), r.media);
    if (!existsSync(path)) throw fail(400, 'the clip is not on the server: upload or record it again', { path: 'media' });
    const now = Date.now();
    const at = r.at ? Date.parse(r.at) : undefined;
    if (at !== undefined && at - now > MAX_LIFETIME_MS.announce - 86_400_000) throw fail(400, 'too far ahead: at most 6 days', { path: 'at' });
    if (at !== undefined && at < now - 60_000) throw fail(400, 'that time has passed', { path: 'at' });
    if (r.zones) {
      const lacking = stations.filter((id) => !r.zones!.every((z) => ctx.fleet.stations.find((f) => f.id === id)!.zones.some((q) => q.id === z)));
      if (lacking.length > 0) throw fail(400, `zones not at ${lacking.join(', ')}`, { path: 'zones' });
    }
    const body = AnnounceBody.parse({
      ...(at !== undefined ? { at: new Date(at).toISOString() } : {}),
      priority: r.priority,
      title: r.title,
      ...(r.zones ? { zones: r.zones } : {}),
      chime: r.chime,
      repeat: r.repeat,
      policy: 'wait',
      audio: { kind: 'media', sha256: r.media, size: statSync(path).size },
    });
    const ttlMs = Math.max(DEFAULT_TTL_MS.announce, (at ?? now) - now + 86_400_000);
    const envelope = await issueCommand(ctx.fleet, ctx.db, { type: 'announce', signer, target, body, now, ttlMs });
    await sendBroadcast(ctx.fleet, ctx.db, envelope, { media: [r.media], quiet: true, plannedAt: at ?? now, title: body.title, priority: r.priority }, await ctx.mqtt());
    const row = await ctx.db.broadcast(envelope.id);
    if (row) ctx.live.broadcast(summarise(row, [], stations));
    await audit(ctx, req, 'announce', envelope.id, 'ok', `${r.priority} to ${stations.join(',')}${r.title ? `: ${r.title}` : ''}`);
    return { id: envelope.id, stations };
  });
}
