/** Tables for people, JSON for scripts: every read command offers both. */
export function printJson(value: unknown): void {
  process.stdout.write(JSON.stringify(value, null, 2) + '\n');
}

function width(s: string): number {
  // Vietnamese text is mostly precomposed; strip combining marks so columns line up.
  return [...s.normalize('NFC').replace(/\p{M}/gu, '')].length;
}

/**
 * Text from stations (titles, last errors, reasons) is data, never terminal control: escape
 * sequences could repaint the operator's screen, hide a line or set the window title. C0 and
 * C1 controls (ESC and CSI included), DEL and bidirectional overrides become a visible `?`;
 * newlines and tabs become spaces so one value stays on one line.
 */
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069\u200e\u200f]/g;

export function terminalSafe(s: string): string {
  return s.replace(/[\t\n\r]/g, ' ').replace(CONTROL, '?');
}

export function renderTable(headers: string[], rows: (string | number | null | undefined)[][]): string {
  const cells = rows.map((r) => r.map((c) => (c === null || c === undefined ? '-' : terminalSafe(String(c)))));
  const widths = headers.map((h, i) => Math.max(width(h), ...cells.map((r) => width(r[i] ?? ''))));
  const line = (r: string[]) =>
    r
      .map((c, i) => c + ' '.repeat(Math.max(0, widths[i]! - width(c))))
      .join('  ')
      .trimEnd();
  return [line(headers), line(widths.map((w) => '-'.repeat(w))), ...cells.map(line)].join('\n') + '\n';
}

export function printTable(headers: string[], rows: (string | number | null | undefined)[][]): void {
  process.stdout.write(renderTable(headers, rows));
}

/**
 * A CSV cell. A spreadsheet runs a cell that begins with = + - @ (or a tab or CR) as a formula,
 * so a station-controlled title like `=HYPERLINK(…)` must arrive as text: such a cell gets a
 * leading apostrophe (the OWASP advice, which spreadsheets show as plain text).
 */
export function csvCell(v: string | number | null | undefined): string {
  let s = v === null || v === undefined ? '' : String(v);
  if (typeof v === 'string' && /^[=+\-@\t\r]/.test(s)) s = `'${s}`;
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export function csvLine(values: (string | number | null | undefined)[]): string {
  return values.map(csvCell).join(',');
}
