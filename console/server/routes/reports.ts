import type { FastifyInstance } from 'fastify';
import { deliveryRows, reportCsv, reportRange } from '../../../controller-cli/delivery-report.js';
import { CliError } from '../../../controller-cli/errors.js';
import { type ConsoleContext, fail, requireAction, scopeOfSession } from '../context.js';

export async function reportRoutes(app: FastifyInstance, ctx: ConsoleContext): Promise<void> {
  /** The rows of `loa report` for the user's stations; `format=csv` is byte for byte `loa report --csv`. */
  app.get('/api/report', async (req, reply) => {
    const s = await requireAction(ctx, req, 'view');
    const q = req.query as { from?: string; to?: string; format?: string };
    if (!q.from || !q.to) throw fail(400, 'expected from and to (YYYY-MM-DD[ HH:MM])');
    let range: { fromMs: number; toMs: number };
    try {
      range = reportRange(ctx.fleet, q.from, q.to);
    } catch (e) {
      if (e instanceof CliError) throw fail(400, e.message);
      throw e;
    }
    const scope = scopeOfSession(ctx, s);
    const rows = (await deliveryRows(ctx.db, range.fromMs, range.toMs, 60_000)).filter((r) => scope.has(r.station));
    if (q.format === 'csv') {
      const name = `loa-report-${q.from.slice(0, 10)}-${q.to.slice(0, 10)}.csv`.replace(/[^A-Za-z0-9._-]/g, '_');
      return reply.type('text/csv; charset=utf-8').header('content-disposition', `attachment; filename="${name}"`).send(reportCsv(rows));
    }
    return rows;
  });
}
