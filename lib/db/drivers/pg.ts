import pg from 'pg';
import { type DbPool, type PoolSettings, pgPoolOptions } from './types.js';

/** int8 (COUNT(*), SUM over integers) as a JS number; our amounts stay far below 2^53. */
const types = {
  getTypeParser(oid: number, format?: 'text' | 'binary') {
    if (oid === pg.types.builtins.INT8) return (value: string) => Number(value);
    return format === 'binary' ? pg.types.getTypeParser(oid, 'binary') : pg.types.getTypeParser(oid, 'text');
  },
};

/** The default driver: node-postgres' Pool. */
export function createPgPool(settings: PoolSettings): DbPool & pg.Pool {
  const pool = new pg.Pool({
    ...pgPoolOptions(settings),
    // Serverless instances freeze between requests; keepalive lets the OS notice dead peers.
    keepAlive: true,
    types,
  });
  // An idle client that loses its connection emits 'error' on the pool; without a listener the
  // process would crash. The next checkout simply opens a new connection.
  pool.on('error', () => undefined);
  return pool;
}
