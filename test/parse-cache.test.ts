// The parse cache for large config files (controller-cli/parse-cache.ts): a hit only for the
// very same text, only from the user's own private directory.
import { chmodSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cachedParse, PARSE_CACHE_MIN_BYTES, storeParse } from '../controller-cli/parse-cache.js';
import { tempDir } from '../support/tmp.js';

describe('parse cache', () => {
  const dir = tempDir('loa-parse-cache-');
  const before = process.env.LOA_CACHE_DIR;
  const big = `stations:\n${'  - {id: tram-x, name: "Trạm"}\n'.repeat(Math.ceil(PARSE_CACHE_MIN_BYTES / 30))}`;
  const data = { stations: [{ id: 'tram-x', name: 'Trạm' }] };
  beforeAll(() => {
    process.env.LOA_CACHE_DIR = path.join(dir, 'mine');
  });
  afterAll(() => {
    if (before === undefined) delete process.env.LOA_CACHE_DIR;
    else process.env.LOA_CACHE_DIR = before;
  });

  it('returns what was stored for the same text, nothing for an edited text or a small file', () => {
    expect(cachedParse(big)).toBeUndefined();
    storeParse(big, data);
    expect(cachedParse(big)).toEqual(data);
    expect(cachedParse(`${big}# edited\n`)).toBeUndefined();
    storeParse('a: 1\n', { a: 1 });
    expect(cachedParse('a: 1\n')).toBeUndefined();
    expect(readdirSync(path.join(dir, 'mine'))).toHaveLength(1);
  });

  it('never stores what JSON would change (non-finite numbers)', () => {
    const text = `${big}# inf\n`;
    storeParse(text, { x: Number.POSITIVE_INFINITY });
    expect(cachedParse(text)).toBeUndefined();
  });

  it('ignores a cache directory others may write, and a corrupt entry', () => {
    const shared = path.join(dir, 'shared');
    mkdirSync(shared, { mode: 0o777 });
    chmodSync(shared, 0o777);
    process.env.LOA_CACHE_DIR = shared;
    storeParse(big, data);
    expect(readdirSync(shared)).toEqual([]);
    expect(cachedParse(big)).toBeUndefined();
    process.env.LOA_CACHE_DIR = path.join(dir, 'mine');
    for (const f of readdirSync(path.join(dir, 'mine'))) writeFileSync(path.join(dir, 'mine', f), '{not json');
    expect(cachedParse(big)).toBeUndefined();
  });
});
