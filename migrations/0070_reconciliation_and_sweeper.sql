-- Up Migration
-- Daily reconciliation of one provider's day against our books (issue 14), and the stale-payment
-- sweeper's memory of what each provider said about a payment.

-- One run per provider and UTC day is the report; a re-run builds a new run beside the old one and
-- replaces it in one transaction when it completes (readers never see a half-built day).
CREATE TABLE reconciliation_runs (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  provider text NOT NULL CHECK (provider IN ('stripe', 'paypal')),
  day date NOT NULL,
  status text NOT NULL DEFAULT 'running' CHECK (status IN ('running', 'completed')),
  -- Where a run that ran out of time continues (provider pagination cursor and phase).
  cursor jsonb NOT NULL DEFAULT '{}'::jsonb,
  -- Totals, counts per class and payouts, written when the run completes.
  summary jsonb NOT NULL DEFAULT '{}'::jsonb,
  provider_records integer NOT NULL DEFAULT 0 CHECK (provider_records >= 0),
  chunks integer NOT NULL DEFAULT 0 CHECK (chunks >= 0),
  started_at timestamptz NOT NULL DEFAULT now(),
  heartbeat_at timestamptz NOT NULL DEFAULT now(),
  completed_at timestamptz,
  CONSTRAINT reconciliation_runs_completed_has_time CHECK (status <> 'completed' OR completed_at IS NOT NULL)
);
-- At most one report and one run in progress per provider and day.
CREATE UNIQUE INDEX reconciliation_runs_one_completed ON reconciliation_runs (provider, day) WHERE status = 'completed';
CREATE UNIQUE INDEX reconciliation_runs_one_running ON reconciliation_runs (provider, day) WHERE status = 'running';

CREATE TABLE reconciliation_lines (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  run_id uuid NOT NULL REFERENCES reconciliation_runs (id) ON DELETE CASCADE,
  class text NOT NULL CHECK (class IN (
    'matched', 'amount_differs', 'fee_differs', 'provider_only', 'books_only')),
  -- charge (money in), refund (money out), adjustment, fee (provider fee not tied to a sale).
  kind text NOT NULL CHECK (kind IN ('charge', 'refund', 'adjustment', 'fee')),
  -- The provider's record: Stripe balance transaction id / PayPal transaction id (null for books_only).
  provider_record_id text,
  -- What it is about: Stripe charge/refund id, PayPal capture/refund id.
  source_id text,
  -- What our books key on: Stripe PaymentIntent id or refund id, PayPal capture or refund id.
  reference text,
  order_id uuid REFERENCES orders (id) ON DELETE SET NULL,
  order_number text,
  occurred_at timestamptz,
  provider_amount_cents bigint,
  provider_currency text,
  provider_fee_cents bigint,
  books_amount_cents bigint,
  books_currency text,
  books_fee_cents bigint,
  explanation text NOT NULL,
  -- Stripe payout id the balance transaction was paid out in, when known.
  payout_id text
);
CREATE INDEX reconciliation_lines_run_idx ON reconciliation_lines (run_id, id);
CREATE INDEX reconciliation_lines_run_reference_idx ON reconciliation_lines (run_id, reference);
CREATE INDEX reconciliation_lines_record_idx ON reconciliation_lines (provider_record_id) WHERE provider_record_id IS NOT NULL;
CREATE INDEX reconciliation_lines_mismatch_idx ON reconciliation_lines (run_id) WHERE class <> 'matched';

-- What the sweeper last learned from the provider about a payment it checked. `settled`: the
-- provider's answer is final (paid and applied, expired, voided), so the payment is not asked again.
CREATE TABLE payment_provider_checks (
  payment_id uuid PRIMARY KEY REFERENCES payments (id) ON DELETE CASCADE,
  provider_status text NOT NULL CHECK (length(provider_status) BETWEEN 1 AND 100),
  outcome text NOT NULL CHECK (length(outcome) BETWEEN 1 AND 100),
  settled boolean NOT NULL DEFAULT false,
  checks integer NOT NULL DEFAULT 1 CHECK (checks >= 1),
  first_checked_at timestamptz NOT NULL DEFAULT now(),
  last_checked_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX payment_provider_checks_open_idx ON payment_provider_checks (last_checked_at) WHERE NOT settled;
-- The sweeper's candidates: unsettled checkouts by age.
CREATE INDEX payments_open_checkout_created_idx ON payments (created_at)
  WHERE provider_session_id IS NOT NULL AND status IN ('pending', 'processing', 'expired');

-- A key scope for finance reports (reconciliation): the full list of scopes, finance:read added
-- (ops:read comes from 0030, messages:admin and checkin:write from 0060).
ALTER TABLE api_keys DROP CONSTRAINT api_keys_scopes_check;
ALTER TABLE api_keys ADD CONSTRAINT api_keys_scopes_check CHECK (
  cardinality(scopes) >= 1 AND
  scopes <@ ARRAY['orders:read', 'payments:read', 'refunds:write', 'analytics:read', 'webhooks:admin', 'keys:admin',
                  'ops:read', 'messages:admin', 'checkin:write', 'finance:read']::text[]);

-- Down Migration
-- Refuses while a key still holds finance:read (remove the scope from those keys first).
DO $$
BEGIN
  IF EXISTS (SELECT 1 FROM api_keys WHERE 'finance:read' = ANY (scopes)) THEN
    RAISE EXCEPTION 'api_keys rows still hold the finance:read scope; remove it from them before reverting 0070';
  END IF;
END $$;
ALTER TABLE api_keys DROP CONSTRAINT api_keys_scopes_check;
ALTER TABLE api_keys ADD CONSTRAINT api_keys_scopes_check CHECK (
  cardinality(scopes) >= 1 AND
  scopes <@ ARRAY['orders:read', 'payments:read', 'refunds:write', 'analytics:read', 'webhooks:admin', 'keys:admin',
                  'ops:read', 'messages:admin', 'checkin:write']::text[]);
DROP INDEX payments_open_checkout_created_idx;
DROP TABLE payment_provider_checks;
DROP TABLE reconciliation_lines;
DROP TABLE reconciliation_runs;
