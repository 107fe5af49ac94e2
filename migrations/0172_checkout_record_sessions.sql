-- Up Migration
-- Issue 17 (flash-sale speed): checkout's after-provider statement for several sales at once.
-- checkout_record_sessions(records) writes each sale's provider session on its payment and, for a request
-- whose Idempotency-Key checkout_place_order claimed, the key's stored answer (complete_idempotency_key),
-- for every record in one statement: lib/checkout/create-checkout-session.ts lets concurrent sales share it
-- (lib/db/statement-groups.ts), as webhook completions and checkout's reads do. All or nothing: a payment
-- that is not there fails the whole statement, and the caller then records each sale alone.
-- Records: [{payment_id, session_id, checkout_url, claim?: {scope, key, requestHash}, status?, body?}].
-- checkout_record_session (one sale, migration 0100) stays for instances still running the previous
-- release during a deploy; it now goes through the new function, so the rule is written once. It now
-- returns the number of payments written (1), no longer whether the key was completed: no caller reads it.

CREATE FUNCTION checkout_record_sessions(p_records jsonb)
RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
  v_record record;
  v_updated integer := 0;
BEGIN
  -- One UPDATE by primary key per record, in id order: a bounded plan whatever the statistics say (a join of
  -- the records with payments was planned as a hash join over a scan of every payment).
  FOR v_record IN
    SELECT r.payment_id, r.session_id, r.checkout_url
    FROM jsonb_to_recordset(p_records) AS r(payment_id uuid, session_id text, checkout_url text)
    ORDER BY r.payment_id
  LOOP
    UPDATE payments SET provider_session_id = v_record.session_id, checkout_url = v_record.checkout_url
    WHERE id = v_record.payment_id;
    IF NOT FOUND THEN
      RAISE EXCEPTION 'checkout_record_sessions: payment % not found', v_record.payment_id;
    END IF;
    v_updated := v_updated + 1;
  END LOOP;
  PERFORM complete_idempotency_key(r.claim->>'scope', r.claim->>'key', r.claim->>'requestHash', r.status, r.body)
  FROM jsonb_to_recordset(p_records) AS r(claim jsonb, status integer, body jsonb)
  WHERE r.claim IS NOT NULL AND jsonb_typeof(r.claim) = 'object';
  RETURN v_updated;
END
$$;

CREATE OR REPLACE FUNCTION checkout_record_session(p_payment_id uuid, p_session_id text, p_checkout_url text, p_claim jsonb,
  p_status integer, p_body jsonb)
RETURNS integer
LANGUAGE plpgsql AS $$
BEGIN
  RETURN checkout_record_sessions(jsonb_build_array(jsonb_build_object('payment_id', p_payment_id,
    'session_id', p_session_id, 'checkout_url', p_checkout_url, 'claim', p_claim, 'status', p_status, 'body', p_body)));
END
$$;

-- Down Migration
CREATE OR REPLACE FUNCTION checkout_record_session(p_payment_id uuid, p_session_id text, p_checkout_url text, p_claim jsonb,
  p_status integer, p_body jsonb)
RETURNS integer
LANGUAGE plpgsql AS $$
BEGIN
  UPDATE payments SET provider_session_id = p_session_id, checkout_url = p_checkout_url WHERE id = p_payment_id;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'payment % not found', p_payment_id;
  END IF;
  IF p_claim IS NULL THEN
    RETURN 0;
  END IF;
  RETURN complete_idempotency_key(p_claim->>'scope', p_claim->>'key', p_claim->>'requestHash', p_status, p_body);
END
$$;

DROP FUNCTION checkout_record_sessions(jsonb);
