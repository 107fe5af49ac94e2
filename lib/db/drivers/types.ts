/**
 * The small surface every database driver offers. `pg`'s Pool and @vercel/postgres' (Neon's) Pool both
 * satisfy it, so the rest of lib/db never knows which driver runs underneath.
 */
export interface DbQueryResult<R> {
  rows: R[];
  rowCount: number | null;
}

/** A named (prepared) statement as both drivers take it: node-postgres' query config. */
export interface DbQueryConfig {
  name: string;
  text: string;
  values?: unknown[];
}

export interface DbClient {
  query<R = Record<string, unknown>>(text: string, params?: readonly unknown[]): Promise<DbQueryResult<R>>;
  query<R = Record<string, unknown>>(config: DbQueryConfig): Promise<DbQueryResult<R>>;
  release(error?: Error | boolean): void;
}

export interface DbPool {
  query<R = Record<string, unknown>>(text: string, params?: readonly unknown[]): Promise<DbQueryResult<R>>;
  query<R = Record<string, unknown>>(config: DbQueryConfig): Promise<DbQueryResult<R>>;
  connect(): Promise<DbClient>;
  end(): Promise<void>;
}

export interface PoolSettings {
  connectionString: string;
  /** Most connections one function instance may hold. */
  max: number;
  /** How long to wait for a new connection before failing (ms). */
  connectionTimeoutMillis: number;
  /** How long an idle connection is kept (ms). */
  idleTimeoutMillis: number;
  /** Server-side statement_timeout for every session (ms). */
  statementTimeoutMillis: number;
  /**
   * Client-side deadline of one query (ms): node-postgres' `query_timeout`. A frozen server cannot
   * enforce its statement_timeout; this still ends the wait (the connection is then discarded).
   */
  queryTimeoutMillis?: number | undefined;
  applicationName: string;
}

/** The settings under node-postgres' pool option names, which both drivers take (@vercel/postgres' Pool is pg's). */
export function pgPoolOptions(settings: PoolSettings) {
  return {
    connectionString: settings.connectionString,
    max: settings.max,
    connectionTimeoutMillis: settings.connectionTimeoutMillis,
    idleTimeoutMillis: settings.idleTimeoutMillis,
    statement_timeout: settings.statementTimeoutMillis,
    query_timeout: settings.queryTimeoutMillis,
    application_name: settings.applicationName,
  };
}
