-- Up Migration
-- Hourly rollups for the treasurer's reports (lib/analytics/). Exact and current, the "real-time
-- aggregate" design: a cron folds source rows into the rollups up to a watermark (a transaction id
-- below which every writer has finished), and each report adds the rows past the watermark on the
-- fly. Nothing here touches a shared row inside a checkout: sources are append-only inserts.

-- Money, from money_ledger: per (event, hour, ticket type, provider, sliding-scale bucket).
-- Bucket: 0 full price, 1 = 1-25 %, 2 = 26-50 %, 3 = 51-75 % off. An order's amounts are shared
-- among its ticket types by what each type's tickets cost (exactly: the remainder goes to the
-- largest share); order and dispute counts go to that same anchor type only.
CREATE TABLE analytics_money_hourly (
  event_id uuid NOT NULL,
  hour timestamptz NOT NULL,
  ticket_type_id uuid NOT NULL,
  provider text NOT NULL,
  scale_bucket smallint NOT NULL CHECK (scale_bucket BETWEEN 0 AND 3),
  currency text NOT NULL,
  orders integer NOT NULL DEFAULT 0,
  tickets integer NOT NULL DEFAULT 0,
  list_cents bigint NOT NULL DEFAULT 0,
  discount_cents bigint NOT NULL DEFAULT 0,
  captured_cents bigint NOT NULL DEFAULT 0,
  refunds integer NOT NULL DEFAULT 0,
  refunded_cents bigint NOT NULL DEFAULT 0,
  disputes_opened integer NOT NULL DEFAULT 0,
  disputed_cents bigint NOT NULL DEFAULT 0,
  disputes_won integer NOT NULL DEFAULT 0,
  disputes_lost integer NOT NULL DEFAULT 0,
  dispute_lost_cents bigint NOT NULL DEFAULT 0,
  fee_cents bigint NOT NULL DEFAULT 0,
  PRIMARY KEY (event_id, hour, ticket_type_id, provider, scale_bucket, currency)
);

-- The same, per calendar day in the event's time zone (time_zone says which: a report in another
-- zone, or after the event's zone changed, reads the hourly rows instead until analytics:rebuild).
-- Reports read whole days here and the hours at the edges of their range from the hourly table.
CREATE TABLE analytics_money_daily (
  event_id uuid NOT NULL,
  day date NOT NULL,
  time_zone text NOT NULL,
  ticket_type_id uuid NOT NULL,
  provider text NOT NULL,
  scale_bucket smallint NOT NULL,
  currency text NOT NULL,
  orders integer NOT NULL DEFAULT 0,
  tickets integer NOT NULL DEFAULT 0,
  list_cents bigint NOT NULL DEFAULT 0,
  discount_cents bigint NOT NULL DEFAULT 0,
  captured_cents bigint NOT NULL DEFAULT 0,
  refunds integer NOT NULL DEFAULT 0,
  refunded_cents bigint NOT NULL DEFAULT 0,
  disputes_opened integer NOT NULL DEFAULT 0,
  disputed_cents bigint NOT NULL DEFAULT 0,
  disputes_won integer NOT NULL DEFAULT 0,
  disputes_lost integer NOT NULL DEFAULT 0,
  dispute_lost_cents bigint NOT NULL DEFAULT 0,
  fee_cents bigint NOT NULL DEFAULT 0,
  PRIMARY KEY (event_id, day, time_zone, ticket_type_id, provider, scale_bucket, currency)
);

-- Counts that are not money: orders by outcome (per hour the order was started) and payment
-- failures by code (per hour of the failure). Fed by triggers into an append-only delta table.
CREATE TABLE analytics_count_deltas (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  tx_id xid8 NOT NULL DEFAULT pg_current_xact_id(),
  event_id uuid NOT NULL,
  hour timestamptz NOT NULL,
  provider text NOT NULL,
  metric text NOT NULL CHECK (metric IN ('outcome', 'failure')),
  label text NOT NULL,
  delta integer NOT NULL
);
CREATE INDEX analytics_count_deltas_tx_idx ON analytics_count_deltas (tx_id);

CREATE TABLE analytics_counts_hourly (
  event_id uuid NOT NULL,
  hour timestamptz NOT NULL,
  provider text NOT NULL,
  metric text NOT NULL,
  label text NOT NULL,
  n bigint NOT NULL DEFAULT 0,
  PRIMARY KEY (event_id, hour, provider, metric, label)
);

CREATE TABLE analytics_counts_daily (
  event_id uuid NOT NULL,
  day date NOT NULL,
  time_zone text NOT NULL,
  provider text NOT NULL,
  metric text NOT NULL,
  label text NOT NULL,
  n bigint NOT NULL DEFAULT 0,
  PRIMARY KEY (event_id, day, time_zone, provider, metric, label)
);

CREATE TABLE analytics_watermarks (
  name text PRIMARY KEY CHECK (name IN ('money', 'counts')),
  -- Rows with tx_id below this are in the rollups; rows at or above it are the live tail.
  tx_id xid8 NOT NULL DEFAULT '0'::xid8,
  rows_folded bigint NOT NULL DEFAULT 0,
  folded_at timestamptz
);
INSERT INTO analytics_watermarks (name) VALUES ('money'), ('counts');

CREATE FUNCTION analytics_outcome(status text) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
  SELECT CASE
    WHEN status IN ('pending', 'processing') THEN 'open'
    WHEN status IN ('completed', 'partially_refunded', 'refunded') THEN 'paid'
    ELSE status END
$$;

CREATE FUNCTION analytics_hour(at timestamptz) RETURNS timestamptz
LANGUAGE sql IMMUTABLE AS $$
  SELECT date_trunc('hour', at AT TIME ZONE 'UTC') AT TIME ZONE 'UTC'
$$;

-- Every order counts once, under its current outcome (started = the sum of all outcomes); a status
-- change that changes the outcome moves it (-1 / +1). One small insert per checkout, no shared row.
CREATE FUNCTION analytics_order_deltas() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    INSERT INTO analytics_count_deltas (event_id, hour, provider, metric, label, delta)
    VALUES (NEW.event_id, analytics_hour(NEW.created_at), NEW.provider, 'outcome', analytics_outcome(NEW.status), 1);
  ELSIF analytics_outcome(OLD.status) IS DISTINCT FROM analytics_outcome(NEW.status) THEN
    INSERT INTO analytics_count_deltas (event_id, hour, provider, metric, label, delta)
    VALUES (NEW.event_id, analytics_hour(NEW.created_at), NEW.provider, 'outcome', analytics_outcome(OLD.status), -1),
           (NEW.event_id, analytics_hour(NEW.created_at), NEW.provider, 'outcome', analytics_outcome(NEW.status), 1);
  END IF;
  RETURN NULL;
END;
$$;
CREATE TRIGGER orders_analytics_insert AFTER INSERT ON orders
  FOR EACH ROW EXECUTE FUNCTION analytics_order_deltas();
CREATE TRIGGER orders_analytics_status AFTER UPDATE OF status ON orders
  FOR EACH ROW WHEN (OLD.status IS DISTINCT FROM NEW.status) EXECUTE FUNCTION analytics_order_deltas();

CREATE FUNCTION analytics_failure_deltas() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO analytics_count_deltas (event_id, hour, provider, metric, label, delta)
  SELECT o.event_id, analytics_hour(NEW.created_at), NEW.provider, 'failure',
         left(coalesce(NEW.decline_code, NEW.code), 200), 1
  FROM orders o WHERE o.id = NEW.order_id;
  RETURN NULL;
END;
$$;
CREATE TRIGGER payment_failures_analytics AFTER INSERT ON payment_failures
  FOR EACH ROW EXECUTE FUNCTION analytics_failure_deltas();

-- Orders and failures made before this migration.
INSERT INTO analytics_count_deltas (event_id, hour, provider, metric, label, delta)
SELECT event_id, analytics_hour(created_at), provider, 'outcome', analytics_outcome(status), 1 FROM orders
UNION ALL
SELECT o.event_id, analytics_hour(f.created_at), f.provider, 'failure', left(coalesce(f.decline_code, f.code), 200), 1
FROM payment_failures f JOIN orders o ON o.id = f.order_id;

-- Reports bucket days, weeks and months in the event's time zone (Boulder: America/Denver): an
-- event's zone must be one PostgreSQL knows (an IANA name), checked on every write.
CREATE FUNCTION events_check_timezone() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_timezone_names WHERE name = NEW.timezone) THEN
    RAISE EXCEPTION 'unknown time zone %', NEW.timezone USING ERRCODE = 'check_violation',
      CONSTRAINT = 'events_timezone_known';
  END IF;
  RETURN NEW;
END;
$$;
CREATE TRIGGER events_timezone_known BEFORE INSERT OR UPDATE OF timezone ON events
  FOR EACH ROW EXECUTE FUNCTION events_check_timezone();

-- Down Migration
DROP TRIGGER events_timezone_known ON events;
DROP FUNCTION events_check_timezone();
DROP TRIGGER payment_failures_analytics ON payment_failures;
DROP FUNCTION analytics_failure_deltas();
DROP TRIGGER orders_analytics_status ON orders;
DROP TRIGGER orders_analytics_insert ON orders;
DROP FUNCTION analytics_order_deltas();
DROP FUNCTION analytics_hour(timestamptz);
DROP FUNCTION analytics_outcome(text);
DROP TABLE analytics_watermarks;
DROP TABLE analytics_counts_daily;
DROP TABLE analytics_counts_hourly;
DROP TABLE analytics_count_deltas;
DROP TABLE analytics_money_daily;
DROP TABLE analytics_money_hourly;
