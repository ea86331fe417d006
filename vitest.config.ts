import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/support/scratch-root.ts'],
    testTimeout: 60_000,
    hookTimeout: 300_000,
  },
});
