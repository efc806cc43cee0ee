import type { FastifyInstance } from 'fastify';
import { isId } from '../../../protocol/index.js';
import { type ConsoleContext, fail, requireAction, scopeOfSession } from '../context.js';
import { detail, summarise } from '../progress.js';
import { visibleStations } from '../scope.js';

export async function broadcastRoutes(app: FastifyInstance, ctx: ConsoleContext): Promise<void> {
  app.get('/api/broadcasts', async (req) => {
    const s = await requireAction(ctx, req, 'view');
    const scope = scopeOfSession(ctx, s);
    const limit = Math.min(500, Math.max(1, Number((req.query as { limit?: string }).limit ?? 100) || 100));
    const rows = (await ctx.db.broadcasts()).filter((b) => b.type !== 'cancel' && b.status !== 'draft');
    const out = [];
    for (let i = rows.length - 1; i >= 0 && out.length < limit; i--) {
      const b = rows[i]!;
      const visible = visibleStations(scope, JSON.parse(b.stations) as string[]);
      if (visible.length === 0) continue;
      out.push(summarise(b, await ctx.db.acksFor(b.id), visible));
    }
    return out;
  });

  app.get('/api/broadcasts/:id', async (req) => {
    const s = await requireAction(ctx, req, 'view');
    const id = (req.params as { id: string }).id;
    if (!isId(id)) throw fail(400, 'bad broadcast id');
    const row = await ctx.db.broadcast(id);
    const visible = row ? visibleStations(scopeOfSession(ctx, s), JSON.parse(row.stations) as string[]) : [];
    // Out of scope and unknown look the same: a ward cannot learn what another ward sent.
    if (!row || visible.length === 0) throw fail(404, 'no such broadcast');
    return detail(row, await ctx.db.acksFor(id), visible);
  });
}
