import { defineConfig } from 'vitest/config';

/**
 * Three projects:
 * - unit: pure modules, fast, parallel;
 * - integration: real RabbitMQ on 127.0.0.1:5672 and real sockets, each test with its own
 *   queue names; parallel across files, limited to the machine's two cores;
 * - disruptive: tests that close every broker connection or restart processes the others
 *   depend on; run after the others, one file at a time.
 */
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['test/unit/**/*.test.ts'],
          environment: 'node',
          sequence: { groupOrder: 0 },
        },
      },
      {
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts'],
          environment: 'node',
          sequence: { groupOrder: 1 },
          testTimeout: 60_000,
          hookTimeout: 60_000,
          maxWorkers: 2,
        },
      },
      {
        test: {
          name: 'disruptive',
          include: ['test/disruptive/**/*.test.ts'],
          environment: 'node',
          sequence: { groupOrder: 2 },
          testTimeout: 120_000,
          hookTimeout: 60_000,
          fileParallelism: false,
          maxWorkers: 1,
        },
      },
    ],
  },
});
