-- Up Migration
-- Order numbers: ALB-YYYYMMDD-NNNN (festival-local date, at least 4 digits). A sequence hands out
-- the numeric part, so two concurrent checkouts can never get the same number and nobody waits.
CREATE SEQUENCE order_number_seq AS bigint START 1;

CREATE FUNCTION next_order_number() RETURNS text
LANGUAGE sql VOLATILE AS $$
  SELECT 'ALB-' || to_char(now() AT TIME ZONE 'America/Denver', 'YYYYMMDD') || '-' ||
         lpad(nextval('order_number_seq')::text, 4, '0')
$$;

CREATE TABLE orders (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  order_number text NOT NULL UNIQUE DEFAULT next_order_number()
    CHECK (order_number ~ '^ALB-[0-9]{8}-[0-9]{4,}$'),
  event_id uuid NOT NULL REFERENCES events (id) ON DELETE RESTRICT,
  -- Orders are financial records: a customer with orders is anonymised, never deleted.
  customer_id uuid NOT NULL REFERENCES customers (id) ON DELETE RESTRICT,
  status text NOT NULL DEFAULT 'pending' CHECK (status IN (
    'pending', 'processing', 'completed', 'partially_refunded', 'refunded', 'expired', 'failed', 'cancelled')),
  currency currency_code NOT NULL,
  subtotal_cents money_cents NOT NULL,
  discount_cents money_cents NOT NULL DEFAULT 0,
  total_cents money_cents NOT NULL,
  refunded_cents money_cents NOT NULL DEFAULT 0,
  sliding_scale_percent integer NOT NULL DEFAULT 0 CHECK (sliding_scale_percent BETWEEN 0 AND 75),
  provider text NOT NULL CHECK (provider IN ('stripe', 'paypal')),
  -- SHA-256 (hex) of the buyer's access token; the token itself is shown once and never stored.
  access_token_hash text NOT NULL CHECK (access_token_hash ~ '^[0-9a-f]{64}$'),
  hold_expires_at timestamptz,
  -- Why staff must look at this order (amount mismatch, late payment without capacity, dispute).
  attention_reason text CHECK (attention_reason IN ('amount_mismatch', 'late_payment_no_capacity', 'disputed')),
  metadata jsonb NOT NULL DEFAULT '{}'::jsonb,
  completed_at timestamptz,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT orders_total_is_subtotal_less_discount CHECK (total_cents = subtotal_cents - discount_cents),
  CONSTRAINT orders_refunded_not_above_total CHECK (refunded_cents <= total_cents),
  CONSTRAINT orders_pending_has_hold CHECK (status NOT IN ('pending', 'processing') OR hold_expires_at IS NOT NULL)
);
CREATE TRIGGER orders_updated_at BEFORE UPDATE ON orders FOR EACH ROW EXECUTE FUNCTION set_updated_at();
-- Customer history (by customer, newest first) and the staff search by status.
CREATE INDEX orders_customer_created_idx ON orders (customer_id, created_at DESC);
CREATE INDEX orders_created_idx ON orders (created_at DESC, id DESC);
-- The hold sweeper only ever looks at live holds.
CREATE INDEX orders_live_holds_idx ON orders (hold_expires_at) WHERE status IN ('pending', 'processing');
CREATE INDEX orders_attention_idx ON orders (created_at DESC) WHERE attention_reason IS NOT NULL;
CREATE INDEX orders_order_number_pattern_idx ON orders (order_number text_pattern_ops);

-- One row per ticket.
CREATE TABLE order_items (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  order_id uuid NOT NULL REFERENCES orders (id) ON DELETE CASCADE,
  ticket_type_id uuid NOT NULL REFERENCES ticket_types (id) ON DELETE RESTRICT,
  unit_price_cents money_cents NOT NULL,
  discount_cents money_cents NOT NULL DEFAULT 0,
  price_cents money_cents NOT NULL,
  currency currency_code NOT NULL,
  attendee_first_name text CHECK (attendee_first_name IS NULL OR length(attendee_first_name) BETWEEN 1 AND 100),
  attendee_last_name text CHECK (attendee_last_name IS NULL OR length(attendee_last_name) BETWEEN 1 AND 100),
  attendee_email text CHECK (attendee_email IS NULL OR length(attendee_email) BETWEEN 3 AND 254),
  status text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'refunded', 'released')),
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT order_items_price_is_unit_less_discount CHECK (price_cents = unit_price_cents - discount_cents)
);
CREATE TRIGGER order_items_updated_at BEFORE UPDATE ON order_items FOR EACH ROW EXECUTE FUNCTION set_updated_at();
CREATE INDEX order_items_order_idx ON order_items (order_id);
CREATE INDEX order_items_ticket_type_idx ON order_items (ticket_type_id);
CREATE INDEX order_items_attendee_name_idx ON order_items (lower(attendee_last_name), lower(attendee_first_name));
CREATE INDEX order_items_attendee_email_idx ON order_items (lower(attendee_email));

-- Down Migration
DROP TABLE order_items;
DROP TABLE orders;
DROP FUNCTION next_order_number();
DROP SEQUENCE order_number_seq;
