import { db, type Queryable } from '../db/client.js';
import {
  databaseFigures,
  holdFigures,
  type OperationalMetrics,
  outboxFigures,
  paymentFigures,
  webhookFigures,
} from '../db/queries/operational-metrics.js';
import { requestFigures } from './request-figures.js';

export type { OperationalMetrics };

/**
 * GET /api/admin/metrics (scope ops:read): the operator's figures (payments, webhook inbox, email outbox,
 * holds, checkout and webhook answers by code, database), read one after another on one
 * connection at a time (the SQL lives in lib/db/queries/operational-metrics.ts).
 */
export async function getOperationalMetrics(q: Queryable = db): Promise<OperationalMetrics> {
  const payments = await paymentFigures(q);
  const webhooks = await webhookFigures(q);
  const outbox = await outboxFigures(q);
  const holds = await holdFigures(q);
  const requests = await requestFigures(q);
  const database = await databaseFigures(q);
  return { generatedAt: new Date().toISOString(), payments, webhooks, outbox, holds, requests, database };
}
