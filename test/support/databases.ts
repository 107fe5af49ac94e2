import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { inject } from 'vitest';
import { withDatabase } from './global-setup.js';

/**
 * An extra, empty database for tests that need one of their own (migration tests). Its name starts
 * with the run's database name, so the global teardown drops it.
 */
export async function createEmptyDatabase(label: string): Promise<string> {
  const runDatabase = new URL(inject('databaseUrl')).pathname.slice(1);
  const name = `${runDatabase}_${label}_${randomUUID().replaceAll('-', '').slice(0, 8)}`;
  const admin = new pg.Client({ connectionString: inject('adminDatabaseUrl') });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  return withDatabase(inject('adminDatabaseUrl'), name);
}

/** Runs `fn` with a plain pg client on `url`. */
export async function withClient<T>(url: string, fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}
