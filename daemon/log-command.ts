import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { t } from '../io/i18n.js';
import type { StationConfig } from './config.js';
import { StationStore } from './store.js';

const fmt = (t?: number) => (t === undefined ? '-' : new Date(t).toISOString().replace('T', ' ').slice(0, 19));

export function printAsRun(config: StationConfig, opts: { from?: string; to?: string; limit: string; json?: boolean }): void {
  const file = join(config.dataDir, 'station.db');
  if (!existsSync(file)) {
    if (opts.json) process.stdout.write('[]\n');
    else process.stdout.write(t('log.empty') + '\n');
    return;
  }
  const store = new StationStore(file, { readonly: true });
  try {
    const rows = store.asRun({
      from: opts.from ? Date.parse(opts.from) : undefined,
      to: opts.to ? Date.parse(opts.to) : undefined,
      limit: Math.max(1, Number(opts.limit) || 50),
    });
    if (opts.json) {
      process.stdout.write(
        JSON.stringify(
          rows.map((r) => ({
            ...r,
            plannedAt: new Date(r.plannedAt).toISOString(),
            startedAt: r.startedAt ? new Date(r.startedAt).toISOString() : undefined,
            endedAt: r.endedAt ? new Date(r.endedAt).toISOString() : undefined,
          })),
          null,
          2,
        ) + '\n',
      );
      return;
    }
    const header = [
      t('log.col.planned'),
      t('log.col.started'),
      t('log.col.ended'),
      t('log.col.zone'),
      t('log.col.priority'),
      t('log.col.outcome'),
      t('log.col.broadcast'),
      t('log.col.title'),
    ];
    const table = rows.map((r) => [
      fmt(r.plannedAt),
      fmt(r.startedAt),
      fmt(r.endedAt),
      r.zone,
      r.priority + (r.test ? ' (test)' : ''),
      r.outcome + (r.reason ? ` (${r.reason})` : ''),
      r.broadcastId,
      r.title,
    ]);
    const widths = header.map((h, i) => Math.max(h.length, ...table.map((row) => row[i]!.length)));
    const line = (cells: string[]) =>
      cells
        .map((c, i) => c.padEnd(widths[i]!))
        .join('  ')
        .trimEnd();
    process.stdout.write([line(header), ...table.map(line)].join('\n') + '\n');
    if (rows.length === 0) process.stdout.write(t('log.empty') + '\n');
  } finally {
    store.close();
  }
}
