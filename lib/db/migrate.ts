import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import type { Queryable } from './client.js';

/**
 * The migration runner behind `npm run db:migrate*`, the dev server, the tests and /api/health.
 * node-pg-migrate applies the SQL files in migrations/ (one change per file, each with its down);
 * around it this module adds what the deploy pipeline needs:
 * - one runner at a time (an advisory lock; a second runner waits, then fails with a clear message),
 * - a SHA-256 checksum per applied file, so an edited migration is refused by name,
 * - a dry run that only reads and prints the SQL it would run.
 */

export const MIGRATIONS_TABLE = 'pgmigrations';
export const CHECKSUMS_TABLE = 'pgmigrations_checksums';
/** Our own advisory lock key (node-pg-migrate's lock is disabled: we hold this one for the whole run). */
const RUNNER_LOCK_KEY = 0x4246_5041_59; // "BFPAY"

export class MigrationError extends Error {
  override name = 'MigrationError';
}

export interface MigrationFile {
  name: string;
  path: string;
  checksum: string;
}

/**
 * The nearest `migrations/` folder above this module, else `./migrations` from the working directory.
 * Walking up (instead of a fixed `../../`) keeps it right wherever the code sits: lib/db/ in the repo,
 * or a function's bundle (`api/<route>.bundle.mjs` or `api/_chunks/`) with migrations/ at the folder root.
 */
export function migrationsDir(from = dirname(fileURLToPath(import.meta.url))): string {
  for (let dir = resolve(from); ; dir = dirname(dir)) {
    const candidate = join(dir, 'migrations');
    if (existsSync(candidate) && statSync(candidate).isDirectory()) return candidate;
    if (dirname(dir) === dir) break;
  }
  const fromCwd = resolve(process.cwd(), 'migrations');
  if (existsSync(fromCwd)) return fromCwd;
  throw new MigrationError(`migrations folder not found (looked above ${resolve(from)} and in ${fromCwd})`);
}

export function checksumOf(content: string): string {
  return createHash('sha256').update(content.replace(/\r\n/g, '\n')).digest('hex');
}

export function listMigrationFiles(dir = migrationsDir()): MigrationFile[] {
  return readdirSync(dir)
    .filter((file) => file.endsWith('.sql') && !file.startsWith('.'))
    .sort()
    .map((file) => {
      const path = join(dir, file);
      return { name: file.slice(0, -'.sql'.length), path, checksum: checksumOf(readFileSync(path, 'utf8')) };
    });
}

export interface MigrationState {
  applied: string[];
  pending: string[];
  /** Applied migrations whose file changed since they were applied. */
  edited: string[];
  /** Applied migrations with no file any more. */
  missing: string[];
}

/** Reads what is applied; changes nothing (works on an empty database). */
export async function readMigrationState(db: Queryable, dir = migrationsDir()): Promise<MigrationState> {
  const files = listMigrationFiles(dir);
  const tables = await db.queryOne<{ migrations: string | null; checksums: string | null }>(
    'SELECT to_regclass($1)::text AS migrations, to_regclass($2)::text AS checksums',
    [MIGRATIONS_TABLE, CHECKSUMS_TABLE],
  );
  const applied = tables?.migrations
    ? (await db.queryMany<{ name: string }>(`SELECT name FROM ${MIGRATIONS_TABLE} ORDER BY run_on, id`)).map((r) => r.name)
    : [];
  const stored = tables?.checksums
    ? new Map(
        (await db.queryMany<{ name: string; checksum: string }>(`SELECT name, checksum FROM ${CHECKSUMS_TABLE}`)).map(
          (r) => [r.name, r.checksum] as const,
        ),
      )
    : new Map<string, string>();
  const byName = new Map(files.map((file) => [file.name, file] as const));
  const appliedSet = new Set(applied);
  return {
    applied,
    pending: files.filter((file) => !appliedSet.has(file.name)).map((file) => file.name),
    edited: applied.filter((name) => {
      const file = byName.get(name);
      const checksum = stored.get(name);
      return file !== undefined && checksum !== undefined && checksum !== file.checksum;
    }),
    missing: applied.filter((name) => !byName.has(name)),
  };
}

export interface RunOptions {
  /** Direct (non-pooling) connection string. */
  databaseUrl: string;
  dir?: string;
  /** How long to wait for another runner to finish before failing. Default 60 s. */
  lockWaitMs?: number;
  log?: (line: string) => void;
}

function clientFor(url: string): pg.Client {
  return new pg.Client({ connectionString: url, application_name: 'boulder-fest-migrate', connectionTimeoutMillis: 10_000 });
}

function asQueryable(client: pg.Client): Queryable {
  return {
    query: async <R>(text: string, params?: readonly unknown[]) => {
      const result = await client.query(text, params as unknown[] | undefined);
      return { rows: result.rows as R[], rowCount: result.rowCount };
    },
    queryOne: async <R>(text: string, params?: readonly unknown[]) =>
      (await client.query(text, params as unknown[] | undefined)).rows[0] as R | undefined,
    queryMany: async <R>(text: string, params?: readonly unknown[]) =>
      (await client.query(text, params as unknown[] | undefined)).rows as R[],
  };
}

async function withLockedClient<T>(options: RunOptions, fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = clientFor(options.databaseUrl);
  await client.connect();
  try {
    const deadline = Date.now() + (options.lockWaitMs ?? 60_000);
    let announced = false;
    for (;;) {
      const { rows } = await client.query<{ ok: boolean }>('SELECT pg_try_advisory_lock($1) AS ok', [RUNNER_LOCK_KEY]);
      if (rows[0]?.ok) break;
      if (Date.now() >= deadline) {
        throw new MigrationError('another migration run holds the lock and did not finish in time; nothing was applied');
      }
      if (!announced) {
        options.log?.('waiting for another migration run to finish...');
        announced = true;
      }
      await new Promise((r) => setTimeout(r, 200));
    }
    try {
      return await fn(client);
    } finally {
      await client.query('SELECT pg_advisory_unlock($1)', [RUNNER_LOCK_KEY]).catch(() => undefined);
    }
  } finally {
    await client.end().catch(() => undefined);
  }
}

function refuseUnsafeState(state: MigrationState): void {
  if (state.edited.length > 0) {
    throw new MigrationError(
      `migration ${state.edited[0]}.sql was edited after it was applied (checksum differs); add a new migration instead`,
    );
  }
  if (state.missing.length > 0) {
    throw new MigrationError(`applied migration ${state.missing[0]} has no file in migrations/`);
  }
}

async function ensureChecksumTable(client: pg.Client): Promise<void> {
  await client.query(
    `CREATE TABLE IF NOT EXISTS ${CHECKSUMS_TABLE} (
       name text PRIMARY KEY,
       checksum text NOT NULL,
       applied_at timestamptz NOT NULL DEFAULT now())`,
  );
}

async function runNodePgMigrate(client: pg.Client, options: RunOptions, direction: 'up' | 'down', count?: number) {
  const { runner } = await import('node-pg-migrate');
  const log = options.log ?? (() => undefined);
  return await runner({
    dbClient: client,
    dir: options.dir ?? migrationsDir(),
    migrationsTable: MIGRATIONS_TABLE,
    direction,
    count: count ?? Number.POSITIVE_INFINITY,
    singleTransaction: true,
    checkOrder: true,
    noLock: true,
    logger: { debug: () => undefined, info: log, warn: log, error: log },
  });
}

/** Applies every pending migration in one transaction. Returns the names applied (empty = no-op). */
export async function migrateUp(options: RunOptions): Promise<string[]> {
  const dir = options.dir ?? migrationsDir();
  return await withLockedClient(options, async (client) => {
    await ensureChecksumTable(client);
    const state = await readMigrationState(asQueryable(client), dir);
    refuseUnsafeState(state);
    const files = new Map(listMigrationFiles(dir).map((file) => [file.name, file] as const));
    // Migrations applied before checksums existed are adopted with their current content.
    for (const name of state.applied) {
      await client.query(`INSERT INTO ${CHECKSUMS_TABLE} (name, checksum) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING`, [
        name,
        files.get(name)?.checksum,
      ]);
    }
    if (state.pending.length === 0) return [];
    const ran = await runNodePgMigrate(client, { ...options, dir }, 'up');
    for (const migration of ran) {
      await client.query(
        `INSERT INTO ${CHECKSUMS_TABLE} (name, checksum) VALUES ($1, $2)
         ON CONFLICT (name) DO UPDATE SET checksum = EXCLUDED.checksum, applied_at = now()`,
        [migration.name, files.get(migration.name)?.checksum],
      );
    }
    return ran.map((migration) => migration.name);
  });
}

/** Reverts the last `count` migrations (default 1; Infinity for all). Returns the names reverted. */
export async function migrateDown(options: RunOptions & { count?: number }): Promise<string[]> {
  const dir = options.dir ?? migrationsDir();
  return await withLockedClient(options, async (client) => {
    await ensureChecksumTable(client);
    refuseUnsafeState(await readMigrationState(asQueryable(client), dir));
    const ran = await runNodePgMigrate(client, { ...options, dir }, 'down', options.count ?? 1);
    for (const migration of ran) {
      await client.query(`DELETE FROM ${CHECKSUMS_TABLE} WHERE name = $1`, [migration.name]);
    }
    return ran.map((migration) => migration.name);
  });
}

/** Applied and pending migrations, by name. Read-only. */
export async function migrationStatus(options: RunOptions): Promise<MigrationState> {
  const client = clientFor(options.databaseUrl);
  await client.connect();
  try {
    return await readMigrationState(asQueryable(client), options.dir ?? migrationsDir());
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** What `migrateUp` would run, as SQL, without changing anything (only reads). */
export async function migrateDryRun(options: RunOptions): Promise<{ name: string; sql: string }[]> {
  const dir = options.dir ?? migrationsDir();
  const state = await migrationStatus({ ...options, dir });
  refuseUnsafeState(state);
  const files = new Map(listMigrationFiles(dir).map((file) => [file.name, file] as const));
  return state.pending.map((name) => {
    const text = readFileSync(files.get(name)?.path ?? join(dir, `${name}.sql`), 'utf8');
    const downAt = text.search(/^\s*--[\s-]*down\s+migration/im);
    return { name, sql: (downAt >= 0 ? text.slice(0, downAt) : text).trim() };
  });
}
