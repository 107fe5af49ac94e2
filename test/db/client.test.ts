import { afterEach, describe, expect, inject, it } from 'vitest';
import { ConfigError, resetConfigForTests } from '../../lib/config.js';
import { closePool, db, getPool } from '../../lib/db/client.js';
import { DbError } from '../../lib/db/errors.js';

const runDatabase = inject('databaseUrl');

afterEach(async () => {
  await closePool();
  process.env.DATABASE_URL = runDatabase;
  delete process.env.POSTGRES_URL;
  resetConfigForTests();
});

describe('the shared client', () => {
  it('creates one pool lazily and reuses it', async () => {
    const first = await getPool();
    expect(await getPool()).toBe(first);
    const rows = await db.queryMany<{ n: number }>('SELECT generate_series(1, 3) AS n');
    expect(rows.map((r) => r.n)).toEqual([1, 2, 3]);
    expect(await db.queryOne('SELECT 1 WHERE false')).toBeUndefined();
    const { rows: counted } = await db.query<{ count: number }>('SELECT count(*) AS count FROM generate_series(1, 5)');
    expect(counted[0]?.count).toBe(5);
  });

  it("falls back to Vercel's POSTGRES_URL when DATABASE_URL is unset", async () => {
    await closePool();
    delete process.env.DATABASE_URL;
    process.env.POSTGRES_URL = runDatabase;
    resetConfigForTests();
    expect((await db.queryOne<{ db: string }>('SELECT current_database() AS db'))?.db).toBe(
      new URL(runDatabase).pathname.slice(1),
    );
  });

  it('refuses clearly when no database is configured', async () => {
    await closePool();
    delete process.env.DATABASE_URL;
    resetConfigForTests();
    await expect(db.query('SELECT 1')).rejects.toBeInstanceOf(ConfigError);
  });

  it('maps a refused connection to CONNECTION_ERROR', async () => {
    await closePool();
    process.env.DATABASE_URL = 'postgres://postgres@127.0.0.1:1/nothing';
    resetConfigForTests();
    const error = await db.query('SELECT 1').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DbError);
    expect((error as DbError).kind).toBe('CONNECTION_ERROR');
  });

  it('enforces the statement timeout', async () => {
    await closePool();
    process.env.DATABASE_STATEMENT_TIMEOUT_MS = '200';
    resetConfigForTests();
    try {
      const error = await db.query('SELECT pg_sleep(2)').catch((e: unknown) => e);
      expect((error as DbError).kind).toBe('STATEMENT_TIMEOUT');
    } finally {
      delete process.env.DATABASE_STATEMENT_TIMEOUT_MS;
    }
  });
});
