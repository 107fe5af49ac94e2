import './lib/use-dev-database.js';
import { getConfig } from '../lib/config.js';
import { migrateDown, migrateDryRun, migrateUp, migrationStatus } from '../lib/db/migrate.js';

/**
 * `npm run db:migrate` (up), `db:migrate:status`, `db:migrate:dry-run`, `db:migrate:down [-- --count N|all]`.
 * Connects with POSTGRES_URL_NON_POOLING when set (migrations need a direct connection), else
 * DATABASE_URL / POSTGRES_URL. Any failure: non-zero exit and a one-line reason.
 */

const [command = 'up', ...rest] = process.argv.slice(2);

function countArg(): number {
  const index = rest.indexOf('--count');
  const value = index >= 0 ? rest[index + 1] : undefined;
  if (value === undefined) return 1;
  if (value === 'all') return Number.POSITIVE_INFINITY;
  const count = Number(value);
  if (!Number.isInteger(count) || count < 1) throw new Error(`--count takes a positive whole number or "all", not ${value}`);
  return count;
}

async function main(): Promise<void> {
  const databaseUrl = getConfig().database.migrationUrl;
  if (!databaseUrl) throw new Error('no database: set DATABASE_URL (or POSTGRES_URL_NON_POOLING)');
  const log = (line: string) => process.stdout.write(`${line}\n`);
  switch (command) {
    case 'up': {
      const applied = await migrateUp({ databaseUrl, log });
      log(applied.length === 0 ? 'migrations: nothing to apply' : `migrations: applied ${applied.join(', ')}`);
      return;
    }
    case 'down': {
      const reverted = await migrateDown({ databaseUrl, log, count: countArg() });
      log(reverted.length === 0 ? 'migrations: nothing to revert' : `migrations: reverted ${reverted.join(', ')}`);
      return;
    }
    case 'status': {
      const state = await migrationStatus({ databaseUrl });
      log(`applied (${state.applied.length}):`);
      for (const name of state.applied) log(`  ${state.edited.includes(name) ? '! edited ' : ''}${name}`);
      log(`pending (${state.pending.length}):`);
      for (const name of state.pending) log(`  ${name}`);
      if (state.edited.length > 0 || state.missing.length > 0) process.exitCode = 1;
      return;
    }
    case 'dry-run': {
      const plan = await migrateDryRun({ databaseUrl });
      if (plan.length === 0) log('-- dry run: nothing to apply');
      for (const step of plan) log(`-- dry run: ${step.name} (not applied)\n${step.sql}\n`);
      return;
    }
    default:
      throw new Error(`unknown command "${command}" (use up, down, status or dry-run)`);
  }
}

try {
  await main();
} catch (error) {
  const code = (error as { code?: unknown } | null)?.code;
  const message = (error instanceof Error && error.message) || (typeof code === 'string' ? code : String(error));
  process.stderr.write(`db:migrate ${command} failed: ${message.split('\n')[0]}\n`);
  process.exitCode = 1;
}
