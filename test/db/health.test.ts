import { randomUUID } from 'node:crypto';
import { copyFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterEach, describe, expect, inject, it } from 'vitest';
import * as health from '../../api/health.js';
import { resetConfigForTests } from '../../lib/config.js';
import { closePool } from '../../lib/db/client.js';
import { checkHealth } from '../../lib/db/queries/health.js';
import { listMigrationFiles, migrateUp } from '../../lib/db/migrate.js';
import { freePort } from '../../scripts/lib/embedded-postgres.js';
import { withDatabase } from '../support/global-setup.js';
import { call } from '../support/http.js';

const runDatabase = inject('databaseUrl');

async function useDatabase(url: string) {
  await closePool();
  process.env.DATABASE_URL = url;
  resetConfigForTests();
}

/** An empty database of its own on the run's server (named after the run's, so the run's cleanup finds it). */
async function scratchDatabase(tag: string): Promise<string> {
  const admin = new pg.Client({ connectionString: inject('adminDatabaseUrl') });
  await admin.connect();
  const name = `${new URL(runDatabase).pathname.slice(1)}_${tag}_${randomUUID().slice(0, 6)}`;
  try {
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  return withDatabase(inject('adminDatabaseUrl'), name);
}

afterEach(async () => {
  await useDatabase(runDatabase);
  delete process.env.MIGRATIONS_DIR;
});

describe('GET /api/health', () => {
  it('is healthy on a migrated database, uncached, with no connection string in it', async () => {
    const res = await call(health.GET, { path: '/api/health' });
    expect(res.status).toBe(200);
    expect(res.body.status).toBe('healthy');
    expect(res.body.checks.database.status).toBe('up');
    expect(typeof res.body.checks.database.latencyMs).toBe('number');
    expect(res.body.checks.migrations).toEqual({
      status: 'current',
      applied: listMigrationFiles().length,
      pending: [],
      missing: [],
    });
    expect(res.body.version).toEqual(expect.any(String));
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(res.text).not.toContain('postgres://');
    expect(res.text).not.toContain('127.0.0.1');
  });

  it('is degraded (still 200) with the pending migrations named', async () => {
    // A database with all but the last migration applied.
    const url = await scratchDatabase('health');
    const files = listMigrationFiles();
    const partial = mkdtempSync(join(tmpdir(), 'bf-mig-'));
    for (const file of files.slice(0, -1)) copyFileSync(file.path, join(partial, `${file.name}.sql`));
    await migrateUp({ databaseUrl: url, dir: partial });
    await useDatabase(url);

    const res = await call(health.GET, { path: '/api/health' });
    expect(res.status).toBe(200);
    expect(res.body.status).toBe('degraded');
    expect(res.body.checks.migrations.status).toBe('pending');
    expect(res.body.checks.migrations.pending).toEqual([files.at(-1)?.name]);
  });

  it('is degraded, naming them, when applied migrations are missing from the deployment (code older than the schema)', async () => {
    const files = listMigrationFiles();
    const older = mkdtempSync(join(tmpdir(), 'bf-mig-'));
    for (const file of files.slice(0, -1)) copyFileSync(file.path, join(older, `${file.name}.sql`));

    const report = await checkHealth({ migrationsDir: older });

    expect(report.status).toBe('degraded');
    expect(report.checks.migrations).toEqual({
      status: 'missing',
      applied: files.length,
      pending: [],
      missing: [files.at(-1)?.name],
    });
  });

  it('is degraded, not a 500, when the deployed migrations cannot be read; no path in the report', async () => {
    const gone = join(tmpdir(), `bf-no-migrations-${randomUUID()}`);

    const report = await checkHealth({ migrationsDir: gone });

    expect(report.status).toBe('degraded');
    expect(report.checks.database.status).toBe('up');
    expect(report.checks.migrations).toEqual({
      status: 'unknown',
      applied: 0,
      pending: [],
      missing: [],
      error: 'MIGRATIONS_UNREADABLE',
    });
    expect(JSON.stringify(report)).not.toContain(gone);
  });

  it('is unhealthy, not degraded with the database up, when the database stalls after answering SELECT 1', async () => {
    // Its own database: the migrations table is locked there, nobody else's queries wait.
    const url = await scratchDatabase('stall');
    await migrateUp({ databaseUrl: url });
    await useDatabase(url);
    const locker = new pg.Client({ connectionString: url });
    await locker.connect();
    try {
      await locker.query('BEGIN');
      await locker.query('LOCK TABLE pgmigrations IN ACCESS EXCLUSIVE MODE');

      const report = await checkHealth({ timeoutMs: 1_000 });

      expect(report.status).toBe('unhealthy');
      expect(report.checks.database).toMatchObject({ status: 'down', error: 'TIMEOUT' });
    } finally {
      await locker.query('ROLLBACK').catch(() => undefined);
      await locker.end();
    }
  });

  it('is 503 unhealthy, quickly, when the database cannot be reached', async () => {
    const deadPort = await freePort();
    await useDatabase(`postgres://postgres:secret-password@127.0.0.1:${deadPort}/nothing`);
    const res = await call(health.GET, { path: '/api/health' });
    expect(res.status).toBe(503);
    expect(res.body.status).toBe('unhealthy');
    expect(res.body.checks.database.status).toBe('down');
    expect(res.body.checks.database.error).toBe('CONNECTION_ERROR');
    expect(res.text).not.toContain('secret-password');
    expect(res.text).not.toContain(String(deadPort));
  });

  it('answers 405 with Allow for other methods', async () => {
    const res = await call(health.POST, { method: 'POST', path: '/api/health' });
    expect(res.status).toBe(405);
    expect(res.headers.get('allow')).toBe('GET');
    expect(res.body.error.code).toBe('METHOD_NOT_ALLOWED');
    expect(res.body.error.requestId).toBe(res.headers.get('x-request-id'));
  });
});
