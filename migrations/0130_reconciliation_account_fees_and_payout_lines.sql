-- Up Migration
-- Reconciliation (issue 14, open points): an account-level provider fee (Stripe stripe_fee, billing; PayPal T01xx)
-- is not an order's money and not a mismatch: its own class `account_fee` ("book it by hand"). A PayPal withdrawal,
-- which does not say which transactions it paid out, is compared with the day's net as a line of kind `payout`
-- (matched when the amounts agree, amount_differs when they do not). Only the two CHECKs of 0070 change.
ALTER TABLE reconciliation_lines DROP CONSTRAINT reconciliation_lines_class_check;
ALTER TABLE reconciliation_lines ADD CONSTRAINT reconciliation_lines_class_check CHECK (class IN (
  'matched', 'amount_differs', 'fee_differs', 'provider_only', 'books_only', 'account_fee'));
ALTER TABLE reconciliation_lines DROP CONSTRAINT reconciliation_lines_kind_check;
ALTER TABLE reconciliation_lines ADD CONSTRAINT reconciliation_lines_kind_check CHECK (
  kind IN ('charge', 'refund', 'adjustment', 'fee', 'payout'));

-- Down Migration
-- Stored reports using the new values go (a report is rebuilt by re-running its day: npm run reconcile).
DELETE FROM reconciliation_runs r
 WHERE EXISTS (SELECT 1 FROM reconciliation_lines l
                WHERE l.run_id = r.id AND (l.class = 'account_fee' OR l.kind = 'payout'));
ALTER TABLE reconciliation_lines DROP CONSTRAINT reconciliation_lines_kind_check;
ALTER TABLE reconciliation_lines ADD CONSTRAINT reconciliation_lines_kind_check CHECK (
  kind IN ('charge', 'refund', 'adjustment', 'fee'));
ALTER TABLE reconciliation_lines DROP CONSTRAINT reconciliation_lines_class_check;
ALTER TABLE reconciliation_lines ADD CONSTRAINT reconciliation_lines_class_check CHECK (class IN (
  'matched', 'amount_differs', 'fee_differs', 'provider_only', 'books_only'));
