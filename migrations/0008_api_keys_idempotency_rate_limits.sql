-- Up Migration
CREATE TABLE api_keys (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  name text NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
  environment text NOT NULL CHECK (environment IN ('live', 'test')),
  -- The public part of the key (bf_live_ or bf_test_ plus an id), used to find the row.
  prefix text NOT NULL UNIQUE CHECK (prefix ~ '^bf_(live|test)_[A-Za-z0-9]{8,32}$'),
  -- SHA-256 (hex) of the whole key; the key itself is shown once and never stored.
  secret_hash text NOT NULL CHECK (secret_hash ~ '^[0-9a-f]{64}$'),
  scopes text[] NOT NULL CHECK (
    cardinality(scopes) >= 1 AND
    scopes <@ ARRAY['orders:read', 'payments:read', 'refunds:write', 'analytics:read', 'webhooks:admin', 'keys:admin']::text[]),
  rate_limit_per_minute integer NOT NULL DEFAULT 120 CHECK (rate_limit_per_minute BETWEEN 1 AND 100000),
  expires_at timestamptz,
  revoked_at timestamptz,
  last_used_at timestamptz,
  usage_count bigint NOT NULL DEFAULT 0 CHECK (usage_count >= 0),
  created_by text,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE TRIGGER api_keys_updated_at BEFORE UPDATE ON api_keys FOR EACH ROW EXECUTE FUNCTION set_updated_at();

CREATE TABLE idempotency_keys (
  scope text NOT NULL CHECK (length(scope) BETWEEN 1 AND 100),
  key text NOT NULL CHECK (length(key) BETWEEN 1 AND 255),
  -- SHA-256 (hex) of the canonical request; a reused key with another body is refused.
  request_hash text NOT NULL CHECK (request_hash ~ '^[0-9a-f]{64}$'),
  status text NOT NULL DEFAULT 'in_progress' CHECK (status IN ('in_progress', 'completed')),
  response_status integer CHECK (response_status IS NULL OR response_status BETWEEN 100 AND 599),
  response_body jsonb,
  locked_at timestamptz,
  created_at timestamptz NOT NULL DEFAULT now(),
  -- Kept at least 24 hours.
  expires_at timestamptz NOT NULL DEFAULT now() + interval '24 hours',
  PRIMARY KEY (scope, key),
  CONSTRAINT idempotency_keys_kept_a_day CHECK (expires_at >= created_at + interval '24 hours'),
  CONSTRAINT idempotency_keys_completed_has_response CHECK (status <> 'completed' OR response_status IS NOT NULL)
);
CREATE INDEX idempotency_keys_expires_idx ON idempotency_keys (expires_at);

-- Fixed-window counters: one row per (bucket, window). Expired rows are deleted opportunistically
-- by the requests themselves; no scheduler is needed.
CREATE TABLE rate_limit_counters (
  bucket text NOT NULL CHECK (length(bucket) BETWEEN 1 AND 300),
  window_start timestamptz NOT NULL,
  count integer NOT NULL DEFAULT 0 CHECK (count >= 0),
  expires_at timestamptz NOT NULL,
  PRIMARY KEY (bucket, window_start)
);
CREATE INDEX rate_limit_counters_expires_idx ON rate_limit_counters (expires_at);

-- Down Migration
DROP TABLE rate_limit_counters;
DROP TABLE idempotency_keys;
DROP TABLE api_keys;
