-- Up Migration
-- Issue 17 (flash-sale speed): the SQL-language functions a checkout calls on every sale, rewritten in
-- PL/pgSQL with the same signatures and the same statements. A LANGUAGE sql function that cannot be inlined
-- (volatile, or a data-modifying body) is parsed, analysed and planned again on EVERY call in PostgreSQL
-- 15-17 (fmgr_sql / init_sql_fcache keep nothing between statements); PL/pgSQL keeps each statement's plan
-- for the connection. A `perf` profile of PostgreSQL 17 under checkout showed fmgr_sql at 5 % of all
-- samples, the parser and planner it runs at about 3.6 %. Called per sale:
--   next_order_number()        the DEFAULT of orders.order_number: every order insert;
--   claim_idempotency_key()    checkout_place_order, when the request has an Idempotency-Key;
--   complete_idempotency_key() checkout_record_session, same.
-- format_order_number() stays LANGUAGE sql: it is STABLE and a single expression, so the planner inlines
-- it into the statement that calls it, and PL/pgSQL keeps that plan.

CREATE OR REPLACE FUNCTION next_order_number() RETURNS text
LANGUAGE plpgsql VOLATILE AS $$
BEGIN
  RETURN format_order_number(nextval('order_number_seq'), now());
END
$$;

-- The Idempotency-Key claim (lib/http/idempotency.ts), ONE definition: lib/db/models/idempotency-keys.ts
-- calls it, and checkout_place_order claims with it in the order's own statement. Inserts the key, or
-- takes over a row that has expired or whose in-progress owner is long gone (same request only).
CREATE OR REPLACE FUNCTION claim_idempotency_key(p_scope text, p_key text, p_request_hash text,
  p_stale_after_seconds double precision)
RETURNS SETOF idempotency_keys
LANGUAGE plpgsql AS $$
BEGIN
  RETURN QUERY
  INSERT INTO idempotency_keys AS k (scope, key, request_hash, status, locked_at)
  VALUES (p_scope, p_key, p_request_hash, 'in_progress', now())
  ON CONFLICT (scope, key) DO UPDATE SET request_hash = EXCLUDED.request_hash, status = 'in_progress',
    response_status = NULL, response_body = NULL, locked_at = now(), created_at = now(),
    expires_at = now() + interval '24 hours'
  WHERE k.expires_at <= now()
     OR (k.status = 'in_progress'
         AND k.request_hash = EXCLUDED.request_hash
         AND k.locked_at < now() - make_interval(secs => p_stale_after_seconds))
  RETURNING k.*;
END
$$;

-- Stores the response of the claimed request; the row then lives for 24 hours from now. ONE definition:
-- the model's completeIdempotencyKey and checkout's after-provider statement (recordCheckoutSession).
-- Answers how many rows it completed (0 or 1).
CREATE OR REPLACE FUNCTION complete_idempotency_key(p_scope text, p_key text, p_request_hash text, p_status integer,
  p_body jsonb)
RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
  v_done integer;
BEGIN
  UPDATE idempotency_keys k SET status = 'completed', response_status = p_status, response_body = p_body,
    locked_at = NULL, expires_at = GREATEST(k.expires_at, now() + interval '24 hours')
  WHERE k.scope = p_scope AND k.key = p_key AND k.request_hash = p_request_hash AND k.status = 'in_progress';
  GET DIAGNOSTICS v_done = ROW_COUNT;
  RETURN v_done;
END
$$;

-- Down Migration
CREATE OR REPLACE FUNCTION complete_idempotency_key(p_scope text, p_key text, p_request_hash text, p_status integer,
  p_body jsonb)
RETURNS integer
LANGUAGE sql AS $$
  WITH done AS (
    UPDATE idempotency_keys SET status = 'completed', response_status = p_status, response_body = p_body, locked_at = NULL,
      expires_at = GREATEST(expires_at, now() + interval '24 hours')
    WHERE scope = p_scope AND key = p_key AND request_hash = p_request_hash AND status = 'in_progress'
    RETURNING 1)
  SELECT count(*)::int FROM done
$$;

CREATE OR REPLACE FUNCTION claim_idempotency_key(p_scope text, p_key text, p_request_hash text,
  p_stale_after_seconds double precision)
RETURNS SETOF idempotency_keys
LANGUAGE sql AS $$
  INSERT INTO idempotency_keys (scope, key, request_hash, status, locked_at)
  VALUES (p_scope, p_key, p_request_hash, 'in_progress', now())
  ON CONFLICT (scope, key) DO UPDATE SET request_hash = EXCLUDED.request_hash, status = 'in_progress',
    response_status = NULL, response_body = NULL, locked_at = now(), created_at = now(),
    expires_at = now() + interval '24 hours'
  WHERE idempotency_keys.expires_at <= now()
     OR (idempotency_keys.status = 'in_progress'
         AND idempotency_keys.request_hash = EXCLUDED.request_hash
         AND idempotency_keys.locked_at < now() - make_interval(secs => p_stale_after_seconds))
  RETURNING *
$$;

CREATE OR REPLACE FUNCTION next_order_number() RETURNS text
LANGUAGE sql VOLATILE AS $$
  SELECT format_order_number(nextval('order_number_seq'), now())
$$;
