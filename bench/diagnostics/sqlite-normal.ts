// Diagnostic preload (not used by `npm run bench`): opens the station's SQLite with
// synchronous=NORMAL instead of FULL (WAL: no fsync per commit), to test how much of the
// emergency path's latency is commit fsyncs. NODE_OPTIONS="--import .../dist/bench/diagnostics/sqlite-normal.js"
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const Database = require('better-sqlite3') as { prototype: { pragma: (s: string, o?: unknown) => unknown } };
const original = Database.prototype.pragma;
Database.prototype.pragma = function (this: unknown, source: string, options?: unknown) {
  return original.call(this, /^\s*synchronous\s*=\s*FULL\s*$/i.test(source) ? 'synchronous = NORMAL' : source, options);
};
