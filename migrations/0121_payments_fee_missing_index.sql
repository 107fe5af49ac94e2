-- Up Migration
-- The fee retry (api/cron/record-missing-fees.ts) looks for completed Stripe payments whose fee is not
-- known yet (the balance-transaction read after the completion failed): a small partial index, since
-- a payment leaves it as soon as its fee is recorded.
CREATE INDEX payments_fee_missing_idx ON payments (completed_at)
  WHERE fee_cents IS NULL AND completed_at IS NOT NULL;

-- Down Migration
DROP INDEX payments_fee_missing_idx;
