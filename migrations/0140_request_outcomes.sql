-- Up Migration
-- Request outcomes by error code (issue 16, "checkout and webhook counts and error rates by code").
-- Counted in memory per function instance (lib/ops/request-metrics.ts) and added here by one upsert per
-- flush, after the response: one row per (minute, route, code) holding how many answers it had.
-- `code` is `ok` for an answer under 400, else the error code of the error body (SOLD_OUT, ...).
CREATE TABLE request_outcomes (
  bucket timestamptz NOT NULL CHECK (bucket = date_trunc('minute', bucket, 'UTC')),
  route text NOT NULL CHECK (route ~ '^/[a-z0-9/_.-]{1,120}$'),
  code text NOT NULL CHECK (code ~ '^(ok|[A-Z][A-Z0-9_]{0,63})$'),
  count integer NOT NULL CHECK (count > 0),
  PRIMARY KEY (bucket, route, code)
);
COMMENT ON TABLE request_outcomes IS
  'Answers per minute, route and code (ok or the error code); added to by lib/ops/request-metrics.ts flushes. The request log lines stay the source of truth.';

-- New operator alerts (lib/ops/evaluate-alerts.ts): 5xx share of the checkout and webhook routes, and the
-- email outbox (dead messages nobody resent, or a due message waiting too long).
ALTER TABLE ops_alerts DROP CONSTRAINT ops_alerts_key_check;
ALTER TABLE ops_alerts ADD CONSTRAINT ops_alerts_key_check CHECK (
  key IN ('failed_payments_hour', 'success_rate_last_100', 'dead_webhook', 'inbox_backlog', 'reconciliation_mismatch',
          'checkout_error_rate', 'webhook_error_rate', 'email_backlog'));

-- Down Migration
DELETE FROM ops_alerts WHERE key IN ('checkout_error_rate', 'webhook_error_rate', 'email_backlog');
ALTER TABLE ops_alerts DROP CONSTRAINT ops_alerts_key_check;
ALTER TABLE ops_alerts ADD CONSTRAINT ops_alerts_key_check CHECK (
  key IN ('failed_payments_hour', 'success_rate_last_100', 'dead_webhook', 'inbox_backlog', 'reconciliation_mismatch'));
DROP TABLE request_outcomes;
