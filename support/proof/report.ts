import type { AclReport } from './acl.js';
import type { FaultResult } from './faults.js';
import type { HostileReport } from './hostile.js';

/** A Markdown table (readable in a terminal, pasteable into docs/proof.md). */
export function table(head: string[], rows: (string | number)[][]): string {
  const cells = [head, ...rows.map((r) => r.map((c) => String(c).replaceAll('|', '\\|').replaceAll('\n', ' ')))];
  const widths = head.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? '').length)));
  const line = (r: string[]) => `| ${r.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`;
  return [line(cells[0]!), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...cells.slice(1).map(line)].join('\n');
}

export function faultTable(results: FaultResult[]): string {
  const rows = results.map((r) => [
    r.case,
    r.runs,
    `${r.commandsSent - r.commandsLost}/${r.commandsSent}`,
    r.emitted,
    r.received,
    r.lost,
    r.duplicated,
    r.crashes,
    r.onTime.total ? `${r.onTime.ok}/${r.onTime.total} (worst +${r.onTime.worstLateMs} ms)` : '-',
    `${r.seconds} s`,
    r.verdict,
  ]);
  const sum = (k: 'runs' | 'commandsSent' | 'commandsLost' | 'emitted' | 'received' | 'lost' | 'duplicated' | 'crashes') => results.reduce((n, r) => n + r[k], 0);
  const ok = results.reduce((n, r) => n + r.onTime.ok, 0);
  const total = results.reduce((n, r) => n + r.onTime.total, 0);
  rows.push([
    '**total**',
    sum('runs'),
    `${sum('commandsSent') - sum('commandsLost')}/${sum('commandsSent')}`,
    sum('emitted'),
    sum('received'),
    sum('lost'),
    sum('duplicated'),
    sum('crashes'),
    `${ok}/${total}`,
    '',
    results.every((r) => r.verdict === 'PASS') ? 'PASS' : 'FAIL',
  ]);
  return table(['case', 'runs', 'commands acked', 'acks emitted', 'received', 'lost', 'duplicated', 'crashes', 'on time', 'time', 'verdict'], rows);
}

export function faultFailures(results: FaultResult[]): string {
  const lines = results.flatMap((r) => r.checks.filter((c) => !c.ok).map((c) => `- ${r.case}: ${c.what} — ${c.detail ?? ''}`));
  return lines.length ? `Failed checks:\n${lines.join('\n')}` : 'Every per-case check passed.';
}

export function hostileTable(h: HostileReport): string {
  const kib = (n: number) => (Number.isNaN(n) ? '?' : `${n >= 0 ? '+' : ''}${(n / 1024).toFixed(1)} MB`);
  return table(
    ['case', 'topic', 'expected', 'got', 'played?', 'alive?', 'RSS Δ', 'verdict'],
    h.rows.map((r) => [r.case, r.topic, r.expected, r.got.slice(0, 110), r.played ? 'yes' : 'no', r.alive ? 'yes' : 'NO', kib(r.rssDeltaKiB), r.verdict]),
  );
}

export function aclTable(a: AclReport): string {
  return table(
    ['case', 'expected', 'got', 'verdict'],
    a.rows.map((r) => [r.case, r.expected, r.got, r.verdict]),
  );
}
