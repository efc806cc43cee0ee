import type { FastifyInstance } from 'fastify';
import { type ConsoleContext, requireAction, scopeOfSession } from '../context.js';

export async function stationRoutes(app: FastifyInstance, ctx: ConsoleContext): Promise<void> {
  app.get('/api/stations', async (req) => {
    const s = await requireAction(ctx, req, 'view');
    return { serverNow: Date.now(), stations: ctx.live.stations(scopeOfSession(ctx, s)) };
  });

  /** Server-sent events: station views, acks and new broadcasts within the user's scope. */
  app.get('/api/events', async (req, reply) => {
    const s = await requireAction(ctx, req, 'view');
    reply.hijack();
    const res = reply.raw;
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      connection: 'keep-alive',
      // Proxies (nginx) must not buffer a live stream.
      'x-accel-buffering': 'no',
    });
    res.write(': live\n\n');
    const detach = ctx.live.attach(res, scopeOfSession(ctx, s));
    const close = () => {
      detach();
      res.end();
    };
    s.closers.add(close);
    res.on('close', () => s.closers.delete(close));
  });
}
