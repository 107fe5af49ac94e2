-- Up Migration
-- Issue 18.
-- 1. An order keeps the buyer details given with it. An unauthenticated checkout with an existing
--    buyer's email used to rewrite customers.first_name/last_name/phone, so that buyer's paid orders
--    showed the newcomer's values in staff search, order detail and the finance CSV. The snapshot is
--    what those read now; the customer row is only created (never rewritten) by a checkout.
--    Existing orders are backfilled from their customer (the best we know).
-- 2. The client address and email each pending order was held for, normalised (IPv6 per /64,
--    mapped IPv4 as IPv4), so checkout can cap live held tickets per address and per email.
-- 3. A webhook payload jsonb cannot store (\u0000, lone surrogates) is kept exactly as text beside
--    the jsonb (which gets U+FFFD in their place), so a signed event is stored and acknowledged
--    instead of failing for days.
ALTER TABLE orders
  ADD COLUMN buyer_email text CHECK (buyer_email IS NULL OR length(buyer_email) BETWEEN 3 AND 254),
  ADD COLUMN buyer_first_name text CHECK (buyer_first_name IS NULL OR length(buyer_first_name) BETWEEN 1 AND 100),
  ADD COLUMN buyer_last_name text CHECK (buyer_last_name IS NULL OR length(buyer_last_name) BETWEEN 1 AND 100),
  ADD COLUMN buyer_phone text CHECK (buyer_phone IS NULL OR length(buyer_phone) BETWEEN 3 AND 40),
  ADD COLUMN client_key text CHECK (client_key IS NULL OR length(client_key) <= 80),
  ADD COLUMN held_email_key text CHECK (held_email_key IS NULL OR length(held_email_key) <= 254);

UPDATE orders o SET buyer_email = c.email, buyer_first_name = c.first_name, buyer_last_name = c.last_name,
  buyer_phone = c.phone
FROM customers c WHERE c.id = o.customer_id;

-- The caps count live holds of one client / email: pending or processing orders.
CREATE INDEX orders_live_hold_by_client ON orders (client_key) WHERE status IN ('pending', 'processing') AND client_key IS NOT NULL;
CREATE INDEX orders_live_hold_by_email ON orders (held_email_key) WHERE status IN ('pending', 'processing') AND held_email_key IS NOT NULL;

ALTER TABLE webhook_events ADD COLUMN payload_raw text;

-- Down Migration
ALTER TABLE webhook_events DROP COLUMN payload_raw;
DROP INDEX orders_live_hold_by_email;
DROP INDEX orders_live_hold_by_client;
ALTER TABLE orders
  DROP COLUMN held_email_key,
  DROP COLUMN client_key,
  DROP COLUMN buyer_phone,
  DROP COLUMN buyer_last_name,
  DROP COLUMN buyer_first_name,
  DROP COLUMN buyer_email;
