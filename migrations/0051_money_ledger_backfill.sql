-- Up Migration
-- Backfill: the ledger rows the payments, refunds and disputes recorded before the ledger existed
-- would have written. Re-runnable (every row has its source_key; existing ones are skipped), so the
-- same function also serves a database whose ledger writes were switched off (LEDGER_WRITES=off).
-- Times: a capture at the payment's completed_at, a refund at its completed_at (else their last
-- update). Disputes known only as payments.disputed_cents become open disputes.
CREATE FUNCTION money_ledger_backfill() RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
  inserted integer := 0;
  n integer;
BEGIN
  INSERT INTO money_ledger (kind, event_id, order_id, payment_id, provider, provider_ref, source_key,
                            amount_cents, currency, details, occurred_at)
  SELECT 'capture', o.event_id, p.order_id, p.id, p.provider, p.provider_payment_id, 'capture:' || p.id,
         p.amount_cents, p.currency, jsonb_build_object('backfilled', true), coalesce(p.completed_at, p.updated_at)
  FROM payments p JOIN orders o ON o.id = p.order_id
  WHERE p.status IN ('completed', 'partially_refunded', 'refunded')
     OR (p.status = 'cancelled' AND p.failure_code = 'duplicate_payment')
  ON CONFLICT (source_key) DO NOTHING;
  GET DIAGNOSTICS n = ROW_COUNT;
  inserted := inserted + n;

  INSERT INTO money_ledger (kind, event_id, order_id, payment_id, refund_id, provider, provider_ref, source_key,
                            amount_cents, currency, details, occurred_at)
  SELECT 'refund', o.event_id, r.order_id, r.payment_id, r.id, r.provider, r.provider_refund_id, 'refund:' || r.id,
         -r.amount_cents, r.currency, jsonb_build_object('backfilled', true, 'source', r.source),
         coalesce(r.completed_at, r.updated_at)
  FROM refunds r JOIN orders o ON o.id = r.order_id
  WHERE r.status = 'succeeded'
  ON CONFLICT (source_key) DO NOTHING;
  GET DIAGNOSTICS n = ROW_COUNT;
  inserted := inserted + n;

  -- Disputed money with no dispute row yet (recorded before disputes had a table).
  INSERT INTO disputes (payment_id, order_id, provider, provider_dispute_id, amount_cents, currency, status, reason, opened_at)
  SELECT p.id, p.order_id, p.provider, 'legacy:' || p.id, p.disputed_cents, p.currency, 'open', 'recorded before the ledger',
         p.updated_at
  FROM payments p
  WHERE p.disputed_cents > 0 AND NOT EXISTS (SELECT 1 FROM disputes d WHERE d.payment_id = p.id)
  ON CONFLICT (provider, provider_dispute_id) DO NOTHING;

  INSERT INTO money_ledger (kind, event_id, order_id, payment_id, provider, provider_ref, source_key,
                            amount_cents, currency, details, occurred_at)
  SELECT 'dispute_opened', o.event_id, d.order_id, d.payment_id, d.provider, d.provider_dispute_id,
         'dispute_opened:' || d.provider || ':' || d.provider_dispute_id, 0, d.currency,
         jsonb_build_object('backfilled', true, 'disputedCents', d.amount_cents), d.opened_at
  FROM disputes d JOIN orders o ON o.id = d.order_id
  ON CONFLICT (source_key) DO NOTHING;
  GET DIAGNOSTICS n = ROW_COUNT;
  inserted := inserted + n;

  INSERT INTO money_ledger (kind, event_id, order_id, payment_id, provider, provider_ref, source_key,
                            amount_cents, currency, details, occurred_at)
  SELECT 'dispute_' || d.status, o.event_id, d.order_id, d.payment_id, d.provider, d.provider_dispute_id,
         'dispute_' || d.status || ':' || d.provider || ':' || d.provider_dispute_id,
         CASE WHEN d.status = 'lost' THEN -d.amount_cents ELSE 0 END, d.currency,
         jsonb_build_object('backfilled', true, 'disputedCents', d.amount_cents), d.closed_at
  FROM disputes d JOIN orders o ON o.id = d.order_id
  WHERE d.status IN ('won', 'lost')
  ON CONFLICT (source_key) DO NOTHING;
  GET DIAGNOSTICS n = ROW_COUNT;
  inserted := inserted + n;

  INSERT INTO money_ledger (kind, event_id, order_id, payment_id, provider, provider_ref, source_key,
                            amount_cents, currency, details, occurred_at)
  SELECT 'fee', o.event_id, p.order_id, p.id, p.provider, p.provider_payment_id, 'fee:' || p.id,
         -p.fee_cents, p.currency, jsonb_build_object('backfilled', true), coalesce(p.completed_at, p.updated_at)
  FROM payments p JOIN orders o ON o.id = p.order_id
  WHERE p.fee_cents IS NOT NULL
  ON CONFLICT (source_key) DO NOTHING;
  GET DIAGNOSTICS n = ROW_COUNT;
  inserted := inserted + n;

  RETURN inserted;
END;
$$;

-- Backfill now, and show it balances: the migration fails (and nothing is applied) naming the first
-- payment whose ledger differs from its books.
DO $$
DECLARE
  bad record;
  total integer;
BEGIN
  PERFORM money_ledger_backfill();
  SELECT count(*) INTO total FROM money_ledger_mismatches();
  IF total > 0 THEN
    SELECT * INTO bad FROM money_ledger_mismatches() LIMIT 1;
    RAISE EXCEPTION 'money_ledger backfill does not balance for % payment(s); first: payment % of order %: books % vs ledger %',
      total, bad.payment_id, bad.order_id, bad.expected_cents, bad.ledger_cents;
  END IF;
END;
$$;

-- Down Migration
DROP FUNCTION money_ledger_backfill();
