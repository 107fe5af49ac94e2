-- Up Migration
-- The webhook inbox: every verified delivery lands here first; the unique key is the dedup.
CREATE TABLE webhook_events (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  provider text NOT NULL CHECK (provider IN ('stripe', 'paypal')),
  provider_event_id text NOT NULL CHECK (length(provider_event_id) BETWEEN 1 AND 255),
  event_type text NOT NULL CHECK (length(event_type) BETWEEN 1 AND 255),
  payload jsonb NOT NULL,
  status text NOT NULL DEFAULT 'received' CHECK (status IN ('received', 'processing', 'processed', 'ignored', 'failed', 'dead')),
  attempts integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
  last_error text,
  next_attempt_at timestamptz,
  received_at timestamptz NOT NULL DEFAULT now(),
  processed_at timestamptz,
  updated_at timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT webhook_events_provider_event_key UNIQUE (provider, provider_event_id)
);
CREATE TRIGGER webhook_events_updated_at BEFORE UPDATE ON webhook_events FOR EACH ROW EXECUTE FUNCTION set_updated_at();
-- The retry cron's work list, and the admin listing by status.
CREATE INDEX webhook_events_retry_idx ON webhook_events (next_attempt_at) WHERE status IN ('received', 'failed');
CREATE INDEX webhook_events_status_received_idx ON webhook_events (status, received_at DESC);

-- Down Migration
DROP TABLE webhook_events;
