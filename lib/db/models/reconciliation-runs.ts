import type { Classified } from '../../reconciliation/classify.js';
import {
  type BooksEntry,
  type LineKind,
  NOT_MISMATCH_CLASSES,
  type ProviderRecord,
  type RunSummary,
} from '../../reconciliation/types.js';
import type { Queryable, Tx } from '../client.js';
import type { Provider } from './orders.js';

/** reconciliation_runs and reconciliation_lines: the stored runs and their lines. */

export interface RunRow {
  id: string;
  provider: Provider;
  day: string;
  status: 'running' | 'completed';
  cursor: Record<string, unknown>;
  summary: RunSummary | Record<string, never>;
  providerRecords: number;
  chunks: number;
  startedAt: Date;
  heartbeatAt: Date;
  completedAt: Date | null;
}

const RUN_COLUMNS = `id, provider, to_char(day, 'YYYY-MM-DD') AS day, status, cursor, summary,
  provider_records AS "providerRecords", chunks, started_at AS "startedAt", heartbeat_at AS "heartbeatAt",
  completed_at AS "completedAt"`;

export async function findRun(q: Queryable, provider: Provider, day: string, status: 'running' | 'completed') {
  return await q.queryOne<RunRow>(
    `SELECT ${RUN_COLUMNS} FROM reconciliation_runs WHERE provider = $1 AND day = $2 AND status = $3`,
    [provider, day, status],
  );
}

export async function lockRun(tx: Tx, runId: string): Promise<RunRow | undefined> {
  return await tx.queryOne<RunRow>(`SELECT ${RUN_COLUMNS} FROM reconciliation_runs WHERE id = $1 FOR UPDATE`, [runId]);
}

export async function insertRun(tx: Tx, provider: Provider, day: string, cursor: Record<string, unknown>): Promise<RunRow> {
  const row = await tx.queryOne<RunRow>(
    `INSERT INTO reconciliation_runs (provider, day, cursor) VALUES ($1, $2, $3) RETURNING ${RUN_COLUMNS}`,
    [provider, day, JSON.stringify(cursor)],
  );
  if (!row) throw new Error('reconciliation run insert returned nothing');
  return row;
}

export async function deleteRun(q: Queryable, runId: string): Promise<void> {
  await q.query('DELETE FROM reconciliation_runs WHERE id = $1', [runId]);
}

export async function advanceRun(
  tx: Tx,
  runId: string,
  changes: { cursor: Record<string, unknown>; records: number },
): Promise<void> {
  await tx.query(
    `UPDATE reconciliation_runs
     SET cursor = $2, provider_records = provider_records + $3, chunks = chunks + 1, heartbeat_at = now()
     WHERE id = $1`,
    [runId, JSON.stringify(changes.cursor), changes.records],
  );
}

export interface LineInput {
  classified: Classified;
  kind: LineKind;
  /** The provider's side (a record, or a PayPal withdrawal); null for books_only. */
  record: Pick<ProviderRecord, 'recordId' | 'sourceId' | 'amountCents' | 'currency' | 'feeCents' | 'payoutId'> | null;
  books: BooksEntry | null;
  reference: string | null;
  occurredAt: Date | null;
}

/** Inserts lines in one statement (arrays unnested: one round trip per chunk). */
export async function insertLines(tx: Tx, runId: string, lines: LineInput[]): Promise<void> {
  if (lines.length === 0) return;
  const col = <T>(pick: (line: LineInput) => T) => lines.map(pick);
  await tx.query(
    `INSERT INTO reconciliation_lines (run_id, class, kind, provider_record_id, source_id, reference, order_id, order_number,
       occurred_at, provider_amount_cents, provider_currency, provider_fee_cents, books_amount_cents, books_currency,
       books_fee_cents, explanation, payout_id)
     SELECT $1, * FROM unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::uuid[], $8::text[],
       $9::timestamptz[], $10::bigint[], $11::text[], $12::bigint[], $13::bigint[], $14::text[], $15::bigint[], $16::text[],
       $17::text[])`,
    [
      runId,
      col((l) => l.classified.class),
      col((l) => l.kind),
      col((l) => l.record?.recordId ?? null),
      col((l) => l.record?.sourceId ?? null),
      col((l) => l.reference),
      col((l) => l.classified.order?.orderId ?? null),
      col((l) => l.classified.order?.orderNumber ?? null),
      col((l) => l.occurredAt),
      col((l) => l.record?.amountCents ?? null),
      col((l) => l.record?.currency ?? null),
      col((l) => l.record?.feeCents ?? null),
      col((l) => l.books?.amountCents ?? null),
      col((l) => l.books?.currency ?? null),
      col((l) => l.books?.feeCents ?? null),
      col((l) => l.classified.explanation),
      col((l) => l.record?.payoutId ?? null),
    ],
  );
}

/**
 * Provider totals and class counts of a run, from its lines. Totals and `records` are the provider's transactions
 * (payout lines apart: a withdrawal moves the balance to the bank, it is no sale); counts are per class of every line.
 */
export async function lineTotals(q: Queryable, runId: string) {
  const row = await q.queryOne<{
    gross: string;
    refunds: string;
    fees: string;
    net: string;
    records: number;
    counts: Record<string, number> | null;
    currencies: string[];
  }>(
    `SELECT coalesce(sum(provider_amount_cents) FILTER (WHERE kind = 'charge'), 0)::text AS gross,
            coalesce(sum(provider_amount_cents) FILTER (WHERE kind = 'refund'), 0)::text AS refunds,
            (coalesce(sum(provider_fee_cents) FILTER (WHERE kind <> 'payout'), 0)
             - coalesce(sum(provider_amount_cents) FILTER (WHERE kind = 'fee'), 0))::text AS fees,
            coalesce(sum(provider_amount_cents - provider_fee_cents) FILTER (WHERE kind <> 'payout'), 0)::text AS net,
            (count(provider_record_id) FILTER (WHERE kind <> 'payout'))::int AS records,
            (SELECT jsonb_object_agg(class, n) FROM (
               SELECT class, count(*)::int AS n FROM reconciliation_lines WHERE run_id = $1 GROUP BY class) c) AS counts,
            coalesce(array_agg(DISTINCT provider_currency) FILTER (WHERE provider_currency IS NOT NULL), '{}') AS currencies
     FROM reconciliation_lines WHERE run_id = $1`,
    [runId],
  );
  return {
    grossCents: Number(row?.gross ?? 0),
    refundsCents: Number(row?.refunds ?? 0),
    feesCents: Number(row?.fees ?? 0),
    netCents: Number(row?.net ?? 0),
    records: row?.records ?? 0,
    counts: row?.counts ?? {},
    currencies: row?.currencies ?? [],
  };
}

/** How each of these provider record ids fared in the latest completed runs (and in `runId`). */
export async function classesOfRecords(q: Queryable, provider: Provider, runId: string, recordIds: string[]) {
  const rows = await q.queryMany<{ recordId: string; class: string }>(
    `SELECT DISTINCT ON (l.provider_record_id) l.provider_record_id AS "recordId", l.class
     FROM reconciliation_lines l JOIN reconciliation_runs r ON r.id = l.run_id
     WHERE l.provider_record_id = ANY($3::text[]) AND r.provider = $1 AND (r.status = 'completed' OR r.id = $2)
     ORDER BY l.provider_record_id, r.started_at DESC`,
    [provider, runId, recordIds],
  );
  return new Map(rows.map((r) => [r.recordId, r.class]));
}

/** Makes `runId` the day's report: the previous report goes, this one is marked completed, in one transaction. */
export async function completeRun(tx: Tx, run: RunRow, summary: RunSummary): Promise<void> {
  await tx.query(`DELETE FROM reconciliation_runs WHERE provider = $1 AND day = $2 AND status = 'completed'`, [
    run.provider,
    run.day,
  ]);
  await tx.query(
    `UPDATE reconciliation_runs SET status = 'completed', completed_at = now(), heartbeat_at = now(), summary = $2,
       cursor = '{}'::jsonb WHERE id = $1`,
    [run.id, JSON.stringify(summary)],
  );
}

/** One opener at a time per provider and day (held until the caller's transaction ends). */
export async function lockReconciliationDay(tx: Tx, provider: Provider, day: string): Promise<void> {
  await tx.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`reconcile:${provider}:${day}`]);
}

/** Marks the run's lines of these provider records as paid out in `payoutId`. */
export async function setLinesPayout(q: Queryable, runId: string, recordIds: string[], payoutId: string): Promise<void> {
  await q.query('UPDATE reconciliation_lines SET payout_id = $3 WHERE run_id = $1 AND provider_record_id = ANY($2::text[])', [
    runId,
    recordIds,
    payoutId,
  ]);
}

/**
 * The run's provider transactions (payout lines apart) in one currency after `after` (exclusive; null: from the
 * start) up to `upTo` (inclusive): how many, how many matched, and their net (amount less fee).
 */
export async function providerLinesBetween(
  q: Queryable,
  runId: string,
  window: { after: string | null; upTo: string; currency: string },
): Promise<{ total: number; matched: number; netCents: number }> {
  const row = await q.queryOne<{ total: number; matched: number; net: string }>(
    `SELECT count(*)::int AS total, count(*) FILTER (WHERE class = 'matched')::int AS matched,
            coalesce(sum(provider_amount_cents - provider_fee_cents), 0)::text AS net
     FROM reconciliation_lines
     WHERE run_id = $1 AND provider_record_id IS NOT NULL AND kind <> 'payout' AND provider_currency = $4
       AND ($2::timestamptz IS NULL OR occurred_at > $2) AND occurred_at <= $3`,
    [runId, window.after, window.upTo, window.currency],
  );
  return { total: row?.total ?? 0, matched: row?.matched ?? 0, netCents: Number(row?.net ?? 0) };
}

export interface CompletedRunRef {
  id: string;
  provider: Provider;
  completedAt: Date;
  summary: RunSummary;
}

/** The day's completed runs (its reports), one per provider. */
export async function findCompletedRuns(q: Queryable, day: string, provider: Provider | undefined): Promise<CompletedRunRef[]> {
  return await q.queryMany<CompletedRunRef>(
    `SELECT id, provider, completed_at AS "completedAt", summary FROM reconciliation_runs
     WHERE day = $1 AND status = 'completed' AND ($2::text IS NULL OR provider = $2) ORDER BY provider`,
    [day, provider ?? null],
  );
}

export interface StoredLine {
  id: number;
  class: string;
  kind: string;
  orderId: string | null;
  orderNumber: string | null;
  reference: string | null;
  providerRecordId: string | null;
  occurredAt: string | null;
  providerAmountCents: number | null;
  providerFeeCents: number | null;
  booksAmountCents: number | null;
  booksFeeCents: number | null;
  currency: string | null;
  explanation: string;
  /** The Stripe payout that paid this record out, when it was paid out on the reconciled day. */
  payoutId: string | null;
}

const LINE_COLUMNS = `id::int AS id, class, kind, order_id AS "orderId", order_number AS "orderNumber", reference,
  provider_record_id AS "providerRecordId", to_char(occurred_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') AS "occurredAt",
  provider_amount_cents::int AS "providerAmountCents", provider_fee_cents::int AS "providerFeeCents",
  books_amount_cents::int AS "booksAmountCents", books_fee_cents::int AS "booksFeeCents",
  coalesce(provider_currency, books_currency) AS currency, explanation, payout_id AS "payoutId"`;

/** A run's lines in id order after `afterId`: all, only the mismatches (NOT_MISMATCH_CLASSES apart), or one class. */
export async function listRunLines(
  q: Queryable,
  runId: string,
  options: { afterId: number; limit: number; only: 'all' | 'mismatches' | 'account_fee' },
): Promise<StoredLine[]> {
  return await q.queryMany<StoredLine>(
    `SELECT ${LINE_COLUMNS} FROM reconciliation_lines
     WHERE run_id = $1 AND id > $2
       AND CASE $4::text WHEN 'all' THEN true WHEN 'mismatches' THEN class <> ALL($5::text[]) ELSE class = $4 END
     ORDER BY id LIMIT $3`,
    [runId, options.afterId, options.limit, options.only, NOT_MISMATCH_CLASSES],
  );
}
