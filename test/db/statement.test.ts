import { afterEach, describe, expect, it } from 'vitest';
import { resetConfigForTests } from '../../lib/config.js';
import { closePool, db, transaction } from '../../lib/db/client.js';
import { namedStatement } from '../../lib/db/statement.js';

/**
 * Named statements (lib/db/statement.ts): the hot statements are prepared once per connection, seen in
 * the server's own pg_prepared_statements of that connection; DATABASE_PREPARED_STATEMENTS=off sends
 * them unnamed. (The vercel-postgres driver runs the same check in vercel-postgres-driver.test.ts.)
 */

const SQUARE = namedStatement('test_square', 'SELECT $1::int * $1::int AS n');

async function preparedOnThisConnection(): Promise<{ names: string[]; squares: number[] }> {
  return await transaction(async (tx) => {
    const squares: number[] = [];
    for (const n of [2, 3, 4]) squares.push((await tx.queryOne<{ n: number }>(SQUARE, [n]))?.n ?? -1);
    const rows = await tx.queryMany<{ name: string }>('SELECT name FROM pg_prepared_statements ORDER BY name');
    return { names: rows.map((r) => r.name), squares };
  });
}

afterEach(async () => {
  delete process.env.DATABASE_PREPARED_STATEMENTS;
  resetConfigForTests();
  await closePool();
});

describe('named statements', () => {
  it('are prepared on the connection once and answer like the plain text', async () => {
    const { names, squares } = await preparedOnThisConnection();
    expect(squares).toEqual([4, 9, 16]);
    expect(names).toContain('bf_test_square');
    expect(names.filter((n) => n === 'bf_test_square')).toHaveLength(1);
    expect((await db.queryOne<{ n: number }>(SQUARE, [5]))?.n).toBe(25);
  });

  it('DATABASE_PREPARED_STATEMENTS=off sends them unnamed (for poolers that do not track them)', async () => {
    process.env.DATABASE_PREPARED_STATEMENTS = 'off';
    resetConfigForTests();
    await closePool();
    const { names, squares } = await preparedOnThisConnection();
    expect(squares).toEqual([4, 9, 16]);
    expect(names).not.toContain('bf_test_square');
  });

  it('refuses one name declared with two texts, and names that are not snake_case', () => {
    expect(namedStatement('test_square', 'SELECT $1::int * $1::int AS n')).toEqual(SQUARE);
    expect(() => namedStatement('test_square', 'SELECT 1')).toThrow(/declared twice/);
    expect(() => namedStatement('Test-Square', 'SELECT 1')).toThrow(/snake_case/);
  });

  it('the checkout read is one of them', async () => {
    const { readCheckout } = await import('../../lib/db/queries/checkout.js');
    const names = await transaction(async (tx) => {
      await readCheckout(tx, { eventSlug: 'no-such-event', codes: ['x'], now: new Date() });
      return (await tx.queryMany<{ name: string }>('SELECT name FROM pg_prepared_statements')).map((r) => r.name);
    });
    expect(names).toContain('bf_read_checkouts');
  });

  it('the checkout read keeps its generic plan (it is not planned again on every call)', async () => {
    // PostgreSQL sizes unnest() of an array it can see exactly; with arrays as parameters the custom plan
    // always looked cheaper and the read was planned on every call (0 generic plans in 4,000). jsonb is not.
    const { readCheckout } = await import('../../lib/db/queries/checkout.js');
    const plans = await transaction(async (tx) => {
      for (let i = 0; i < 12; i++) {
        await readCheckout(tx, {
          eventSlug: 'no-such-event',
          codes: ['x'],
          hits: [{ bucket: `test:generic-plan:${process.pid}:${Date.now()}:${i}`, windowSeconds: 60 }],
          now: new Date(),
        });
      }
      return await tx.queryOne<{ generic: number; custom: number }>(
        "SELECT generic_plans::int AS generic, custom_plans::int AS custom FROM pg_prepared_statements WHERE name = 'bf_read_checkouts'",
      );
    });
    expect(plans?.generic).toBeGreaterThanOrEqual(6);
  });
});

describe('a named statement whose cached plan went stale', () => {
  it('fails once after a migration changes its result, then the next connection prepares it afresh', async () => {
    process.env.DATABASE_POOL_MAX = '1'; // one connection: the one that prepared the statement
    resetConfigForTests();
    await closePool();
    try {
      const table = `stale_statement_${process.pid}_${Date.now()}`;
      await db.query(`CREATE TABLE ${table} (a int)`);
      await db.query(`INSERT INTO ${table} VALUES (1)`);
      const read = namedStatement(`test_stale_${process.pid}`, `SELECT * FROM ${table}`);
      const inTransaction = () => transaction(async (tx) => await tx.queryMany(read));
      expect(await inTransaction()).toEqual([{ a: 1 }]);
      const backend = await db.queryOne<{ pid: number }>('SELECT pg_backend_pid() AS pid');
      await db.query(`ALTER TABLE ${table} ADD COLUMN b int DEFAULT 2`);
      await expect(inTransaction()).rejects.toMatchObject({ sqlState: '0A000' });
      // That connection was dropped: a new backend, and the statement prepared again with the new columns.
      expect(await inTransaction()).toEqual([{ a: 1, b: 2 }]);
      expect((await db.queryOne<{ pid: number }>('SELECT pg_backend_pid() AS pid'))?.pid).not.toBe(backend?.pid);
      await db.query(`DROP TABLE ${table}`);
    } finally {
      delete process.env.DATABASE_POOL_MAX;
    }
  });
});
