import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // PGlite needs a few seconds to start on a busy machine.
    hookTimeout: 30_000,
    testTimeout: 15_000,
  },
});
