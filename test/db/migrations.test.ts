import { execFile } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import {
  listMigrationFiles,
  migrateDown,
  migrateDryRun,
  migrateUp,
  migrationStatus,
  migrationsDir,
} from '../../lib/db/migrate.js';
import { createEmptyDatabase, withClient } from '../support/databases.js';

const run = promisify(execFile);
const files = listMigrationFiles();
const names = files.map((f) => f.name);

/** Everything the schema owns in `public`, apart from the runner's own bookkeeping tables. */
async function schemaObjects(url: string): Promise<string[]> {
  return await withClient(url, async (client) => {
    const { rows } = await client.query<{ object: string }>(`
      SELECT 'table:' || tablename AS object FROM pg_tables
        WHERE schemaname = 'public' AND tablename NOT IN ('pgmigrations', 'pgmigrations_checksums')
      UNION ALL SELECT 'function:' || proname FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = 'public'
      UNION ALL SELECT 'type:' || typname FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
        WHERE n.nspname = 'public' AND t.typtype = 'd'
      UNION ALL SELECT 'sequence:' || sequencename FROM pg_sequences
        WHERE schemaname = 'public' AND sequencename NOT LIKE 'pgmigrations%'
      ORDER BY 1`);
    return rows.map((r) => r.object);
  });
}

function copyMigrations(): string {
  const dir = mkdtempSync(join(tmpdir(), 'bf-migrations-'));
  for (const file of files) copyFileSync(file.path, join(dir, `${file.name}.sql`));
  return dir;
}

describe('migrations', () => {
  it('go up from empty, down to empty, and up again; a second up is a no-op', async () => {
    const url = await createEmptyDatabase('updown');
    expect(await migrateUp({ databaseUrl: url })).toEqual(names);
    const full = await schemaObjects(url);
    expect(full).toEqual(
      expect.arrayContaining(['table:orders', 'table:payments', 'table:payment_audit_log', 'type:money_cents']),
    );

    expect(await migrateUp({ databaseUrl: url })).toEqual([]);

    const reverted = await migrateDown({ databaseUrl: url, count: Number.POSITIVE_INFINITY });
    expect(reverted).toEqual([...names].reverse());
    expect(await schemaObjects(url)).toEqual([]);
    expect((await migrationStatus({ databaseUrl: url })).applied).toEqual([]);

    expect(await migrateUp({ databaseUrl: url })).toEqual(names);
    expect(await schemaObjects(url)).toEqual(full);
  });

  it('reverts one migration at a time by default', async () => {
    const url = await createEmptyDatabase('downone');
    await migrateUp({ databaseUrl: url });
    expect(await migrateDown({ databaseUrl: url })).toEqual([names.at(-1)]);
    expect((await migrationStatus({ databaseUrl: url })).pending).toEqual([names.at(-1)]);
  });

  it('dry-run prints the pending SQL and changes nothing', async () => {
    const url = await createEmptyDatabase('dryrun');
    const before = await withClient(url, async (c) => (await c.query('SELECT count(*)::int AS n FROM pg_class')).rows[0].n);
    const plan = await migrateDryRun({ databaseUrl: url });
    expect(plan.map((step) => step.name)).toEqual(names);
    expect(plan[0]?.sql).toContain('CREATE FUNCTION set_updated_at');
    expect(plan.some((step) => step.sql.includes('DROP TABLE'))).toBe(false);
    const after = await withClient(url, async (c) => (await c.query('SELECT count(*)::int AS n FROM pg_class')).rows[0].n);
    expect(after).toBe(before);
    expect(await schemaObjects(url)).toEqual([]);
  });

  it('refuses to run when an applied migration was edited, naming the file', async () => {
    const url = await createEmptyDatabase('edited');
    const dir = copyMigrations();
    await migrateUp({ databaseUrl: url, dir });
    const target = join(dir, `${names[2]}.sql`);
    writeFileSync(target, `${readFileSync(target, 'utf8')}\n-- a sneaky edit\n`);
    writeFileSync(
      join(dir, '9999_new_table.sql'),
      '-- Up Migration\nCREATE TABLE later (id int);\n-- Down Migration\nDROP TABLE later;\n',
    );

    await expect(migrateUp({ databaseUrl: url, dir })).rejects.toThrow(`migration ${names[2]}.sql was edited`);
    const state = await migrationStatus({ databaseUrl: url, dir });
    expect(state.edited).toEqual([names[2]]);
    // Nothing after the refusal was applied.
    expect(state.pending).toEqual(['9999_new_table']);
  });

  it('applies all pending migrations or none: a failing one rolls back the whole run', async () => {
    const url = await createEmptyDatabase('atomic');
    const dir = copyMigrations();
    writeFileSync(
      join(dir, '9999_broken.sql'),
      '-- Up Migration\nCREATE TABLE broken (id int REFERENCES nowhere(id));\n-- Down Migration\nDROP TABLE broken;\n',
    );
    await expect(migrateUp({ databaseUrl: url, dir })).rejects.toThrow(/nowhere/);
    expect(await schemaObjects(url)).toEqual([]);
    expect((await migrationStatus({ databaseUrl: url, dir })).applied).toEqual([]);
  });

  it('lets concurrent runners produce one consistent schema (others wait, then find nothing to do)', async () => {
    const url = await createEmptyDatabase('race');
    const results = await Promise.all(Array.from({ length: 5 }, () => migrateUp({ databaseUrl: url })));
    const appliedRuns = results.filter((applied) => applied.length > 0);
    expect(appliedRuns).toEqual([names]);
    const counts = await withClient(
      url,
      async (c) => (await c.query('SELECT name, count(*)::int AS n FROM pgmigrations GROUP BY name ORDER BY name')).rows,
    );
    expect(counts).toEqual(names.map((name) => ({ name, n: 1 })));
  });

  it('fails with a clear message, applying nothing, when another runner holds the lock too long', async () => {
    const url = await createEmptyDatabase('locked');
    await withClient(url, async (holder) => {
      await holder.query('SELECT pg_advisory_lock($1)', [0x4246_5041_59]);
      await expect(migrateUp({ databaseUrl: url, lockWaitMs: 300 })).rejects.toThrow(
        'another migration run holds the lock and did not finish in time; nothing was applied',
      );
    });
    expect(await schemaObjects(url)).toEqual([]);
  });

  it('the npm CLI exits non-zero with a one-line reason on failure, and applies then no-ops on success', async () => {
    const url = await createEmptyDatabase('cli');
    const env = { ...process.env, DATABASE_URL: url, POSTGRES_URL_NON_POOLING: '' };
    const first = await run('npx', ['tsx', 'scripts/migrate.ts', 'up'], { env });
    expect(first.stdout).toContain(`migrations: applied ${names[0]}`);
    const second = await run('npx', ['tsx', 'scripts/migrate.ts', 'up'], { env });
    expect(second.stdout.trim().split('\n').at(-1)).toBe('migrations: nothing to apply');
    const status = await run('npx', ['tsx', 'scripts/migrate.ts', 'status'], { env });
    expect(status.stdout).toContain(`applied (${names.length}):`);
    expect(status.stdout).toContain('pending (0):');

    const badUrl = new URL(url);
    badUrl.pathname = '/no_such_database_here';
    const failure = await run('npx', ['tsx', 'scripts/migrate.ts', 'up'], {
      env: { ...env, DATABASE_URL: badUrl.toString() },
    }).then(
      () => undefined,
      (error: { code: number; stderr: string }) => error,
    );
    expect(failure?.code).toBe(1);
    const lines = failure?.stderr.trim().split('\n') ?? [];
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^db:migrate up failed: .*no_such_database_here/);
  });
});

describe('migrationsDir', () => {
  it('is the repository migrations/ folder from lib/db', () => {
    expect(migrationsDir()).toBe(resolve(import.meta.dirname, '..', '..', 'migrations'));
  });

  it('finds the nearest migrations/ above the code wherever a bundle put it, whatever the working directory', () => {
    // A function folder as Vercel runs it: migrations/ at its root, code one or two levels down.
    const func = realpathSync(mkdtempSync(join(tmpdir(), 'bf-func-')));
    mkdirSync(join(func, 'migrations'));
    mkdirSync(join(func, 'api', '_chunks'), { recursive: true });
    expect(migrationsDir(join(func, 'api'))).toBe(join(func, 'migrations'));
    expect(migrationsDir(join(func, 'api', '_chunks'))).toBe(join(func, 'migrations'));
  });

  it('falls back to ./migrations from the working directory, then names where it looked', () => {
    const nowhere = realpathSync(mkdtempSync(join(tmpdir(), 'bf-none-')));
    // The repo's working directory has migrations/: the fallback finds it.
    expect(migrationsDir(nowhere)).toBe(resolve(process.cwd(), 'migrations'));
    const cwd = process.cwd();
    process.chdir(nowhere);
    try {
      expect(() => migrationsDir(nowhere)).toThrow(/migrations folder not found \(looked above .*bf-none-/);
    } finally {
      process.chdir(cwd);
    }
  });
});
