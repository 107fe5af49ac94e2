-- Up Migration
-- Issue 17 (flash-sale speed): checkout's writes in ONE statement. A checkout used ~11 round trips
-- inside a transaction that held the hot ticket_types row lock across several of them; here the whole
-- write is one call of checkout_place_order(), a single-statement transaction (no BEGIN / COMMIT round
-- trips) that takes the hot row's lock last and commits at once. The domain rules stay in TypeScript
-- (lib/checkout/create-checkout-session.ts prices and validates); these functions only write what it
-- decided, re-checking in the database what must not have changed. ARCHITECTURE.md "The checkout flow".

-- The Idempotency-Key claim (lib/http/idempotency.ts), ONE definition: lib/db/models/idempotency-keys.ts
-- calls it, and checkout_place_order claims with it in the order's own statement. Inserts the key, or
-- takes over a row that has expired or whose in-progress owner is long gone (same request only).
CREATE FUNCTION claim_idempotency_key(p_scope text, p_key text, p_request_hash text, p_stale_after_seconds double precision)
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

-- Stores the response of the claimed request; the row then lives for 24 hours from now. ONE definition:
-- the model's completeIdempotencyKey and checkout's after-provider statement (recordCheckoutSession).
CREATE FUNCTION complete_idempotency_key(p_scope text, p_key text, p_request_hash text, p_status integer, p_body jsonb)
RETURNS integer
LANGUAGE sql AS $$
  WITH done AS (
    UPDATE idempotency_keys SET status = 'completed', response_status = p_status, response_body = p_body, locked_at = NULL,
      expires_at = GREATEST(expires_at, now() + interval '24 hours')
    WHERE scope = p_scope AND key = p_key AND request_hash = p_request_hash AND status = 'in_progress'
    RETURNING 1)
  SELECT count(*)::int FROM done
$$;

-- What checkout prices with: a ticket type's catalogue fields (not its counters), as one comparable
-- text. The catalogue read hands it to the app, and checkout_place_order refuses ('stale') when the
-- row no longer has it, so an order is never written at a price or rule the app did not see.
CREATE FUNCTION ticket_type_catalog_version(t ticket_types) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
  SELECT md5(row(t.event_id, t.code, t.name, t.price_cents, t.currency, t.sliding_scale, t.max_per_order, t.is_active,
    t.sales_start_at, t.sales_end_at)::text)
$$;

CREATE FUNCTION event_catalog_version(e events) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
  SELECT md5(row(e.slug, e.name, e.status, e.ends_at)::text)
$$;

-- Tickets still counted by pending orders whose hold has passed (reclaimable), per ticket type; through
-- the partial index on live holds (usually none: checkout and the cron reclaim them).
CREATE FUNCTION expired_held_tickets(p_ticket_type_ids uuid[])
RETURNS TABLE (ticket_type_id uuid, n integer)
LANGUAGE sql STABLE AS $$
  SELECT i.ticket_type_id, count(*)::int
  FROM orders o JOIN order_items i ON i.order_id = o.id AND i.status = 'active'
  WHERE o.status IN ('pending', 'processing') AND o.status = 'pending' AND o.hold_expires_at <= now()
    AND i.ticket_type_id = ANY(p_ticket_type_ids)
  GROUP BY i.ticket_type_id
$$;

-- The whole checkout write, all or nothing, in one statement. Arguments (jsonb, built by
-- lib/db/queries/checkout.ts placeCheckoutOrder):
--   p_lines  [{ticketTypeId, quantity, catalogVersion}] sorted by ticketTypeId (the lock order)
--   p_order  {eventId, eventVersion, currency, subtotalCents, discountCents, totalCents, slidingScalePercent,
--             provider, accessTokenHash, holdExpiresAt, metadata, idempotencyKeyHash}
--   p_buyer  {email, firstName, lastName, phone, clientKey, emailKey, capPerClient, capPerEmail}
--   p_items  [{ticketTypeId, unitPriceCents, discountCents, priceCents, currency, attendeeFirstName, ...}]
--   p_audit  {actorType, actorId, ip, userAgent, requestId, newValues}
--   p_claim  null, or {scope, key, requestHash, staleAfterSeconds}: the Idempotency-Key, claimed here
-- Steps: (1) re-check the catalogue (versions) and refuse from a fresh read when a line is short, before
-- writing anything; (2) hold caps: advisory locks (client, then email) and the count of live held
-- tickets; (3) claim the Idempotency-Key; (4) customer (found or created, never rewritten), order with
-- the buyer snapshot and key hash, items, payment, audit; (5) LAST, the holds in ticket-type id order.
-- Answers jsonb {outcome: 'created' | 'sold_out' | 'hold_limit' | 'stale' | 'key_in_use', ...}; every
-- outcome but 'created' leaves nothing written (a short line in (5) undoes (3)-(5)).
CREATE FUNCTION checkout_place_order(p_lines jsonb, p_order jsonb, p_buyer jsonb, p_items jsonb, p_audit jsonb, p_claim jsonb)
RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
  v_line jsonb;
  v_type ticket_types%ROWTYPE;
  v_event events%ROWTYPE;
  v_ids uuid[];
  v_requested integer := 0;
  v_by_client integer;
  v_by_email integer;
  v_customer uuid;
  v_order orders%ROWTYPE;
  v_payment uuid;
  v_short uuid;
BEGIN
  -- (1) Fresh read, no lock: refuse (never grant) from it.
  SELECT * INTO v_event FROM events WHERE id = (p_order->>'eventId')::uuid;
  IF NOT FOUND OR event_catalog_version(v_event) <> p_order->>'eventVersion' THEN
    RETURN jsonb_build_object('outcome', 'stale');
  END IF;
  SELECT array_agg((l->>'ticketTypeId')::uuid) INTO v_ids FROM jsonb_array_elements(p_lines) l;
  FOR v_line IN SELECT * FROM jsonb_array_elements(p_lines) LOOP
    SELECT * INTO v_type FROM ticket_types WHERE id = (v_line->>'ticketTypeId')::uuid;
    IF NOT FOUND OR ticket_type_catalog_version(v_type) <> v_line->>'catalogVersion' THEN
      RETURN jsonb_build_object('outcome', 'stale');
    END IF;
    v_requested := v_requested + (v_line->>'quantity')::int;
    -- HOT ROW, what is left: capacity - taken (migration 0099: holds and releases change taken, completion does not).
    IF v_type.capacity - v_type.taken < (v_line->>'quantity')::int THEN
      v_short := v_type.id;
      EXIT;
    END IF;
  END LOOP;

  -- (2) Hold caps (lib/checkout/hold-caps.ts decides; the count is serialised per client and per email).
  IF v_short IS NULL THEN
    IF p_buyer->>'clientKey' IS NOT NULL THEN
      PERFORM pg_advisory_xact_lock(hashtextextended('hold:client:' || (p_buyer->>'clientKey'), 18));
    END IF;
    PERFORM pg_advisory_xact_lock(hashtextextended('hold:email:' || (p_buyer->>'emailKey'), 18));
    SELECT count(*) FILTER (WHERE o.client_key = p_buyer->>'clientKey')::int,
           count(*) FILTER (WHERE o.held_email_key = p_buyer->>'emailKey')::int
      INTO v_by_client, v_by_email
      FROM orders o JOIN order_items i ON i.order_id = o.id AND i.status = 'active'
      WHERE o.status IN ('pending', 'processing') AND o.hold_expires_at > now()
        AND (o.client_key = p_buyer->>'clientKey' OR o.held_email_key = p_buyer->>'emailKey');
    IF (p_buyer->>'clientKey' IS NOT NULL AND v_by_client + v_requested > (p_buyer->>'capPerClient')::int)
       OR v_by_email + v_requested > (p_buyer->>'capPerEmail')::int THEN
      RETURN jsonb_build_object('outcome', 'hold_limit', 'byClient', v_by_client, 'byEmail', v_by_email,
        'requested', v_requested);
    END IF;
  END IF;

  IF v_short IS NULL THEN
    BEGIN
      -- (3) The Idempotency-Key, claimed with the order (undone with it).
      IF p_claim IS NOT NULL THEN
        PERFORM 1 FROM claim_idempotency_key(p_claim->>'scope', p_claim->>'key', p_claim->>'requestHash',
          (p_claim->>'staleAfterSeconds')::double precision);
        IF NOT FOUND THEN
          RETURN jsonb_build_object('outcome', 'key_in_use');
        END IF;
      END IF;
      -- An earlier attempt under this key left a pending order: the caller releases it first.
      IF p_order->>'idempotencyKeyHash' IS NOT NULL AND p_claim IS NOT NULL AND EXISTS (
        SELECT 1 FROM orders WHERE idempotency_key_hash = p_order->>'idempotencyKeyHash' AND status = 'pending') THEN
        RAISE EXCEPTION USING ERRCODE = 'BF017', MESSAGE = 'key_in_use';
      END IF;

      -- (4) Never rewrites an existing customer (an unauthenticated request); the order keeps its own copy.
      INSERT INTO customers (email, first_name, last_name, phone, marketing_consent, marketing_consent_at)
      VALUES (lower(p_buyer->>'email'), p_buyer->>'firstName', p_buyer->>'lastName', p_buyer->>'phone', false, NULL)
      ON CONFLICT ((lower(email))) DO NOTHING
      RETURNING id INTO v_customer;
      IF v_customer IS NULL THEN
        SELECT id INTO v_customer FROM customers WHERE lower(email) = lower(p_buyer->>'email');
      END IF;

      INSERT INTO orders (event_id, customer_id, currency, subtotal_cents, discount_cents, total_cents,
        sliding_scale_percent, provider, access_token_hash, hold_expires_at, metadata,
        buyer_email, buyer_first_name, buyer_last_name, buyer_phone, client_key, held_email_key, idempotency_key_hash)
      VALUES ((p_order->>'eventId')::uuid, v_customer, p_order->>'currency', (p_order->>'subtotalCents')::int,
        (p_order->>'discountCents')::int, (p_order->>'totalCents')::int, (p_order->>'slidingScalePercent')::int,
        p_order->>'provider', p_order->>'accessTokenHash', (p_order->>'holdExpiresAt')::timestamptz,
        coalesce(p_order->'metadata', '{}'::jsonb),
        p_buyer->>'email', p_buyer->>'firstName', p_buyer->>'lastName', p_buyer->>'phone',
        p_buyer->>'clientKey', p_buyer->>'emailKey', p_order->>'idempotencyKeyHash')
      RETURNING * INTO v_order;

      INSERT INTO order_items (order_id, ticket_type_id, unit_price_cents, discount_cents, price_cents, currency,
        attendee_first_name, attendee_last_name, attendee_email)
      SELECT v_order.id, (i->>'ticketTypeId')::uuid, (i->>'unitPriceCents')::int, (i->>'discountCents')::int,
        (i->>'priceCents')::int, i->>'currency', i->>'attendeeFirstName', i->>'attendeeLastName', i->>'attendeeEmail'
      FROM jsonb_array_elements(p_items) i;

      INSERT INTO payments (order_id, provider, amount_cents, currency)
      VALUES (v_order.id, v_order.provider, v_order.total_cents, v_order.currency)
      RETURNING id INTO v_payment;

      INSERT INTO payment_audit_log
        (entity_type, entity_id, action, actor_type, actor_id, ip, user_agent, request_id, reason, old_values, new_values)
      VALUES ('order', v_order.id::text, 'checkout_started', p_audit->>'actorType',
        coalesce(p_audit->>'actorId', v_customer::text), p_audit->>'ip', p_audit->>'userAgent', p_audit->>'requestId', NULL,
        NULL, (p_audit->'newValues') || jsonb_build_object('status', v_order.status, 'orderNumber', v_order.order_number));

      -- (5) LAST, in id order (two multi-type orders never wait on each other in a cycle): the hot rows are
      -- locked from here to the end of this statement's transaction, which commits right after it.
      FOR v_line IN SELECT * FROM jsonb_array_elements(p_lines) LOOP
        -- HOT ROW, the one place checkout takes a hold: a conditional write, the only grant.
        UPDATE ticket_types SET taken = taken + (v_line->>'quantity')::int
        WHERE id = (v_line->>'ticketTypeId')::uuid AND taken + (v_line->>'quantity')::int <= capacity;
        IF NOT FOUND THEN
          v_short := (v_line->>'ticketTypeId')::uuid;
          RAISE EXCEPTION USING ERRCODE = 'BF017', MESSAGE = 'sold_out';
        END IF;
      END LOOP;
    EXCEPTION WHEN SQLSTATE 'BF017' THEN
      -- Everything of (3)-(5) is undone; say why.
      IF SQLERRM = 'key_in_use' THEN
        RETURN jsonb_build_object('outcome', 'key_in_use');
      END IF;
    END;
  END IF;

  IF v_short IS NOT NULL THEN
    SELECT * INTO v_type FROM ticket_types WHERE id = v_short;
    RETURN jsonb_build_object('outcome', 'sold_out', 'ticketTypeId', v_short, 'capacity', v_type.capacity,
      'taken', v_type.taken,
      'expiredHeld', coalesce((SELECT n FROM expired_held_tickets(ARRAY[v_short])), 0));
  END IF;

  RETURN jsonb_build_object('outcome', 'created', 'customerId', v_customer, 'paymentId', v_payment,
    'order', to_jsonb(v_order));
END
$$;

-- The one statement after the provider call: the provider session on the payment and, when the request
-- carried an Idempotency-Key claimed by checkout_place_order, the stored (sealed) answer.
CREATE FUNCTION checkout_record_session(p_payment_id uuid, p_session_id text, p_checkout_url text, p_claim jsonb,
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

-- Down Migration
DROP FUNCTION checkout_record_session(uuid, text, text, jsonb, integer, jsonb);
DROP FUNCTION checkout_place_order(jsonb, jsonb, jsonb, jsonb, jsonb, jsonb);
DROP FUNCTION expired_held_tickets(uuid[]);
DROP FUNCTION event_catalog_version(events);
DROP FUNCTION ticket_type_catalog_version(ticket_types);
DROP FUNCTION complete_idempotency_key(text, text, text, integer, jsonb);
DROP FUNCTION claim_idempotency_key(text, text, text, double precision);
