-- Up Migration
-- Fees on refunds (issue 13). A provider may give part of its fee back with a refund (PayPal:
-- the refund's seller_payable_breakdown.paypal_fee; Stripe: the refund's balance transaction fee,
-- negated; usually 0, Stripe keeps its fees). The refund keeps what was given back, and the ledger
-- books it, in the refund's settle transaction, as a `fee` row naming the refund: positive (money
-- the festival keeps), or negative when a provider charged a fee for the refund. A refund that
-- fails after succeeding takes its returned fee back (a second row, the opposite sign).
-- NULL: not known (the refund was settled from a report without the fee).
ALTER TABLE refunds ADD COLUMN fee_returned_cents integer;

-- A payment's own fee stays <= 0; a fee row naming a refund may be either sign.
ALTER TABLE money_ledger DROP CONSTRAINT money_ledger_sign;
ALTER TABLE money_ledger ADD CONSTRAINT money_ledger_sign CHECK (CASE kind
    WHEN 'capture' THEN amount_cents >= 0
    WHEN 'refund_reversal' THEN amount_cents > 0
    WHEN 'refund' THEN amount_cents < 0
    WHEN 'fee' THEN amount_cents <= 0 OR refund_id IS NOT NULL
    WHEN 'dispute_lost' THEN amount_cents < 0
    ELSE amount_cents = 0 END);

-- The invariant, per payment, fees part: the fee rows hold -payments.fee_cents plus what the
-- provider gave back on the payment's succeeded refunds (fees net of returned fees).
CREATE OR REPLACE FUNCTION money_ledger_mismatches(only_order uuid DEFAULT NULL, since timestamptz DEFAULT NULL)
RETURNS TABLE (order_id uuid, payment_id uuid, expected_cents bigint, ledger_cents bigint,
               expected_fee_cents bigint, ledger_fee_cents bigint)
LANGUAGE sql STABLE AS $$
  WITH p AS (
    SELECT p.id, p.order_id,
      CASE WHEN p.status IN ('completed', 'partially_refunded', 'refunded')
             OR (p.status = 'cancelled' AND p.failure_code = 'duplicate_payment')
           THEN p.amount_cents::bigint - p.refunded_cents
                - coalesce((SELECT sum(d.amount_cents) FROM disputes d WHERE d.payment_id = p.id AND d.status = 'lost'), 0)
           ELSE 0 END AS expected,
      -coalesce(p.fee_cents, 0)::bigint
        + coalesce((SELECT sum(r.fee_returned_cents) FROM refunds r WHERE r.payment_id = p.id AND r.status = 'succeeded'), 0)
        AS expected_fee
    FROM payments p
    WHERE (only_order IS NULL OR p.order_id = only_order) AND (since IS NULL OR p.updated_at >= since)
  ), l AS (
    SELECT payment_id,
      sum(amount_cents) FILTER (WHERE kind <> 'fee') AS money,
      sum(amount_cents) FILTER (WHERE kind = 'fee') AS fee
    FROM money_ledger
    WHERE (only_order IS NULL OR order_id = only_order) AND (since IS NULL OR payment_id IN (SELECT id FROM p))
    GROUP BY payment_id
  )
  SELECT p.order_id, p.id, p.expected, coalesce(l.money, 0)::bigint, p.expected_fee, coalesce(l.fee, 0)::bigint
  FROM p LEFT JOIN l ON l.payment_id = p.id
  WHERE p.expected <> coalesce(l.money, 0) OR p.expected_fee <> coalesce(l.fee, 0)
$$;

-- The backfill also writes the returned-fee rows (databases whose ledger writes were off).
CREATE OR REPLACE FUNCTION money_ledger_backfill() RETURNS integer
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

  -- Fees the provider gave back with a refund (refunds.fee_returned_cents, migration 0120): a `fee` row
  -- named after the refund; a refund that failed after succeeding takes its returned fee back again.
  INSERT INTO money_ledger (kind, event_id, order_id, payment_id, refund_id, provider, provider_ref, source_key,
                            amount_cents, currency, details, occurred_at)
  SELECT 'fee', o.event_id, r.order_id, r.payment_id, r.id, r.provider, r.provider_refund_id, 'fee_returned:' || r.id,
         r.fee_returned_cents, r.currency, jsonb_build_object('backfilled', true, 'returned', true),
         coalesce(r.completed_at, r.updated_at)
  FROM refunds r JOIN orders o ON o.id = r.order_id
  WHERE r.fee_returned_cents <> 0 AND r.completed_at IS NOT NULL AND r.status IN ('succeeded', 'failed')
  ON CONFLICT (source_key) DO NOTHING;
  GET DIAGNOSTICS n = ROW_COUNT;
  inserted := inserted + n;

  INSERT INTO money_ledger (kind, event_id, order_id, payment_id, refund_id, provider, provider_ref, source_key,
                            amount_cents, currency, details, occurred_at)
  SELECT 'fee', o.event_id, r.order_id, r.payment_id, r.id, r.provider, r.provider_refund_id, 'fee_returned_reversal:' || r.id,
         -r.fee_returned_cents, r.currency, jsonb_build_object('backfilled', true, 'returned', true, 'reversal', true),
         r.updated_at
  FROM refunds r JOIN orders o ON o.id = r.order_id
  WHERE r.fee_returned_cents <> 0 AND r.completed_at IS NOT NULL AND r.status = 'failed'
  ON CONFLICT (source_key) DO NOTHING;
  GET DIAGNOSTICS n = ROW_COUNT;
  inserted := inserted + n;

  RETURN inserted;
END;
$$;

-- Down Migration
CREATE OR REPLACE FUNCTION money_ledger_backfill() RETURNS integer
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

CREATE OR REPLACE FUNCTION money_ledger_mismatches(only_order uuid DEFAULT NULL, since timestamptz DEFAULT NULL)
RETURNS TABLE (order_id uuid, payment_id uuid, expected_cents bigint, ledger_cents bigint,
               expected_fee_cents bigint, ledger_fee_cents bigint)
LANGUAGE sql STABLE AS $$
  WITH p AS (
    SELECT p.id, p.order_id,
      CASE WHEN p.status IN ('completed', 'partially_refunded', 'refunded')
             OR (p.status = 'cancelled' AND p.failure_code = 'duplicate_payment')
           THEN p.amount_cents::bigint - p.refunded_cents
                - coalesce((SELECT sum(d.amount_cents) FROM disputes d WHERE d.payment_id = p.id AND d.status = 'lost'), 0)
           ELSE 0 END AS expected,
      -coalesce(p.fee_cents, 0)::bigint AS expected_fee
    FROM payments p
    WHERE (only_order IS NULL OR p.order_id = only_order) AND (since IS NULL OR p.updated_at >= since)
  ), l AS (
    SELECT payment_id,
      sum(amount_cents) FILTER (WHERE kind <> 'fee') AS money,
      sum(amount_cents) FILTER (WHERE kind = 'fee') AS fee
    FROM money_ledger
    WHERE (only_order IS NULL OR order_id = only_order) AND (since IS NULL OR payment_id IN (SELECT id FROM p))
    GROUP BY payment_id
  )
  SELECT p.order_id, p.id, p.expected, coalesce(l.money, 0)::bigint, p.expected_fee, coalesce(l.fee, 0)::bigint
  FROM p LEFT JOIN l ON l.payment_id = p.id
  WHERE p.expected <> coalesce(l.money, 0) OR p.expected_fee <> coalesce(l.fee, 0)
$$;

ALTER TABLE money_ledger DROP CONSTRAINT money_ledger_sign;
ALTER TABLE money_ledger ADD CONSTRAINT money_ledger_sign CHECK (CASE kind
    WHEN 'capture' THEN amount_cents >= 0
    WHEN 'refund_reversal' THEN amount_cents > 0
    WHEN 'refund' THEN amount_cents < 0
    WHEN 'fee' THEN amount_cents <= 0
    WHEN 'dispute_lost' THEN amount_cents < 0
    ELSE amount_cents = 0 END);

ALTER TABLE refunds DROP COLUMN fee_returned_cents;
