import type { FastifyInstance } from 'fastify';
import { csvLine } from '../../../controller-cli/output.js';
import type { AuditEntry } from '../../shared/api.js';
import { type ConsoleContext, requireAction } from '../context.js';
import { may } from '../scope.js';

const COLUMNS = ['id', 'at', 'user', 'role', 'ip', 'action', 'target', 'outcome', 'detail'] as const;

export function auditCsv(rows: AuditEntry[]): string {
  return [csvLine([...COLUMNS]), ...rows.map((r) => csvLine(COLUMNS.map((c) => (c === 'at' ? new Date(r.at).toISOString() : r[c]))))].join('\n') + '\n';
}

export async function auditRoutes(app: FastifyInstance, ctx: ConsoleContext): Promise<void> {
  /** Everyone sees their own actions; the centre's roles see everyone's. */
  app.get('/api/audit', async (req, reply) => {
    const s = await requireAction(ctx, req, 'view');
    const q = req.query as { from?: string; to?: string; user?: string; action?: string; limit?: string; format?: string };
    const user = may(s.user, 'audit.all') ? q.user || undefined : s.user.name;
    const rows = await ctx.store.audit({
      ...(q.from ? { from: Date.parse(q.from) || 0 } : {}),
      ...(q.to ? { to: Date.parse(q.to) || Number.MAX_SAFE_INTEGER } : {}),
      ...(user ? { user } : {}),
      ...(q.action ? { action: q.action.slice(0, 64) } : {}),
      limit: Math.min(100_000, Math.max(1, Number(q.limit ?? 500) || 500)),
    });
    if (q.format === 'csv') return reply.type('text/csv; charset=utf-8').header('content-disposition', 'attachment; filename="loa-audit.csv"').send(auditCsv(rows));
    return rows;
  });
}
