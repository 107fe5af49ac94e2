import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import type { TestProject } from 'vitest/node';
import { migrateUp } from '../../lib/db/migrate.js';
import { type EmbeddedDatabase, startEmbeddedPostgres } from '../../scripts/lib/embedded-postgres.js';
import { dayClaimsDir } from './recon-books.js';

/**
 * One fresh database per test run. With DATABASE_URL set (CI's second pass: the machine's
 * PostgreSQL 15) a new database is created on that server and dropped afterwards; without it a
 * real embedded PostgreSQL is started in a temp folder. Either way runs never collide or leave state.
 */

declare module 'vitest' {
  export interface ProvidedContext {
    databaseUrl: string;
    adminDatabaseUrl: string;
  }
}

export function withDatabase(url: string, database: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${database}`;
  return parsed.toString();
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  let embedded: EmbeddedDatabase | undefined;
  let dataDir: string | undefined;
  let adminUrl = process.env.DATABASE_URL;
  if (!adminUrl) {
    dataDir = mkdtempSync(join(tmpdir(), 'bf-test-pg-'));
    embedded = await startEmbeddedPostgres({ dataDir, persistent: false });
    adminUrl = embedded.adminUrl;
  }
  const database = `bf_test_${Date.now().toString(36)}_${process.pid}_${Math.random().toString(36).slice(2, 8)}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${database}`);
  await admin.end();
  const databaseUrl = withDatabase(adminUrl, database);
  await migrateUp({ databaseUrl });

  project.provide('databaseUrl', databaseUrl);
  project.provide('adminDatabaseUrl', adminUrl);

  return async () => {
    const cleanup = new pg.Client({ connectionString: adminUrl });
    await cleanup.connect();
    await cleanup.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
    // Databases made by individual tests (migration tests) follow the same naming.
    const { rows } = await cleanup.query<{ datname: string }>('SELECT datname FROM pg_database WHERE datname LIKE $1', [
      `${database}_%`,
    ]);
    for (const row of rows) await cleanup.query(`DROP DATABASE IF EXISTS ${row.datname} WITH (FORCE)`);
    await cleanup.end();
    rmSync(dayClaimsDir(databaseUrl), { recursive: true, force: true });
    if (embedded) await embedded.stop();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  };
}
