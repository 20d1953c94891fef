import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    environment: 'node',
    // Integration and end-to-end tests start servers on loopback; give them room on a two-core machine.
    testTimeout: 20_000,
    hookTimeout: 30_000,
    projects: [
      {
        extends: true,
        // Unit tests share nothing but pure modules and their own fakes: one module graph per worker is
        // safe, and saves importing lib/ again for every file (most of the unit suite's time otherwise).
        test: { name: 'unit', include: ['test/unit/**/*.test.ts'], isolate: false },
      },
      {
        extends: true,
        test: { name: 'integration', include: ['test/integration/**/*.test.ts'] },
      },
      {
        extends: true,
        // Every line the local stack and the child processes write is captured and scanned for secrets after
        // each file (test/e2e/setup.ts).
        test: { name: 'e2e', include: ['test/e2e/**/*.test.ts'], setupFiles: ['test/e2e/setup.ts'] },
      },
    ],
  },
});
