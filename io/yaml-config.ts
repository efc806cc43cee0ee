// Reading YAML configuration for people: the station's station.yaml and the central fleet and
// schedule files. One parser (line numbers, duplicate keys, an alias budget) and one way of
// turning a zod issue into "key path, what was expected, what was found, on which line".
import { createRequire } from 'node:module';
import type * as Yaml from 'yaml';

// yaml's Node build is CommonJS: required, not imported (see io/mqtt.ts).
const { LineCounter, parseDocument } = createRequire(import.meta.url)('yaml') as typeof Yaml;

import type { z } from 'zod';

export type KeyPath = readonly PropertyKey[];

export interface YamlDoc {
  raw: unknown;
  /** The line of a key path, or of its nearest ancestor that has one. */
  lineOf(path: KeyPath): number | undefined;
}

/** Parse YAML text; problems are "file: line L, column C: invalid YAML: …" lines. */
export function parseYamlConfig(text: string, file: string): { ok: true; doc: YamlDoc } | { ok: false; problems: string[] } {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length > 0) {
    return {
      ok: false,
      problems: doc.errors.map((e) => {
        const pos = e.linePos?.[0] ?? (e.pos ? lineCounter.linePos(e.pos[0]) : undefined);
        const where = pos ? `line ${pos.line}, column ${pos.col}: ` : '';
        return `${file}: ${where}invalid YAML: ${e.message.split('\n')[0]}`;
      }),
    };
  }
  let raw: unknown;
  try {
    // A small alias budget stops a "billion laughs" file from eating the machine's memory.
    raw = doc.toJS({ maxAliasCount: 100 });
  } catch (e) {
    return { ok: false, problems: [`${file}: invalid YAML: ${(e as Error).message}`] };
  }
  const lineOf = (p: KeyPath): number | undefined => {
    for (let n = p.length; n >= 0; n--) {
      const node = doc.getIn(p.slice(0, n) as unknown[], true) as { range?: [number, number, number] } | undefined;
      if (node && typeof node === 'object' && node.range) return lineCounter.linePos(node.range[0]).line;
    }
    return undefined;
  };
  return { ok: true, doc: { raw, lineOf } };
}

/** `stations.2.groups.0` */
export function dottedPath(path: KeyPath): string {
  return path.length === 0 ? '(top level)' : path.map(String).join('.');
}

/** `stations[2].groups[0]`: the path a person would type to find the key. */
export function bracketPath(path: KeyPath): string {
  let out = '';
  for (const p of path) out += typeof p === 'number' ? `[${p}]` : out === '' ? String(p) : `.${String(p)}`;
  return out || '(root)';
}

export interface ConfigProblem {
  path: PropertyKey[];
  /** "expected …" */
  expected: string;
  /** "got …" or "but it is missing"; empty for unknown keys. */
  got: string;
  line?: number;
}

type Issue = z.core.$ZodIssue & { input?: unknown };

/** One zod issue as the problems a person must fix (an unknown-keys issue names each key). */
export function describeIssue(schema: z.core.$ZodType, issue: Issue, root: unknown, lineOf: (p: KeyPath) => number | undefined): ConfigProblem[] {
  const lineFor = (p: KeyPath) => lineOf(p);
  if (issue.code === 'unrecognized_keys') {
    const known = knownKeys(schema, issue.path, root);
    return issue.keys.map((key) => {
      const p = [...issue.path, key];
      const guess = suggest(key, known);
      const hint = guess ? `; did you mean "${guess}"?` : known.length ? ` (expected one of: ${known.join(', ')})` : '';
      return { path: p, expected: `unknown key${hint}`, got: '', line: lineFor(p) };
    });
  }

  const input = issue.input ?? valueAt(root, issue.path);
  let expected = issue.message;
  if (!expected.startsWith('expected')) {
    // zod's own wording ("Invalid input: ...") for issues without a custom message.
    if (issue.code === 'invalid_type') expected = `expected ${article(issue.expected)}`;
    else if (issue.code === 'invalid_value') expected = `expected one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}`;
    else if (issue.code === 'invalid_union' && 'options' in issue) {
      expected = `expected one of ${(issue as { options: unknown[] }).options.map((v) => JSON.stringify(v)).join(', ')}`;
    } else expected = `expected a valid value (${issue.message})`;
  }
  // A discriminated union reports at the object; name the discriminator key instead.
  let path: PropertyKey[] = [...issue.path];
  let shown = input;
  if (issue.code === 'invalid_union' && 'discriminator' in issue && typeof issue.discriminator === 'string') {
    if (path[path.length - 1] !== issue.discriminator) path = [...path, issue.discriminator];
    shown = valueAt(root, path);
  }
  const secret = path[path.length - 1] === 'password';
  const got =
    shown === undefined && valueAt(root, path) === undefined ? 'but it is missing' : secret ? 'got a value that is not shown (it is a secret)' : `got ${describeValue(shown)}`;
  return [{ path, expected, got, line: lineFor(path) }];
}

function article(type: string): string {
  if (type === 'object') return 'a mapping';
  if (type === 'array') return 'a list';
  return /^[aeiou]/.test(type) ? `an ${type}` : `a ${type}`;
}

export function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  const s = JSON.stringify(value);
  return s === undefined ? String(value) : s.length > 80 ? `${s.slice(0, 77)}...` : s;
}

function valueAt(root: unknown, path: readonly PropertyKey[]): unknown {
  let v: unknown = root;
  for (const k of path) {
    if (v === null || typeof v !== 'object') return undefined;
    v = (v as Record<PropertyKey, unknown>)[k];
  }
  return v;
}

/** Keys the schema accepts at `path`, following the input through arrays and tagged unions. */
function knownKeys(schema: z.core.$ZodType, path: readonly PropertyKey[], root: unknown): string[] {
  let s: z.core.$ZodType | undefined = schema;
  let v: unknown = root;
  const steps = [...path];
  for (;;) {
    s = unwrap(s, v);
    if (!s) return [];
    const def = s._zod.def as unknown as Record<string, unknown>;
    if (steps.length === 0) return def.type === 'object' ? Object.keys(def.shape as object) : [];
    const key = steps.shift()!;
    v = v !== null && typeof v === 'object' ? (v as Record<PropertyKey, unknown>)[key] : undefined;
    if (def.type === 'object') s = (def.shape as Record<string, z.core.$ZodType>)[String(key)];
    else if (def.type === 'array') s = def.element as z.core.$ZodType;
    else return [];
  }
}

function unwrap(s: z.core.$ZodType | undefined, value: unknown): z.core.$ZodType | undefined {
  for (let i = 0; s && i < 16; i++) {
    const def = s._zod.def as unknown as Record<string, unknown>;
    if (['optional', 'default', 'prefault', 'nullable', 'readonly', 'catch', 'nonoptional'].includes(def.type as string)) {
      s = def.innerType as z.core.$ZodType;
    } else if (def.type === 'pipe') {
      s = def.in as z.core.$ZodType;
    } else if (def.type === 'union') {
      const options = def.options as z.core.$ZodType[];
      const disc = def.discriminator as string | undefined;
      const tag = disc && value && typeof value === 'object' ? (value as Record<string, unknown>)[disc] : undefined;
      s = options.find((o) => {
        const shape = (o._zod.def as unknown as { shape?: Record<string, z.core.$ZodType> }).shape;
        const lit = shape && disc ? (shape[disc]?._zod.def as unknown as { values?: unknown[] } | undefined) : undefined;
        return lit?.values?.includes(tag);
      });
    } else {
      return s;
    }
  }
  return s;
}

/** The closest known key if it is plausibly a typo. */
function suggest(key: string, known: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDist = Infinity;
  for (const k of known) {
    const d = k.toLowerCase() === key.toLowerCase() ? 0 : editDistance(key.toLowerCase(), k.toLowerCase());
    if (d < bestDist) {
      best = k;
      bestDist = d;
    }
  }
  if (best === undefined) return undefined;
  return bestDist <= Math.max(1, Math.floor(Math.max(key.length, best.length) / 3)) ? best : undefined;
}

/** Edit distance counting a swap of two neighbours as one edit ("dri" → "dir"). */
function editDistance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let v = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) v = Math.min(v, d[i - 2]![j - 2]! + 1);
      d[i]![j] = v;
    }
  }
  return d[a.length]![b.length]!;
}
