import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    environment: 'node',
    // Integration and end-to-end tests start servers on loopback; give them room on a two-core machine.
    testTimeout: 20_000,
    hookTimeout: 30_000,
  },
});
