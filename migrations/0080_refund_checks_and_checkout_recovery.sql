-- Up Migration
-- Refunds whose provider call went unanswered (time-out, 5xx, the function killed mid-call) stay
-- `pending`: the money may or may not have moved. The refund-check cron asks the provider again with
-- the SAME idempotency key and settles the answer. It keeps its schedule here: when to ask next, how
-- often it asked, and the last reason it could not tell.
ALTER TABLE refunds
  ADD COLUMN next_check_at timestamptz,
  ADD COLUMN check_attempts integer NOT NULL DEFAULT 0 CHECK (check_attempts >= 0),
  ADD COLUMN last_check_error text CHECK (length(last_check_error) <= 1000);
CREATE INDEX refunds_unconfirmed_due_idx ON refunds (coalesce(next_check_at, created_at))
  WHERE status = 'pending' AND provider_refund_id IS NULL;

-- Checkout recovery: the Idempotency-Key (its hash, as stored in idempotency_keys) a pending order was
-- created under, so that a retry of a request that died between the hold and the provider call finds
-- the order it left behind and releases it before creating its own. Only the hash is stored.
ALTER TABLE orders ADD COLUMN idempotency_key_hash text CHECK (length(idempotency_key_hash) <= 128);
CREATE INDEX orders_pending_idempotency_key_idx ON orders (idempotency_key_hash)
  WHERE status = 'pending' AND idempotency_key_hash IS NOT NULL;

-- Down Migration
DROP INDEX orders_pending_idempotency_key_idx;
ALTER TABLE orders DROP COLUMN idempotency_key_hash;
DROP INDEX refunds_unconfirmed_due_idx;
ALTER TABLE refunds DROP COLUMN last_check_error, DROP COLUMN check_attempts, DROP COLUMN next_check_at;
