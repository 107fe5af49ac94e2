import { describe, expect, it } from 'vitest';
import { db, transaction } from '../../lib/db/client.js';

describe('order numbers (migration 0011)', () => {
  it('keep at least four digits and are never truncated past 9,999', async () => {
    const at = '2026-07-04T18:00:00Z';
    const rows = await db.queryMany<{ n: string; formatted: string }>(
      `SELECT n::text, format_order_number(n, $1::timestamptz) AS formatted
       FROM unnest(ARRAY[1, 42, 999, 1000, 9999, 10000, 10001, 123456, 9876543210]::bigint[]) AS n`,
      [at],
    );
    expect(rows.map((r) => r.formatted)).toEqual([
      'ALB-20260704-0001',
      'ALB-20260704-0042',
      'ALB-20260704-0999',
      'ALB-20260704-1000',
      'ALB-20260704-9999',
      'ALB-20260704-10000',
      'ALB-20260704-10001',
      'ALB-20260704-123456',
      'ALB-20260704-9876543210',
    ]);
    expect(new Set(rows.map((r) => r.formatted)).size).toBe(rows.length);
    // The festival's local date (America/Denver), not UTC.
    const late = await db.queryOne<{ f: string }>(`SELECT format_order_number(5, '2026-07-05T03:00:00Z') AS f`);
    expect(late?.f).toBe('ALB-20260704-0005');
    const next = await db.queryOne<{ f: string }>('SELECT next_order_number() AS f');
    expect(next?.f).toMatch(/^ALB-\d{8}-\d{4,}$/);
  });

  it('are formatted by an inlined format_order_number (migration 0171): no SQL-function call per order', async () => {
    // With track_functions = 'all' PostgreSQL counts every call of a function that runs as a call. An inlined
    // SQL function is part of its caller's plan and is never called. Before 0171 the argument was
    // nextval(...), which the planner does not inline for a parameter used more than once: one call per order.
    const counts = await transaction(async (tx) => {
      await tx.query("SET LOCAL track_functions = 'all'");
      for (let i = 0; i < 3; i++) await tx.query('SELECT next_order_number()');
      return await tx.queryOne<{ next: number | null; format: number | null }>(
        `SELECT pg_stat_get_xact_function_calls('next_order_number()'::regprocedure)::int AS next,
                pg_stat_get_xact_function_calls('format_order_number(bigint, timestamptz)'::regprocedure)::int AS format`,
      );
    });
    expect(counts?.next).toBe(3);
    expect(counts?.format ?? 0).toBe(0);
  });
});
