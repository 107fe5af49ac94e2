-- Up Migration
-- One append-only ledger of money movements. Every place that moves money writes one row here, in
-- the same transaction as the change, through lib/ledger/record-movement.ts (the only writer).
--
-- Signs: money the festival keeps is positive. capture +amount; refund -amount; refund_reversal
-- +amount (a refund that failed after succeeding: the money came back); fee -fee. Disputes follow
-- the books' rule "kept = captured - refunded - lost disputes": dispute_opened and dispute_won move
-- nothing (amount 0; the disputed amount is in details.disputedCents), dispute_lost -amount.
CREATE TABLE money_ledger (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  -- The writing transaction. Rollups fold rows whose transaction ended before every running one
  -- started (pg_snapshot_xmin), so a row committed late is never skipped by the watermark.
  tx_id xid8 NOT NULL DEFAULT pg_current_xact_id(),
  kind text NOT NULL CHECK (kind IN (
    'capture', 'refund', 'refund_reversal', 'dispute_opened', 'dispute_won', 'dispute_lost', 'fee')),
  event_id uuid NOT NULL REFERENCES events (id) ON DELETE RESTRICT,
  order_id uuid NOT NULL REFERENCES orders (id) ON DELETE RESTRICT,
  payment_id uuid NOT NULL REFERENCES payments (id) ON DELETE RESTRICT,
  refund_id uuid REFERENCES refunds (id) ON DELETE RESTRICT,
  provider text NOT NULL CHECK (provider IN ('stripe', 'paypal')),
  -- The provider's reference: PaymentIntent / capture id, refund id, dispute id, balance transaction id.
  provider_ref text CHECK (provider_ref IS NULL OR length(provider_ref) BETWEEN 1 AND 255),
  -- One movement is written once: capture:<payment>, refund:<refund>, fee:<payment>, ...
  source_key text NOT NULL UNIQUE CHECK (length(source_key) BETWEEN 1 AND 300),
  amount_cents bigint NOT NULL,
  currency currency_code NOT NULL,
  details jsonb,
  -- When the movement happened at the provider (as reported), and when we wrote it.
  occurred_at timestamptz NOT NULL,
  recorded_at timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT money_ledger_sign CHECK (CASE kind
    WHEN 'capture' THEN amount_cents >= 0
    WHEN 'refund_reversal' THEN amount_cents > 0
    WHEN 'refund' THEN amount_cents < 0
    WHEN 'fee' THEN amount_cents <= 0
    WHEN 'dispute_lost' THEN amount_cents < 0
    ELSE amount_cents = 0 END),
  CONSTRAINT money_ledger_refund_rows_name_refund CHECK (kind NOT IN ('refund', 'refund_reversal') OR refund_id IS NOT NULL)
);
CREATE INDEX money_ledger_order_idx ON money_ledger (order_id, id);
CREATE INDEX money_ledger_payment_idx ON money_ledger (payment_id);
CREATE INDEX money_ledger_tx_idx ON money_ledger (tx_id);
-- A report's live tail: one event's rows past the watermark.
CREATE INDEX money_ledger_event_tx_idx ON money_ledger (event_id, tx_id);
CREATE INDEX money_ledger_event_occurred_idx ON money_ledger (event_id, occurred_at);
CREATE INDEX money_ledger_provider_ref_idx ON money_ledger (provider, provider_ref);

CREATE FUNCTION money_ledger_refuse_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'money_ledger is append-only: % refused', TG_OP
    USING ERRCODE = 'insufficient_privilege';
END;
$$;
CREATE TRIGGER money_ledger_no_update BEFORE UPDATE OR DELETE ON money_ledger
  FOR EACH ROW EXECUTE FUNCTION money_ledger_refuse_change();
CREATE TRIGGER money_ledger_no_truncate BEFORE TRUNCATE ON money_ledger
  FOR EACH STATEMENT EXECUTE FUNCTION money_ledger_refuse_change();

-- Disputes, one row per provider dispute: what was contested and how it ended.
CREATE TABLE disputes (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  payment_id uuid NOT NULL REFERENCES payments (id) ON DELETE RESTRICT,
  order_id uuid NOT NULL REFERENCES orders (id) ON DELETE RESTRICT,
  provider text NOT NULL CHECK (provider IN ('stripe', 'paypal')),
  provider_dispute_id text NOT NULL CHECK (length(provider_dispute_id) BETWEEN 1 AND 255),
  amount_cents money_cents NOT NULL,
  currency currency_code NOT NULL,
  status text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'won', 'lost')),
  reason text,
  opened_at timestamptz NOT NULL DEFAULT now(),
  closed_at timestamptz,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT disputes_provider_dispute_key UNIQUE (provider, provider_dispute_id),
  CONSTRAINT disputes_closed_has_time CHECK ((status = 'open') = (closed_at IS NULL))
);
CREATE TRIGGER disputes_updated_at BEFORE UPDATE ON disputes FOR EACH ROW EXECUTE FUNCTION set_updated_at();
CREATE INDEX disputes_payment_idx ON disputes (payment_id);
CREATE INDEX disputes_order_idx ON disputes (order_id);

-- The provider's processing fee of a captured payment (minor units of the payment's currency), as
-- read from Stripe's balance transaction / PayPal's seller_receivable_breakdown. NULL: not known yet.
ALTER TABLE payments ADD COLUMN fee_cents integer CHECK (fee_cents IS NULL OR fee_cents >= 0);

-- The invariant, per payment: the ledger (fees apart) holds exactly what the books say was kept:
-- captured - refunded - lost disputes; and its fee rows hold exactly -payments.fee_cents.
-- Returns the payments that break it (none on healthy books). Used by the backfill below, the
-- health and reconciliation code, and the tests.
-- only_order: one order; since: payments changed since then (health checks the recent ones).
CREATE FUNCTION money_ledger_mismatches(only_order uuid DEFAULT NULL, since timestamptz DEFAULT NULL)
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

-- Down Migration
DROP FUNCTION money_ledger_mismatches(uuid, timestamptz);
ALTER TABLE payments DROP COLUMN fee_cents;
DROP TABLE disputes;
DROP TABLE money_ledger;
DROP FUNCTION money_ledger_refuse_change();
