// Temp directories for tests. Every dir made with tempDir() is removed after the test file
// that imported this module has finished (an afterAll hook registered at import), or at
// process exit as a fallback. Per-test removal is deliberately avoided: vitest's global
// onTestFinished cannot tell concurrent tests apart. Set LOA_KEEP_TMP=1 to keep them.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll } from 'vitest';

const made = new Set<string>();

export function tempDir(prefix = 'loa-test-'): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), prefix));
  made.add(dir);
  return dir;
}

/** Removes every dir made so far (also runs automatically after each test file). */
export function cleanupTempDirs(): void {
  for (const dir of [...made]) {
    made.delete(dir);
    if (!process.env.LOA_KEEP_TMP) rmSync(dir, { recursive: true, force: true });
  }
}

try {
  afterAll(cleanupTempDirs);
} catch {
  // Imported outside a vitest collection phase: rely on the exit hook.
}
process.once('exit', cleanupTempDirs);
