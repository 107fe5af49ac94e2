-- Up Migration
-- The reconciliation-mismatch alert (issue 16): the latest completed reconciliation run of a provider
-- has lines that do not match (lib/ops/evaluate-alerts.ts). Only the allowed alert keys change.
ALTER TABLE ops_alerts DROP CONSTRAINT ops_alerts_key_check;
ALTER TABLE ops_alerts ADD CONSTRAINT ops_alerts_key_check CHECK (
  key IN ('failed_payments_hour', 'success_rate_last_100', 'dead_webhook', 'inbox_backlog', 'reconciliation_mismatch'));

-- Down Migration
DELETE FROM ops_alerts WHERE key = 'reconciliation_mismatch';
ALTER TABLE ops_alerts DROP CONSTRAINT ops_alerts_key_check;
ALTER TABLE ops_alerts ADD CONSTRAINT ops_alerts_key_check CHECK (
  key IN ('failed_payments_hour', 'success_rate_last_100', 'dead_webhook', 'inbox_backlog'));
