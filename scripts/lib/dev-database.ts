import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';

/**
 * Where a running `npm run dev` says which database it uses, so that the CLIs (keys, seed, migrate) run against
 * it when DATABASE_URL is unset. `npm run dev` writes `.data/dev-database.json` (git-ignored) once its
 * database is up and removes it when it stops; a file left by a dev server that was killed is ignored (its
 * process is gone). DEV_DATABASE_FILE moves the file (tests).
 */

/**
 * The back-office key the README and `npm run dev` suggest: its scopes cover every staff route the README shows
 * (test/scripts/dev-database.test.ts checks both against the routes' requireApiKey scopes).
 */
export const BACKOFFICE_KEY_EXAMPLE =
  'npm run keys:create -- --name "Box office" --scopes orders:read,refunds:write,payments:read,webhooks:admin';

export interface DevDatabase {
  url: string;
  pid: number;
  startedAt: string;
}

export function devDatabaseFile(): string {
  return process.env.DEV_DATABASE_FILE ?? join(resolve(import.meta.dirname, '..', '..'), '.data', 'dev-database.json');
}

export function writeDevDatabase(url: string): void {
  const file = devDatabaseFile();
  mkdirSync(dirname(file), { recursive: true });
  const entry: DevDatabase = { url, pid: process.pid, startedAt: new Date().toISOString() };
  writeFileSync(file, `${JSON.stringify(entry, null, 2)}\n`, { mode: 0o600 });
}

/** Removes the file if this process wrote it. */
export function removeDevDatabase(): void {
  if (readDevDatabase()?.pid === process.pid) rmSync(devDatabaseFile(), { force: true });
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The running dev server's database, or undefined (no file, unreadable, or its dev server is gone). */
export function readDevDatabase(): DevDatabase | undefined {
  const file = devDatabaseFile();
  if (!existsSync(file)) return undefined;
  try {
    const entry = JSON.parse(readFileSync(file, 'utf8')) as Partial<DevDatabase>;
    if (typeof entry.url !== 'string' || typeof entry.pid !== 'number' || !alive(entry.pid)) return undefined;
    return { url: entry.url, pid: entry.pid, startedAt: String(entry.startedAt ?? '') };
  } catch {
    return undefined;
  }
}

/**
 * For the CLIs: with no DATABASE_URL / POSTGRES_URL (/ POSTGRES_URL_NON_POOLING), use the running dev server's
 * database, saying so on stderr. Call before anything reads the config.
 */
export function useRunningDevDatabase(): void {
  if (process.env.DATABASE_URL || process.env.POSTGRES_URL || process.env.POSTGRES_URL_NON_POOLING) return;
  const dev = readDevDatabase();
  if (!dev) return;
  process.env.DATABASE_URL = dev.url;
  process.stderr.write(`using the database of the running npm run dev (pid ${dev.pid}): ${dev.url}\n`);
}
