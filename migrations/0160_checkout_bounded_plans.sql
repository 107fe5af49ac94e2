-- Up Migration
-- Issue 17 (flash-sale speed): checkout's statements must keep a bounded cost whatever the planner knows.
-- Measured (auto_explain under `npm run bench -- checkout`): named statements and plpgsql keep a generic
-- plan per connection, made while the sale's tables were still empty. Two of those plans then visited
-- every live hold on every checkout, so the database's cost per checkout grew with the tickets sold
-- (a sold-out answer took 5-17 ms of PostgreSQL time by the end of the sale):
--   * expired_held_tickets (in checkout's first read, also for a sold-out answer) was planned from
--     order_items by ticket type (every ticket sold) probing orders;
--   * the hold caps' count (client OR email) was planned as a scan of the live-holds index (every hold).
-- Both are rewritten so that the only plans left are the bounded ones:
--   * expired_held_tickets first asks the live-holds index for its earliest expiry (one index descent,
--     min() over the partial index); only when a live hold has expired does it look further, from the
--     expired orders (their items are then found by order id, never by ticket type);
--   * the caps count by client and by email separately, each an equality on its own partial index.

CREATE OR REPLACE FUNCTION expired_held_tickets(p_ticket_type_ids uuid[])
RETURNS TABLE (ticket_type_id uuid, n integer)
LANGUAGE sql STABLE AS $$
  SELECT i.ticket_type_id, count(*)::int
  FROM orders o
  -- LATERAL behind OFFSET 0: the items are looked up per expired order (by order id), never the other way.
  CROSS JOIN LATERAL (SELECT x.ticket_type_id FROM order_items x
                      WHERE x.order_id = o.id AND x.status = 'active' AND x.ticket_type_id = ANY(p_ticket_type_ids)
                      OFFSET 0) i
  -- A gate evaluated once, before anything else: has any live hold expired at all?
  WHERE (SELECT min(h.hold_expires_at) FROM orders h WHERE h.status IN ('pending', 'processing')) <= now()
    AND o.status IN ('pending', 'processing') AND o.status = 'pending' AND o.hold_expires_at <= now()
  GROUP BY i.ticket_type_id
$$;

CREATE OR REPLACE FUNCTION checkout_place_order(p_lines jsonb, p_order jsonb, p_buyer jsonb, p_items jsonb, p_audit jsonb, p_claim jsonb)
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
    -- Two counts, each by equality on its own partial index (migration 0160: the OR form could be planned
    -- as a scan of every live hold, and plpgsql keeps that plan for the connection).
    SELECT (SELECT count(*)::int FROM orders o JOIN order_items i ON i.order_id = o.id AND i.status = 'active'
            WHERE o.client_key = p_buyer->>'clientKey' AND o.status IN ('pending', 'processing') AND o.hold_expires_at > now()),
           (SELECT count(*)::int FROM orders o JOIN order_items i ON i.order_id = o.id AND i.status = 'active'
            WHERE o.held_email_key = p_buyer->>'emailKey' AND o.status IN ('pending', 'processing') AND o.hold_expires_at > now())
      INTO v_by_client, v_by_email;
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

-- Down Migration
CREATE OR REPLACE FUNCTION checkout_place_order(p_lines jsonb, p_order jsonb, p_buyer jsonb, p_items jsonb, p_audit jsonb, p_claim jsonb)
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

CREATE OR REPLACE FUNCTION expired_held_tickets(p_ticket_type_ids uuid[])
RETURNS TABLE (ticket_type_id uuid, n integer)
LANGUAGE sql STABLE AS $$
  SELECT i.ticket_type_id, count(*)::int
  FROM orders o JOIN order_items i ON i.order_id = o.id AND i.status = 'active'
  WHERE o.status IN ('pending', 'processing') AND o.status = 'pending' AND o.hold_expires_at <= now()
    AND i.ticket_type_id = ANY(p_ticket_type_ids)
  GROUP BY i.ticket_type_id
$$;
