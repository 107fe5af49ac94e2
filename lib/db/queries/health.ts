import { db } from '../client.js';
import { toDbError } from '../errors.js';
import { readMigrationState } from '../migrate.js';

export interface HealthReport {
  status: 'healthy' | 'degraded' | 'unhealthy';
  checks: {
    database: { status: 'up' | 'down'; latencyMs: number; error?: string };
    migrations: { status: 'current' | 'pending' | 'edited' | 'unknown'; applied: number; pending: string[] };
  };
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

/** The health check, bounded by `timeoutMs` so a dead database never hangs the caller. */
export async function checkHealth(timeoutMs = 3_000): Promise<HealthReport> {
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
        migrations: { status: 'unknown', applied: 0, pending: [] },
      },
    };
  }
  const latencyMs = Math.round((performance.now() - started) * 10) / 10;
  const state = await within(timeoutMs, readMigrationState(db));
  const migrationStatus = state.edited.length > 0 ? 'edited' : state.pending.length > 0 ? 'pending' : 'current';
  return {
    status: migrationStatus === 'current' ? 'healthy' : 'degraded',
    checks: {
      database: { status: 'up', latencyMs },
      migrations: { status: migrationStatus, applied: state.applied.length, pending: state.pending },
    },
  };
}
