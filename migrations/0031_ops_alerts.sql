-- Up Migration
-- Operator alerts: one row per alert, so each is notified once when it starts and once when it clears,
-- not at every evaluation (lib/ops/evaluate-alerts.ts).
CREATE TABLE ops_alerts (
  key text PRIMARY KEY CHECK (key IN ('failed_payments_hour', 'success_rate_last_100', 'dead_webhook', 'inbox_backlog')),
  status text NOT NULL CHECK (status IN ('firing', 'resolved')),
  value double precision NOT NULL,
  threshold double precision NOT NULL,
  message text NOT NULL CHECK (length(message) BETWEEN 1 AND 500),
  fired_at timestamptz NOT NULL,
  -- Set once the start was notified; a failed notification is retried at the next evaluation.
  notified_at timestamptz,
  resolved_at timestamptz,
  updated_at timestamptz NOT NULL DEFAULT now(),
  CHECK ((status = 'resolved') = (resolved_at IS NOT NULL))
);
CREATE TRIGGER ops_alerts_updated_at BEFORE UPDATE ON ops_alerts FOR EACH ROW EXECUTE FUNCTION set_updated_at();

-- Down Migration
DROP TABLE ops_alerts;
