/**
 * Canonical JSON: object keys sorted by UTF-16 code unit order, no whitespace, numbers in
 * JavaScript's shortest round-trip form. Signatures are made over these bytes, so any
 * re-ordering of keys by a broker, a logger or another implementation does not break them.
 */
export function canonicalJson(value: unknown): string {
  return write(value, 0);
}

function write(value: unknown, depth: number): string {
  if (depth > 64) throw new Error('canonicalJson: nesting deeper than 64');
  if (value === null) return 'null';
  switch (typeof value) {
    case 'string':
      return JSON.stringify(value);
    case 'boolean':
      return value ? 'true' : 'false';
    case 'number':
      if (!Number.isFinite(value)) throw new Error('canonicalJson: non-finite number');
      return JSON.stringify(value);
    case 'object': {
      if (Array.isArray(value)) return '[' + value.map((v) => write(v, depth + 1)).join(',') + ']';
      const obj = value as Record<string, unknown>;
      const keys = Object.keys(obj)
        .filter((k) => obj[k] !== undefined)
        .sort();
      return '{' + keys.map((k) => JSON.stringify(k) + ':' + write(obj[k], depth + 1)).join(',') + '}';
    }
    default:
      throw new Error(`canonicalJson: cannot serialise ${typeof value}`);
  }
}

export function canonicalBytes(value: unknown): Buffer {
  return Buffer.from(canonicalJson(value), 'utf8');
}
