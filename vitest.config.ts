import { defineConfig } from 'vitest/config';

/** Pure code and in-memory doubles: no broker, no daemon process, no ffmpeg. Milliseconds. */
const UNIT = ['test/unit/**/*.test.ts', 'test/protocol*.test.ts', 'test/decide.test.ts', 'test/policy.test.ts', 'test/cap-*.test.ts', 'test/version.test.ts'];

export default defineConfig({
  test: {
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // 2-core machines: real brokers, ffmpeg and daemons contend; keep parallelism modest.
    maxWorkers: 2,
    fileParallelism: true,
    projects: [
      { extends: true, test: { name: 'unit', include: UNIT } },
      // Real mosquitto, Aedes, daemons, ffmpeg and the CLI as subprocesses.
      { extends: true, test: { name: 'integration', include: ['test/**/*.test.ts'], exclude: UNIT } },
    ],
  },
});
