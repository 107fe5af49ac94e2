import { db } from '../client.js';
import { toDbError } from '../errors.js';
import { log } from '../../log.js';
import { type MigrationState, readMigrationState } from '../migrate.js';

export interface HealthReport {
  status: 'healthy' | 'degraded' | 'unhealthy';
  checks: {
    database: { status: 'up' | 'down'; latencyMs: number; error?: string };
    migrations: {
      /** missing: applied to the database but not in this deployment (the code is older than the schema). */
      status: 'current' | 'pending' | 'edited' | 'missing' | 'unknown';
      applied: number;
      pending: string[];
      missing: string[];
      /** Why the state could not be read (a kind, never a path or message). */
      error?: 'TIMEOUT' | 'MIGRATIONS_UNREADABLE';
    };
  };
}

export interface HealthOptions {
  /** Bound for each check (default 3 s) so a dead database never hangs the caller. */
  timeoutMs?: number;
  /** Migrations folder to compare with (default: the deployed migrations/). */
  migrationsDir?: string;
}

class Timeout extends Error {}

async function within<T>(ms: number, work: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      work,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Timeout(`no answer within ${ms} ms`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

function migrationStatusOf(state: MigrationState): HealthReport['checks']['migrations']['status'] {
  if (state.edited.length > 0) return 'edited';
  if (state.missing.length > 0) return 'missing';
  return state.pending.length > 0 ? 'pending' : 'current';
}

/** The health check: database reachability, then the deployed migrations against the applied ones. */
export async function checkHealth(options: HealthOptions = {}): Promise<HealthReport> {
  const timeoutMs = options.timeoutMs ?? 3_000;
  const started = performance.now();
  try {
    await within(timeoutMs, db.query('SELECT 1'));
  } catch (error) {
    // Only the kind of failure: messages can carry host names or connection details.
    const reason = error instanceof Timeout ? 'TIMEOUT' : toDbError(error).kind;
    return {
      status: 'unhealthy',
      checks: {
        database: { status: 'down', latencyMs: Math.round(performance.now() - started), error: reason },
        migrations: { status: 'unknown', applied: 0, pending: [], missing: [] },
      },
    };
  }
  const latencyMs = Math.round((performance.now() - started) * 10) / 10;
  let state: MigrationState;
  try {
    state = await within(timeoutMs, readMigrationState(db, options.migrationsDir));
  } catch (error) {
    // The database answered; the deployment's migrations could not be compared (no folder, unreadable, slow).
    const kind = error instanceof Timeout ? 'TIMEOUT' : 'MIGRATIONS_UNREADABLE';
    log.error('health: migration state unreadable', { kind, error });
    return {
      status: 'degraded',
      checks: {
        database: { status: 'up', latencyMs },
        migrations: { status: 'unknown', applied: 0, pending: [], missing: [], error: kind },
      },
    };
  }
  const migrationStatus = migrationStatusOf(state);
  return {
    status: migrationStatus === 'current' ? 'healthy' : 'degraded',
    checks: {
      database: { status: 'up', latencyMs },
      migrations: {
        status: migrationStatus,
        applied: state.applied.length,
        pending: state.pending,
        missing: state.missing,
      },
    },
  };
}
