import { readFileSync } from 'node:fs';
import { LineCounter, parseDocument } from 'yaml';
import type { z } from 'zod';
import { t } from '../io/i18n.js';
import { CliError } from './errors.js';

export type KeyPath = readonly (string | number)[];

/** `stations[2].groups[0]`: the path a person would type to find the key. */
export function formatKeyPath(path: KeyPath): string {
  let out = '';
  for (const p of path) out += typeof p === 'number' ? `[${p}]` : out === '' ? p : `.${p}`;
  return out || '(root)';
}

/** A parsed YAML file that can point back at the line of any key path. */
export class ConfigFile {
  private constructor(
    readonly path: string,
    readonly data: unknown,
    private readonly locate: (path: KeyPath) => number | undefined,
  ) {}

  static read(path: string): ConfigFile {
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch (e) {
      throw new CliError(t('config.unreadable', { file: path, reason: (e as NodeJS.ErrnoException).code ?? (e as Error).message }));
    }
    const lineCounter = new LineCounter();
    const doc = parseDocument(text, { lineCounter, prettyErrors: false });
    if (doc.errors.length > 0) {
      const err = doc.errors[0]!;
      const line = lineCounter.linePos(err.pos[0]).line;
      throw new CliError(t('config.yaml', { file: path, line, reason: err.message.split('\n')[0] ?? '' }));
    }
    const locate = (p: KeyPath): number | undefined => {
      for (let n = p.length; n >= 0; n--) {
        const node = doc.getIn(p.slice(0, n), true) as { range?: [number, number, number] } | undefined;
        if (node && typeof node === 'object' && node.range) return lineCounter.linePos(node.range[0]).line;
      }
      return undefined;
    };
    return new ConfigFile(path, doc.toJS(), locate);
  }

  /** An error naming the file, the key path (and its line) and what was expected. */
  error(path: KeyPath, expected: string): CliError {
    const line = this.locate(path);
    return new CliError(
      t('config.invalid', { file: this.path, key: formatKeyPath(path), line: line === undefined ? '?' : line, expected }),
    );
  }

  parse<S extends z.ZodType>(schema: S, data: unknown = this.data, prefix: KeyPath = []): z.infer<S> {
    const result = schema.safeParse(data);
    if (result.success) return result.data;
    const issue = result.error.issues[0]!;
    const path = [...prefix, ...issue.path.map((p) => (typeof p === 'symbol' ? String(p) : p))];
    throw this.error(path, issue.message);
  }
}
