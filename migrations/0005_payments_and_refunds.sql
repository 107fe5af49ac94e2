-- Up Migration
CREATE TABLE payments (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  -- Financial records: an order with payments is never deleted.
  order_id uuid NOT NULL REFERENCES orders (id) ON DELETE RESTRICT,
  provider text NOT NULL CHECK (provider IN ('stripe', 'paypal')),
  status text NOT NULL DEFAULT 'pending' CHECK (status IN (
    'pending', 'processing', 'completed', 'partially_refunded', 'refunded', 'failed', 'cancelled', 'expired')),
  amount_cents money_cents NOT NULL,
  currency currency_code NOT NULL,
  refunded_cents money_cents NOT NULL DEFAULT 0,
  disputed_cents money_cents NOT NULL DEFAULT 0,
  -- Stripe: Checkout Session id / PaymentIntent id. PayPal: order id / capture id.
  provider_session_id text,
  provider_payment_id text,
  checkout_url text,
  method_type text,
  method_brand text,
  method_last4 text CHECK (method_last4 IS NULL OR method_last4 ~ '^[0-9]{4}$'),
  failure_count integer NOT NULL DEFAULT 0 CHECK (failure_count >= 0),
  failure_code text,
  failure_message text,
  completed_at timestamptz,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT payments_refunded_and_disputed_not_above_amount CHECK (refunded_cents + disputed_cents <= amount_cents),
  CONSTRAINT payments_provider_session_key UNIQUE (provider, provider_session_id),
  CONSTRAINT payments_provider_payment_key UNIQUE (provider, provider_payment_id)
);
CREATE TRIGGER payments_updated_at BEFORE UPDATE ON payments FOR EACH ROW EXECUTE FUNCTION set_updated_at();
-- At most one captured payment per order, whatever happens to it afterwards.
CREATE UNIQUE INDEX payments_one_completed_per_order ON payments (order_id)
  WHERE status IN ('completed', 'partially_refunded', 'refunded');
CREATE INDEX payments_order_idx ON payments (order_id);
CREATE INDEX payments_created_idx ON payments (created_at DESC, id DESC);
CREATE INDEX payments_status_created_idx ON payments (status, created_at DESC);

CREATE TABLE payment_failures (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  payment_id uuid NOT NULL REFERENCES payments (id) ON DELETE CASCADE,
  order_id uuid NOT NULL REFERENCES orders (id) ON DELETE CASCADE,
  provider text NOT NULL CHECK (provider IN ('stripe', 'paypal')),
  code text NOT NULL CHECK (length(code) BETWEEN 1 AND 200),
  decline_code text,
  message text,
  -- How many failures this payment had before this one.
  retry_count integer NOT NULL DEFAULT 0 CHECK (retry_count >= 0),
  provider_event_id text,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX payment_failures_payment_idx ON payment_failures (payment_id, created_at);
CREATE INDEX payment_failures_order_idx ON payment_failures (order_id);

CREATE TABLE refunds (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  payment_id uuid NOT NULL REFERENCES payments (id) ON DELETE RESTRICT,
  order_id uuid NOT NULL REFERENCES orders (id) ON DELETE RESTRICT,
  provider text NOT NULL CHECK (provider IN ('stripe', 'paypal')),
  amount_cents money_cents NOT NULL CHECK (amount_cents > 0),
  currency currency_code NOT NULL,
  status text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'succeeded', 'failed', 'cancelled')),
  reason text NOT NULL CHECK (length(btrim(reason)) >= 10 AND length(reason) <= 1000),
  -- Who started it: staff through the API, the provider's dashboard, or the system (late payment).
  source text NOT NULL DEFAULT 'admin' CHECK (source IN ('admin', 'provider', 'system')),
  provider_refund_id text,
  requested_by text,
  release_tickets boolean NOT NULL DEFAULT false,
  failure_reason text,
  completed_at timestamptz,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT refunds_provider_refund_key UNIQUE (provider, provider_refund_id)
);
CREATE TRIGGER refunds_updated_at BEFORE UPDATE ON refunds FOR EACH ROW EXECUTE FUNCTION set_updated_at();
CREATE INDEX refunds_payment_idx ON refunds (payment_id);
CREATE INDEX refunds_order_idx ON refunds (order_id, created_at);
CREATE INDEX refunds_open_idx ON refunds (created_at) WHERE status = 'pending';

-- Down Migration
DROP TABLE refunds;
DROP TABLE payment_failures;
DROP TABLE payments;
