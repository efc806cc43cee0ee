import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { sendBroadcast } from '../../../controller-cli/broadcast-send.js';
import { issueCommand } from '../../../controller-cli/command-issue.js';
import { AnnounceBody } from '../../../protocol/index.js';
import { audit, type ConsoleContext, fail, requireAction, sessionOf } from '../context.js';
import { summarise } from '../progress.js';
import { signerOf, targetFor } from './announce.js';

const Start = z.strictObject({
  to: z.array(z.string().max(64)).min(1).max(1000),
  title: z.string().trim().max(200).default(''),
  priority: z.enum(['normal', 'priority']).default('priority'),
  maxMinutes: z.number().int().min(1).max(60).default(15),
  container: z.enum(['webm', 'ogg']).default('webm'),
  chime: z.boolean().default(false),
});

export async function liveMicRoutes(app: FastifyInstance, ctx: ConsoleContext): Promise<void> {
  /**
   * Start: the stream exists before the command goes out, so no station fetches a 404. The
   * command is an announce whose audio is the stream URL, signed by the speaking user.
   */
  app.post('/api/live', async (req) => {
    const s = await requireAction(ctx, req, 'live');
    const parsed = Start.safeParse(req.body);
    if (!parsed.success) throw fail(400, parsed.error.issues[0]!.message, { path: parsed.error.issues[0]!.path.join('.') });
    const r = parsed.data;
    const { target, stations } = await targetFor(ctx, req, s, 'live.start', r.to);
    const signer = signerOf(s);
    const base = ctx.liveBaseUrl;
    if (!base) throw fail(503, 'live streams are not available: start `loa serve` with a URL stations can reach (--live-url)');
    const session = ctx.liveSessions.start(s.user.name, r.container, r.maxMinutes * 60_000);
    const body = AnnounceBody.parse({
      priority: r.priority,
      title: r.title || `Trực tiếp: ${s.user.name}`,
      chime: r.chime,
      // Someone is speaking now: start at once, and give up rather than air it minutes late.
      policy: 'interrupt',
      maxDelaySec: 30,
      audio: { kind: 'stream', urls: [`${base}/live/${session.token}.wav`], durationSec: r.maxMinutes * 60 },
    });
    const envelope = await issueCommand(ctx.fleet, ctx.db, { type: 'announce', signer, target, body });
    session.broadcastId = envelope.id;
    await sendBroadcast(ctx.fleet, ctx.db, envelope, { media: [], quiet: true, title: body.title, priority: r.priority }, await ctx.mqtt());
    const row = await ctx.db.broadcast(envelope.id);
    if (row) ctx.live.broadcast(summarise(row, [], stations));
    await audit(ctx, req, 'live.start', envelope.id, 'ok', `${r.priority} to ${stations.join(',')}, at most ${r.maxMinutes} min`);
    void session.done.then(() =>
      audit(ctx, req, 'live.stop', envelope.id, 'ok', `${Math.round((Date.now() - session.startedAt) / 1000)} s, ${session.info().bytesIn} bytes in`, s.user).catch(
        () => undefined,
      ),
    );
    return { id: envelope.id, token: session.token, stations };
  });

  /** The microphone: binary WebSocket messages of the recorder's output. Closing it ends the broadcast. */
  app.get('/api/live/:token/audio', { websocket: true }, (socket, req) => {
    const s = req.session;
    const live = ctx.liveSessions.get((req.params as { token: string }).token);
    if (!s || !live || live.user !== s.user.name) {
      socket.close(4403, 'not your live session');
      return;
    }
    socket.on('message', (data: Buffer, isBinary: boolean) => {
      if (isBinary) live.feed(data);
    });
    socket.on('close', () => live.stop());
    void live.done.then(() => socket.close(1000, 'ended'));
  });

  app.post('/api/live/:token/stop', async (req) => {
    const s = sessionOf(req);
    const live = ctx.liveSessions.get((req.params as { token: string }).token);
    if (!live || live.user !== s.user.name) throw fail(404, 'no such live session');
    live.stop();
    await live.done;
    return { stopped: true, id: live.broadcastId };
  });
  await liveStreamRoute(app, ctx);
}

export async function liveStreamRoute(app: FastifyInstance, ctx: ConsoleContext): Promise<void> {
  /** What stations fetch: the token in the signed command is the only key to it. */
  app.get('/live/:file', async (req, reply) => {
    const m = /^([A-Za-z0-9_-]{32})\.wav$/.exec((req.params as { file: string }).file);
    const live = m ? ctx.liveSessions.get(m[1]!) : undefined;
    if (!live) throw fail(404, 'no such stream');
    reply.hijack();
    live.attach(reply.raw);
  });
}
