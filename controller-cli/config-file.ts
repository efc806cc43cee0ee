import { readFileSync } from 'node:fs';
import type { z } from 'zod';
import { t } from '../io/i18n.js';
import { bracketPath, describeIssue, type KeyPath, parseYamlConfig } from '../io/yaml-config.js';
import { CliError } from './errors.js';
import { cachedParse, storeParse } from './parse-cache.js';

export type { KeyPath };
export const formatKeyPath = bracketPath;

/** A mistake in a YAML file: the message says it all; the parts are for the console's editor. */
export class ConfigError extends CliError {
  constructor(
    message: string,
    readonly keyPath: string,
    readonly line: number | undefined,
    readonly expected: string,
  ) {
    super(message);
  }
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
    // A large file (a national fleet) parsed before, unchanged since: the cached parse, and the
    // text parsed again only if an error needs a line number.
    const cached = cachedParse(text);
    if (cached !== undefined) {
      let doc: ((p: KeyPath) => number | undefined) | undefined;
      return new ConfigFile(path, cached, (p) => {
        if (!doc) {
          const yaml = parseYamlConfig(text, path);
          doc = yaml.ok ? yaml.doc.lineOf : () => undefined;
        }
        return doc(p);
      });
    }
    const file = ConfigFile.fromText(text, path);
    storeParse(text, file.data);
    return file;
  }

  /** YAML typed somewhere other than a file (the console's schedule editor), named for errors. */
  static fromText(text: string, name: string): ConfigFile {
    const yaml = parseYamlConfig(text, name);
    if (!yaml.ok) throw new CliError(yaml.problems[0]!);
    return new ConfigFile(name, yaml.doc.raw, yaml.doc.lineOf);
  }

  /** The line of a key path (or of its nearest ancestor that has one). */
  lineOf(path: KeyPath): number | undefined {
    return this.locate(path);
  }

  /** An error naming the file, the key path (and its line) and what was expected. */
  error(path: KeyPath, expected: string): ConfigError {
    const line = this.locate(path);
    return new ConfigError(
      t('config.invalid', { file: this.path, key: formatKeyPath(path), line: line === undefined ? '?' : line, expected }),
      formatKeyPath(path),
      line,
      expected,
    );
  }

  /** Validate with the same wording as the station's config errors (io/yaml-config.ts). */
  parse<S extends z.ZodType>(schema: S, data: unknown = this.data, prefix: KeyPath = []): z.infer<S> {
    const result = schema.safeParse(data, { reportInput: true });
    if (result.success) return result.data;
    const problem = describeIssue(schema, result.error.issues[0]!, data, (p) => this.locate([...prefix, ...p]))[0]!;
    throw this.error([...prefix, ...problem.path], `${problem.expected}${problem.got ? `, ${problem.got}` : ''}`);
  }
}
