import { readFileSync } from 'node:fs';
import type { z } from 'zod';
import { t } from '../io/i18n.js';
import { bracketPath, describeIssue, type KeyPath, parseYamlConfig } from '../io/yaml-config.js';
import { CliError } from './errors.js';

export type { KeyPath };
export const formatKeyPath = bracketPath;

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
    const yaml = parseYamlConfig(text, path);
    if (!yaml.ok) throw new CliError(yaml.problems[0]!);
    return new ConfigFile(path, yaml.doc.raw, yaml.doc.lineOf);
  }

  /** An error naming the file, the key path (and its line) and what was expected. */
  error(path: KeyPath, expected: string): CliError {
    const line = this.locate(path);
    return new CliError(t('config.invalid', { file: this.path, key: formatKeyPath(path), line: line === undefined ? '?' : line, expected }));
  }

  /** Validate with the same wording as the station's config errors (io/yaml-config.ts). */
  parse<S extends z.ZodType>(schema: S, data: unknown = this.data, prefix: KeyPath = []): z.infer<S> {
    const result = schema.safeParse(data, { reportInput: true });
    if (result.success) return result.data;
    const problem = describeIssue(schema, result.error.issues[0]!, data, (p) => this.locate([...prefix, ...p]))[0]!;
    throw this.error([...prefix, ...problem.path], `${problem.expected}${problem.got ? `, ${problem.got}` : ''}`);
  }
}
