-- Up Migration
-- Issue 12's last limits on buyer emails (lib/messages/deliver-messages.ts explains the rules):
-- 1. claim-then-send: a claim records when it was taken (claimed_at); a claim whose lease ran out (the sender
--    died between claiming and recording the outcome, so the SMTP server may or may not have accepted the
--    message) is NOT sent again by itself: it becomes `uncertain` (uncertain_at), for staff to resend on purpose.
-- 2. order of emails of one order: `seq` is the order in which messages were queued (a sequence, taken at the
--    INSERT, so two messages queued in one transaction keep their order too); a message is sent only when no
--    earlier message of its order is still pending or sending.
-- 3. a new kind, `payment_failed`: the buyer's payment failed after they started paying (Stripe
--    checkout.session.async_payment_failed, PayPal PAYMENT.CAPTURE.DENIED / DECLINED).
-- Every new column has a default or is nullable: existing INSERTs (the finalize function's) work unchanged.

ALTER TABLE outbox_messages DROP CONSTRAINT outbox_messages_kind_check;
ALTER TABLE outbox_messages ADD CONSTRAINT outbox_messages_kind_check CHECK (kind IN (
  'order_confirmation', 'refund_notification', 'late_payment_refund', 'order_expired', 'order_cancelled',
  'payment_failed'));

ALTER TABLE outbox_messages DROP CONSTRAINT outbox_messages_status_check;
ALTER TABLE outbox_messages ADD CONSTRAINT outbox_messages_status_check CHECK (
  status IN ('pending', 'sending', 'sent', 'dead', 'uncertain'));

ALTER TABLE outbox_messages
  ADD COLUMN claimed_at timestamptz,
  ADD COLUMN uncertain_at timestamptz;
UPDATE outbox_messages SET claimed_at = coalesce(last_attempt_at, updated_at) WHERE status = 'sending';
ALTER TABLE outbox_messages
  ADD CONSTRAINT outbox_messages_sending_is_claimed CHECK (status <> 'sending' OR claimed_at IS NOT NULL),
  ADD CONSTRAINT outbox_messages_uncertain_has_time CHECK (status <> 'uncertain' OR uncertain_at IS NOT NULL);

-- Queue order. Existing rows are numbered by (created_at, id), then new ones take the sequence's next values.
CREATE SEQUENCE outbox_messages_seq_seq AS bigint;
ALTER TABLE outbox_messages ADD COLUMN seq bigint;
UPDATE outbox_messages m SET seq = numbered.n
  FROM (SELECT id, row_number() OVER (ORDER BY created_at, id) AS n FROM outbox_messages) numbered
 WHERE numbered.id = m.id;
SELECT setval('outbox_messages_seq_seq', coalesce((SELECT max(seq) FROM outbox_messages), 0) + 1, false);
ALTER TABLE outbox_messages
  ALTER COLUMN seq SET DEFAULT nextval('outbox_messages_seq_seq'),
  ALTER COLUMN seq SET NOT NULL,
  ADD CONSTRAINT outbox_messages_seq_key UNIQUE (seq);
ALTER SEQUENCE outbox_messages_seq_seq OWNED BY outbox_messages.seq;

-- The order gate asks "is an earlier message of this order still pending or sending?".
CREATE INDEX outbox_messages_order_open_idx ON outbox_messages (order_id, seq) WHERE status IN ('pending', 'sending');
CREATE INDEX outbox_messages_uncertain_idx ON outbox_messages (uncertain_at) WHERE status = 'uncertain';

-- Down Migration
DROP INDEX outbox_messages_uncertain_idx;
DROP INDEX outbox_messages_order_open_idx;
ALTER TABLE outbox_messages DROP CONSTRAINT outbox_messages_seq_key;
ALTER TABLE outbox_messages DROP COLUMN seq;
-- An uncertain message goes back to the older schema as dead (it was not resent automatically there either).
UPDATE outbox_messages SET status = 'dead', dead_at = coalesce(uncertain_at, now()) WHERE status = 'uncertain';
ALTER TABLE outbox_messages DROP CONSTRAINT outbox_messages_uncertain_has_time;
ALTER TABLE outbox_messages DROP CONSTRAINT outbox_messages_sending_is_claimed;
ALTER TABLE outbox_messages DROP COLUMN uncertain_at, DROP COLUMN claimed_at;
ALTER TABLE outbox_messages DROP CONSTRAINT outbox_messages_status_check;
ALTER TABLE outbox_messages ADD CONSTRAINT outbox_messages_status_check CHECK (
  status IN ('pending', 'sending', 'sent', 'dead'));
DELETE FROM outbox_messages WHERE kind = 'payment_failed';
ALTER TABLE outbox_messages DROP CONSTRAINT outbox_messages_kind_check;
ALTER TABLE outbox_messages ADD CONSTRAINT outbox_messages_kind_check CHECK (kind IN (
  'order_confirmation', 'refund_notification', 'late_payment_refund', 'order_expired', 'order_cancelled'));
