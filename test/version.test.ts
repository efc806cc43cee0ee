// One version string: the programs report what package.json says.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { SOFTWARE_VERSION, VERSION } from '../io/version.js';

describe('version', () => {
  it('io/version.ts matches package.json, and the station reports it', () => {
    const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
    expect(VERSION).toBe(pkg.version);
    expect(SOFTWARE_VERSION).toBe(`loa-station/${pkg.version}`);
  });
});
