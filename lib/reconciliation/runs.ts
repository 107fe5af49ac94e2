import type { Queryable, Tx } from '../db/client.js';
import type { Provider } from '../db/models/orders.js';
import type { Classified } from './classify.js';
import type { BooksEntry, ProviderRecord, RecordKind, RunSummary } from './types.js';

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
  kind: RecordKind;
  record: ProviderRecord | null;
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

/** Provider totals and class counts of a run, from its lines. */
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
            (coalesce(sum(provider_fee_cents), 0) - coalesce(sum(provider_amount_cents) FILTER (WHERE kind = 'fee'), 0))::text AS fees,
            coalesce(sum(provider_amount_cents - provider_fee_cents), 0)::text AS net,
            count(provider_record_id)::int AS records,
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
