import type { z } from 'zod';
import type { operationalMetricsResponseSchema } from '../../contract/responses.js';
import type { Queryable } from '../client.js';
import { CAPTURED_PAYMENT_STATUSES } from '../models/payments.js';

/**
 * GET /api/admin/metrics (scope ops:read): the operator's figures, read from the database as it is
 * now. Only what the data holds today: payment outcomes and failures (payments, payment_failures),
 * the webhook inbox, the email outbox, ticket holds, and PostgreSQL's own statistics. Request outcomes by
 * code come from request_outcomes (lib/ops/request-figures.ts; SQL in lib/db/models/request-outcomes.ts).
 * The queries run one after another on one connection at a time: the endpoint must still answer when the
 * pool is short.
 */

/** The captured statuses as an SQL list, built from the one definition (CAPTURED_PAYMENT_STATUSES). */
const CAPTURED = `(${CAPTURED_PAYMENT_STATUSES.map((status) => `'${status}'`).join(', ')})`;

/** The answer's type, from its schema (lib/contract/responses.ts): one definition. */
export type OperationalMetrics = z.output<typeof operationalMetricsResponseSchema>;

const rate = (succeeded: number, failed: number) =>
  succeeded + failed === 0 ? null : Math.round((succeeded / (succeeded + failed)) * 10_000) / 10_000;

export async function paymentFigures(q: Queryable): Promise<OperationalMetrics['payments']> {
  const hour = await q.queryOne<{ attempts: number; succeeded: number; failed: number; failures: number }>(
    `SELECT
         (SELECT count(*)::int FROM payments WHERE created_at > now() - interval '1 hour') AS attempts,
         (SELECT count(*)::int FROM payments WHERE status IN ${CAPTURED} AND completed_at > now() - interval '1 hour') AS succeeded,
         (SELECT count(*)::int FROM payments WHERE status = 'failed' AND updated_at > now() - interval '1 hour') AS failed,
         (SELECT count(*)::int FROM payment_failures WHERE created_at > now() - interval '1 hour') AS failures`,
  );
  const last100 = await q.queryOne<{ succeeded: number; failed: number }>(
    `SELECT count(*) FILTER (WHERE status IN ${CAPTURED})::int AS succeeded,
              count(*) FILTER (WHERE status = 'failed')::int AS failed
       FROM (SELECT status FROM payments WHERE status IN ${CAPTURED} OR status = 'failed'
             ORDER BY updated_at DESC LIMIT 100) recent`,
  );
  const perHour = await q.queryMany<{ hour: Date; failures: number }>(
    `SELECT date_trunc('hour', created_at) AS hour, count(*)::int AS failures
       FROM payment_failures WHERE created_at > now() - interval '24 hours'
       GROUP BY 1 ORDER BY 1 DESC`,
  );
  const decline = await q.queryMany<{ code: string; declineCode: string | null; failures: number }>(
    `SELECT code, decline_code AS "declineCode", count(*)::int AS failures
       FROM payment_failures WHERE created_at > now() - interval '24 hours'
       GROUP BY code, decline_code ORDER BY failures DESC, code, decline_code LIMIT 10`,
  );
  const h = hour ?? { attempts: 0, succeeded: 0, failed: 0, failures: 0 };
  const l = last100 ?? { succeeded: 0, failed: 0 };
  return {
    lastHour: { ...h, successRate: rate(h.succeeded, h.failed) },
    last100: {
      outcomes: l.succeeded + l.failed,
      succeeded: l.succeeded,
      failed: l.failed,
      successRate: rate(l.succeeded, l.failed),
    },
    failuresPerHour: perHour.map((row) => ({ hour: row.hour.toISOString(), failures: row.failures })),
    topDeclineCodes: decline,
  };
}

export async function webhookFigures(q: Queryable): Promise<OperationalMetrics['webhooks']> {
  const rows = await q.queryMany<{ status: keyof OperationalMetrics['webhooks']['byStatus']; events: number }>(
    `SELECT status, count(*)::int AS events FROM webhook_events GROUP BY status`,
  );
  const oldest = await q.queryOne<{ unprocessed: number; oldest: Date | null; ageSeconds: number | null }>(
    `SELECT count(*)::int AS unprocessed, min(received_at) AS oldest,
              floor(extract(epoch FROM now() - min(received_at)))::int AS "ageSeconds"
       FROM webhook_events WHERE status IN ('received', 'processing', 'failed')`,
  );
  const byStatus = { received: 0, processing: 0, processed: 0, ignored: 0, failed: 0, dead: 0 };
  for (const row of rows) byStatus[row.status] = row.events;
  return {
    byStatus,
    unprocessed: oldest?.unprocessed ?? 0,
    oldestUnprocessedAt: oldest?.oldest?.toISOString() ?? null,
    oldestUnprocessedAgeSeconds: oldest?.ageSeconds ?? null,
  };
}

/** The email outbox (migrations/0060): depth by status, and the oldest message due and not sent yet. */
export async function outboxFigures(q: Queryable): Promise<OperationalMetrics['outbox']> {
  const rows = await q.queryMany<{ status: keyof OperationalMetrics['outbox']['byStatus']; messages: number }>(
    `SELECT status, count(*)::int AS messages FROM outbox_messages GROUP BY status`,
  );
  const due = await q.queryOne<{ due: number; oldest: Date | null; ageSeconds: number | null }>(
    `SELECT count(*)::int AS due, min(next_attempt_at) AS oldest,
              floor(extract(epoch FROM now() - min(next_attempt_at)))::int AS "ageSeconds"
       FROM outbox_messages
      WHERE (status = 'pending' AND next_attempt_at <= now()) OR (status = 'sending' AND locked_until <= now())`,
  );
  // A dead message stays dead after a resend (the copy points at it): the ones nobody resent need staff.
  const dead = await q.queryOne<{ deadNotResent: number }>(
    `SELECT count(*)::int AS "deadNotResent" FROM outbox_messages m
      WHERE m.status = 'dead' AND NOT EXISTS (SELECT 1 FROM outbox_messages r WHERE r.resend_of = m.id)`,
  );
  const byStatus = { pending: 0, sending: 0, sent: 0, dead: 0, uncertain: 0 };
  for (const row of rows) byStatus[row.status] = row.messages;
  return {
    byStatus,
    due: due?.due ?? 0,
    oldestDueAt: due?.oldest?.toISOString() ?? null,
    oldestDueAgeSeconds: due?.ageSeconds === null || due?.ageSeconds === undefined ? null : Math.max(0, due.ageSeconds),
    deadNotResent: dead?.deadNotResent ?? 0,
  };
}

export async function holdFigures(q: Queryable): Promise<OperationalMetrics['holds']> {
  const row = await q.queryOne<{
    liveOrders: number;
    liveTickets: number;
    expiredOrders: number;
    expiredTickets: number;
    oldestExpired: Date | null;
  }>(
    `SELECT count(DISTINCT o.id) FILTER (WHERE o.hold_expires_at > now())::int AS "liveOrders",
            count(i.id) FILTER (WHERE o.hold_expires_at > now())::int AS "liveTickets",
            count(DISTINCT o.id) FILTER (WHERE o.hold_expires_at <= now())::int AS "expiredOrders",
            count(i.id) FILTER (WHERE o.hold_expires_at <= now())::int AS "expiredTickets",
            min(o.hold_expires_at) FILTER (WHERE o.hold_expires_at <= now()) AS "oldestExpired"
     FROM orders o LEFT JOIN order_items i ON i.order_id = o.id AND i.status = 'active'
     WHERE o.status = 'pending' AND o.hold_expires_at IS NOT NULL`,
  );
  return {
    live: { orders: row?.liveOrders ?? 0, tickets: row?.liveTickets ?? 0 },
    expiredUnreleased: {
      orders: row?.expiredOrders ?? 0,
      tickets: row?.expiredTickets ?? 0,
      oldestExpiredAt: row?.oldestExpired?.toISOString() ?? null,
    },
  };
}

async function slowStatements(q: Queryable): Promise<OperationalMetrics['database']['slowStatements']> {
  const installed = await q.queryOne<{ installed: boolean }>(
    `SELECT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'pg_stat_statements') AS installed`,
  );
  if (!installed?.installed) {
    return { available: false, reason: 'pg_stat_statements is not installed (CREATE EXTENSION pg_stat_statements)' };
  }
  try {
    const statements = await q.queryMany<{ query: string; calls: number; meanMs: number; totalMs: number }>(
      `SELECT left(query, 300) AS query, calls::int AS calls, round(mean_exec_time::numeric, 2)::float8 AS "meanMs",
              round(total_exec_time::numeric, 2)::float8 AS "totalMs"
       FROM pg_stat_statements WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
       ORDER BY mean_exec_time DESC LIMIT 10`,
    );
    return { available: true, statements };
  } catch {
    // Installed but not loaded (shared_preload_libraries), or no permission to read it.
    return { available: false, reason: 'pg_stat_statements is installed but cannot be read (not preloaded, or no permission)' };
  }
}

export async function databaseFigures(q: Queryable): Promise<OperationalMetrics['database']> {
  const byState = await q.queryMany<{ state: string; connections: number }>(
    `SELECT coalesce(state, 'unknown') AS state, count(*)::int AS connections
       FROM pg_stat_activity WHERE datname = current_database() AND backend_type = 'client backend'
       GROUP BY 1 ORDER BY 2 DESC, 1`,
  );
  const max = await q.queryOne<{ max: number }>(`SELECT current_setting('max_connections')::int AS max`);
  const slow = await slowStatements(q);
  const indexUsage = await q.queryMany<{ table: string; index: string; scans: number; sizeBytes: number }>(
    `SELECT relname AS "table", indexrelname AS "index", idx_scan::float8 AS scans,
              pg_relation_size(indexrelid)::float8 AS "sizeBytes"
       FROM pg_stat_user_indexes ORDER BY idx_scan ASC, pg_relation_size(indexrelid) DESC, relname, indexrelname`,
  );
  const tableSizes = await q.queryMany<{
    table: string;
    totalBytes: number;
    liveRows: number;
    seqScans: number;
    indexScans: number;
  }>(
    `SELECT relname AS "table", pg_total_relation_size(relid)::float8 AS "totalBytes", n_live_tup::float8 AS "liveRows",
              seq_scan::float8 AS "seqScans", coalesce(idx_scan, 0)::float8 AS "indexScans"
       FROM pg_stat_user_tables ORDER BY pg_total_relation_size(relid) DESC, relname`,
  );
  return {
    connections: { total: byState.reduce((sum, row) => sum + row.connections, 0), maxConnections: max?.max ?? 0, byState },
    slowStatements: slow,
    indexUsage,
    tableSizes,
  };
}
