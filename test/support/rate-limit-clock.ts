import { setRateLimitCleanupChanceForTests } from '../../lib/http/rate-limit.js';

/**
 * For a test file that moves the rate-limit clock years ahead: a clean-up from there would delete the counters
 * other test files are counting right now (they share the database), so the calling file never cleans up.
 * Call it once at the top of the file (each file has its own module state).
 */
export function neverCleanUpRateLimits(): void {
  setRateLimitCleanupChanceForTests(0);
}
