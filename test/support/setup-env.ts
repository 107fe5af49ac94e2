import { afterAll, inject } from 'vitest';
import { resetConfigForTests } from '../../lib/config.js';
import { closePool } from '../../lib/db/client.js';

/** Runs in every test file before its tests: point lib/ at the run's fresh database. */
process.env.DATABASE_URL = inject('databaseUrl');
process.env.NODE_ENV = 'test';
process.env.LOG_LEVEL ??= 'silent';
process.env.ALLOWED_ORIGINS ??= 'https://www.alocubanoboulderfest.org,http://localhost:3000';
// Request outcome counts stay in memory until a test calls flushRequestMetrics() (lib/ops/request-metrics.ts).
process.env.REQUEST_METRICS_FLUSH_MS = '2147483647';
resetConfigForTests();

afterAll(async () => {
  await closePool();
});
