import { db, probeNewConnection } from '../client.js';
import { type DbErrorKind, toDbError } from '../errors.js';
import { log } from '../../log.js';
import { type MigrationState, readMigrationState } from '../migrate.js';
import { findLedgerMismatches } from '../models/money-ledger.js';

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
      error?: 'MIGRATIONS_UNREADABLE';
    };
    /**
     * The money ledger invariant over the payments changed in the last 24 hours (informational: the
     * overall status does not depend on it; reconciliation names the payments). Counts only, never ids.
     */
    ledger?: { status: 'balanced' | 'unbalanced' | 'unknown'; unbalancedPayments: number };
  };
}

export interface HealthOptions {
  /** Bound for both checks together (default 3 s) so a dead or slow database never hangs the caller. */
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

/** Failures of the migration read that mean the database itself is unusable, not the deployment. */
const DATABASE_GONE = new Set<DbErrorKind>(['CONNECTION_ERROR', 'STATEMENT_TIMEOUT']);

function migrationStatusOf(state: MigrationState): HealthReport['checks']['migrations']['status'] {
  if (state.edited.length > 0) return 'edited';
  if (state.missing.length > 0) return 'missing';
  return state.pending.length > 0 ? 'pending' : 'current';
}

/** The health check: database reachability, then the deployed migrations against the applied ones. */
export async function checkHealth(options: HealthOptions = {}): Promise<HealthReport> {
  const timeoutMs = options.timeoutMs ?? 3_000;
  const started = performance.now();
  // One deadline for both checks: health's function limit (vercel.json maxDuration 5 s) must never be hit.
  const remaining = () => Math.max(1, timeoutMs - (performance.now() - started));
  const down = (error: unknown): HealthReport => ({
    status: 'unhealthy',
    checks: {
      // Only the kind of failure: messages can carry host names or connection details.
      database: {
        status: 'down',
        latencyMs: Math.round(performance.now() - started),
        error: error instanceof Timeout ? 'TIMEOUT' : toDbError(error).kind,
      },
      migrations: { status: 'unknown', applied: 0, pending: [], missing: [] },
    },
  });
  try {
    // The pool's connection answering is not enough: a fresh connection must be accepted too (a frozen
    // main postgres process leaves open connections working and every new one hanging).
    await within(remaining(), Promise.all([db.query('SELECT 1'), probeNewConnection(remaining())]));
  } catch (error) {
    return down(error);
  }
  const latencyMs = Math.round((performance.now() - started) * 10) / 10;
  let state: MigrationState;
  try {
    state = await within(remaining(), readMigrationState(db, options.migrationsDir));
  } catch (error) {
    // The database stopped answering (or too slowly) between the two checks: that is not "up".
    if (error instanceof Timeout || DATABASE_GONE.has(toDbError(error).kind)) return down(error);
    // The database answered; this deployment's migrations could not be read (no folder, unreadable file).
    log.error('health: migrations unreadable', { error });
    return {
      status: 'degraded',
      checks: {
        database: { status: 'up', latencyMs },
        migrations: { status: 'unknown', applied: 0, pending: [], missing: [], error: 'MIGRATIONS_UNREADABLE' },
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
      ledger: await ledgerCheck(remaining()),
    },
  };
}

/** The ledger invariant over the last day's payments, within what is left of the deadline; any failure is `unknown`. */
async function ledgerCheck(ms: number): Promise<NonNullable<HealthReport['checks']['ledger']>> {
  try {
    const since = new Date(Date.now() - 86_400_000);
    const rows = await within(ms, findLedgerMismatches(db, undefined, 1000, since));
    return { status: rows.length === 0 ? 'balanced' : 'unbalanced', unbalancedPayments: rows.length };
  } catch {
    return { status: 'unknown', unbalancedPayments: 0 };
  }
}
