import { ConfigError, getConfig } from '../config.js';
import { discardAfterCommit, runAfterCommit } from './after-commit.js';
import { DbError, toDbError } from './errors.js';
import type { DbClient, DbPool, DbQueryResult, PoolSettings } from './drivers/types.js';
import { isNamedStatement, type NamedStatement } from './statement.js';

/**
 * The one pooled client per process. Created lazily on first use (nothing happens at import time),
 * configured from env (DATABASE_URL, else POSTGRES_URL), with the driver chosen by DATABASE_DRIVER.
 */

export type Row = Record<string, unknown>;

/** Anything that can run a query: the pool-backed `db` or a transaction's `tx`. */
/** SQL text, or a hot statement declared with namedStatement() (lib/db/statement.ts). */
export type Sql = string | NamedStatement;

export interface Queryable {
  query<R = Row>(text: Sql, params?: readonly unknown[]): Promise<DbQueryResult<R>>;
  /** The first row, or undefined when there is none. */
  queryOne<R = Row>(text: Sql, params?: readonly unknown[]): Promise<R | undefined>;
  queryMany<R = Row>(text: Sql, params?: readonly unknown[]): Promise<R[]>;
}

export type Tx = Queryable & { readonly inTransaction: true };

let poolPromise: Promise<DbPool> | undefined;

export function poolSettings(connectionString: string): PoolSettings {
  const { database } = getConfig();
  return {
    connectionString,
    max: database.poolMax,
    connectionTimeoutMillis: database.connectTimeoutMs,
    idleTimeoutMillis: database.idleTimeoutMs,
    statementTimeoutMillis: database.statementTimeoutMs,
    queryTimeoutMillis: database.queryTimeoutMs,
    applicationName: 'boulder-fest-payments',
  };
}

async function driverPool(settings: PoolSettings): Promise<DbPool> {
  const { database } = getConfig();
  if (database.driver === 'vercel-postgres') {
    const { createVercelPostgresPool } = await import('./drivers/vercel-postgres.js');
    return createVercelPostgresPool(settings, { wsProxy: database.vercelPostgresWsProxy });
  }
  const { createPgPool } = await import('./drivers/pg.js');
  return createPgPool(settings);
}

/**
 * Opens one connection of its own (never one of the pool's), asks `SELECT 1` and closes it, all within
 * `timeoutMs`: whether the server still ACCEPTS connections. The pool's open connections can keep
 * answering while the main postgres process (which forks every new backend) is frozen or gone; health
 * must not call that healthy, since every new function instance would hang on connect.
 */
export async function probeNewConnection(timeoutMs: number): Promise<void> {
  const { database } = getConfig();
  if (!database.url) throw new ConfigError('No database configured: set DATABASE_URL (or POSTGRES_URL on Vercel)');
  const ms = Math.max(100, Math.floor(timeoutMs));
  const pool = await driverPool({
    ...poolSettings(database.url),
    max: 1,
    connectionTimeoutMillis: ms,
    queryTimeoutMillis: ms,
    statementTimeoutMillis: ms,
    applicationName: 'boulder-fest-payments-health',
  });
  try {
    await pool.query('SELECT 1');
  } catch (error) {
    void pool.end().catch(() => undefined); // a frozen server may never answer the goodbye
    throw toDbError(error);
  }
  await pool.end().catch(() => undefined);
}

async function createPool(): Promise<DbPool> {
  const { database } = getConfig();
  if (!database.url) {
    throw new ConfigError('No database configured: set DATABASE_URL (or POSTGRES_URL on Vercel)');
  }
  const settings = poolSettings(database.url);
  // Lets Vercel keep the instance alive just long enough to close idle clients cleanly. Loaded here, with the
  // pool (and alongside the driver), so functions that answer without the database (401, 400) never pay for it.
  const vercelFunctions = import('@vercel/functions/db-connections');
  vercelFunctions.catch(() => undefined); // awaited below; no unhandled rejection if the driver fails first
  const pool = await driverPool(settings);
  const { attachDatabasePool } = await vercelFunctions;
  attachDatabasePool(pool as Parameters<typeof attachDatabasePool>[0]);
  return pool;
}

export function getPool(): Promise<DbPool> {
  if (!poolPromise) {
    poolPromise = createPool();
    // A failed creation must not poison every later call.
    poolPromise.catch(() => {
      poolPromise = undefined;
    });
  }
  return poolPromise;
}

/** Closes the pool (dev server shutdown, tests). The next query opens a new one. */
export async function closePool(): Promise<void> {
  const current = poolPromise;
  poolPromise = undefined;
  if (current) {
    const pool = await current.catch(() => undefined);
    await pool?.end();
  }
}

/** 0A000 "cached plan must not change result type", 26000 "prepared statement … does not exist". */
function staleStatementState(sqlState: string | undefined): boolean {
  return sqlState === '0A000' || sqlState === '26000';
}

/** Runs `sql` on a pool or a client: a named statement as such (unless DATABASE_PREPARED_STATEMENTS=off). */
async function send<R>(target: DbPool | DbClient, sql: Sql, params?: readonly unknown[]): Promise<DbQueryResult<R>> {
  if (!isNamedStatement(sql)) return await target.query<R>(sql, params);
  if (!getConfig().database.preparedStatements) return await target.query<R>(sql.text, params);
  return await target.query<R>({ name: sql.name, text: sql.text, values: params ? [...params] : [] });
}

function queryable(run: <R>(text: Sql, params?: readonly unknown[]) => Promise<DbQueryResult<R>>): Queryable {
  return {
    query: run,
    async queryOne<R>(text: Sql, params?: readonly unknown[]) {
      const result = await run<R>(text, params);
      return result.rows[0];
    },
    async queryMany<R>(text: Sql, params?: readonly unknown[]) {
      const result = await run<R>(text, params);
      return result.rows;
    },
  };
}

/** Pool-level queries (each may use a different connection). */
export const db: Queryable = queryable(async <R>(text: Sql, params?: readonly unknown[]) => {
  try {
    const pool = await getPool();
    return await send<R>(pool, text, params);
  } catch (error) {
    if (error instanceof ConfigError) throw error;
    throw toDbError(error);
  }
});

export const query = db.query;
export const queryOne = db.queryOne;
export const queryMany = db.queryMany;

export type IsolationLevel = 'read committed' | 'repeatable read' | 'serializable';

export interface TransactionOptions {
  isolation?: IsolationLevel;
  /** Retries after a serialization failure or deadlock (40001, 40P01). Default 3. */
  maxRetries?: number;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Runs `fn` inside BEGIN/COMMIT on one connection. Any throw rolls back and is rethrown; a
 * serialization failure or deadlock reruns the whole function a bounded number of times, so `fn`
 * must not have side effects outside the database (no provider calls inside a transaction).
 */
export async function transaction<T>(fn: (tx: Tx) => Promise<T>, options: TransactionOptions = {}): Promise<T> {
  const maxRetries = options.maxRetries ?? 3;
  for (let attempt = 0; ; attempt++) {
    try {
      return await runOnce(fn, options.isolation ?? 'read committed');
    } catch (error) {
      const dbError = error instanceof DbError ? error : undefined;
      if (dbError?.retryable && attempt < maxRetries) {
        await sleep(5 * 2 ** attempt + Math.random() * 10);
        continue;
      }
      throw error;
    }
  }
}

async function runOnce<T>(fn: (tx: Tx) => Promise<T>, isolation: IsolationLevel): Promise<T> {
  let client: DbClient;
  try {
    client = await (await getPool()).connect();
  } catch (error) {
    if (error instanceof ConfigError) throw error;
    throw toDbError(error);
  }
  let broken: Error | undefined;
  const run = async <R>(text: Sql, params?: readonly unknown[]) => {
    try {
      return await send<R>(client, text, params);
    } catch (error) {
      const mapped = toDbError(error);
      // A named statement the connection can no longer run (its cached plan's result type changed with a
      // migration, or a pooler lost it): the connection is dropped too, so the next one prepares it afresh.
      if (mapped.kind === 'CONNECTION_ERROR' || (isNamedStatement(text) && staleStatementState(mapped.sqlState))) broken = mapped;
      throw mapped;
    }
  };
  const tx: Tx = { ...queryable(run), inTransaction: true };
  try {
    await run(`BEGIN ISOLATION LEVEL ${isolation.toUpperCase()}`);
    const result = await fn(tx);
    await run('COMMIT');
    runAfterCommit(tx);
    return result;
  } catch (error) {
    discardAfterCommit(tx);
    if (!broken) {
      try {
        await client.query('ROLLBACK');
      } catch (rollbackError) {
        broken = toDbError(rollbackError);
      }
    }
    throw error;
  } finally {
    // A connection that failed mid-transaction is destroyed rather than returned to the pool.
    client.release(broken ?? undefined);
  }
}
