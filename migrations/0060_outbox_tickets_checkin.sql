-- Up Migration
-- Buyer emails through a transactional outbox, ticket codes, door check-in (issue 12).

-- One row per email to send. It is written in the SAME transaction as the change it reports, and the
-- (order, kind, cause) key makes a replayed webhook or a racing duplicate queue it only once.
-- Delivery happens after the commit (right away, and by the cron for what is due).
CREATE TABLE outbox_messages (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  order_id uuid NOT NULL REFERENCES orders (id) ON DELETE RESTRICT,
  kind text NOT NULL CHECK (kind IN (
    'order_confirmation', 'refund_notification', 'late_payment_refund', 'order_expired', 'order_cancelled')),
  -- What caused it: payment:<id>, refund:<id>, expired, cancelled, resend:<...>.
  cause text NOT NULL CHECK (length(cause) BETWEEN 1 AND 200),
  recipient text NOT NULL CHECK (length(recipient) BETWEEN 3 AND 254),
  -- A snapshot of what the email reports (amounts at the time); never secrets or full provider ids.
  payload jsonb NOT NULL DEFAULT '{}'::jsonb,
  status text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sending', 'sent', 'dead')),
  attempts integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
  next_attempt_at timestamptz NOT NULL DEFAULT now(),
  -- A claimed ('sending') row belongs to its sender until then; after it, it is due again.
  locked_until timestamptz,
  last_attempt_at timestamptz,
  last_error text CHECK (last_error IS NULL OR length(last_error) <= 1000),
  -- The Message-ID the SMTP server accepted.
  provider_message_id text CHECK (provider_message_id IS NULL OR length(provider_message_id) <= 300),
  resend_of uuid REFERENCES outbox_messages (id) ON DELETE SET NULL,
  requested_by text,
  sent_at timestamptz,
  dead_at timestamptz,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT outbox_messages_once UNIQUE (order_id, kind, cause),
  CONSTRAINT outbox_messages_sent_has_time CHECK (status <> 'sent' OR sent_at IS NOT NULL),
  CONSTRAINT outbox_messages_dead_has_time CHECK (status <> 'dead' OR dead_at IS NOT NULL),
  CONSTRAINT outbox_messages_sending_is_locked CHECK (status <> 'sending' OR locked_until IS NOT NULL)
);
CREATE TRIGGER outbox_messages_updated_at BEFORE UPDATE ON outbox_messages FOR EACH ROW EXECUTE FUNCTION set_updated_at();
CREATE INDEX outbox_messages_due_idx ON outbox_messages (next_attempt_at) WHERE status = 'pending';
CREATE INDEX outbox_messages_stale_idx ON outbox_messages (locked_until) WHERE status = 'sending';
CREATE INDEX outbox_messages_created_idx ON outbox_messages (created_at DESC, id DESC);
CREATE INDEX outbox_messages_order_idx ON outbox_messages (order_id, created_at);

-- Ticket codes, generated lazily (no backfill: when an order's confirmation is first rendered for sending,
-- which covers orders paid before this migration on their first resend): a random 128-bit nonce per ticket; the code the QR carries is
-- HMAC-SHA256(TICKET_CODE_SECRET, nonce), and only its SHA-256 is stored, so the table alone never
-- gives a code away. Scans look the code up by that hash.
ALTER TABLE order_items
  ADD COLUMN ticket_code_nonce bytea CHECK (ticket_code_nonce IS NULL OR octet_length(ticket_code_nonce) = 16),
  ADD COLUMN ticket_code_hash text CHECK (ticket_code_hash IS NULL OR ticket_code_hash ~ '^[0-9a-f]{64}$'),
  ADD CONSTRAINT order_items_ticket_code_complete CHECK ((ticket_code_nonce IS NULL) = (ticket_code_hash IS NULL));
CREATE UNIQUE INDEX order_items_ticket_code_hash_key ON order_items (ticket_code_hash) WHERE ticket_code_hash IS NOT NULL;

-- One admission per ticket: the primary key is what makes 20 simultaneous scans admit once.
CREATE TABLE ticket_checkins (
  order_item_id uuid PRIMARY KEY REFERENCES order_items (id) ON DELETE RESTRICT,
  order_id uuid NOT NULL REFERENCES orders (id) ON DELETE RESTRICT,
  event_id uuid NOT NULL REFERENCES events (id) ON DELETE RESTRICT,
  ticket_type_id uuid NOT NULL REFERENCES ticket_types (id) ON DELETE RESTRICT,
  door text CHECK (door IS NULL OR length(door) BETWEEN 1 AND 60),
  -- The API key (id) that scanned it.
  checked_in_by text,
  checked_in_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX ticket_checkins_event_type_idx ON ticket_checkins (event_id, ticket_type_id);

-- Order-page links sent by email: 32 random bytes, only the SHA-256 stored, expiring after the event.
CREATE TABLE order_link_tokens (
  token_hash text PRIMARY KEY CHECK (token_hash ~ '^[0-9a-f]{64}$'),
  order_id uuid NOT NULL REFERENCES orders (id) ON DELETE CASCADE,
  message_id uuid REFERENCES outbox_messages (id) ON DELETE SET NULL,
  expires_at timestamptz NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX order_link_tokens_order_idx ON order_link_tokens (order_id);
CREATE INDEX order_link_tokens_expires_idx ON order_link_tokens (expires_at);

-- New staff scopes: messages:admin (outbox list + resend), checkin:write (door scanning). The FULL list: every
-- scope of the migrations before this one (0030 added ops:read) stays allowed.
ALTER TABLE api_keys DROP CONSTRAINT api_keys_scopes_check;
ALTER TABLE api_keys ADD CONSTRAINT api_keys_scopes_check CHECK (
  cardinality(scopes) >= 1 AND
  scopes <@ ARRAY['orders:read', 'payments:read', 'refunds:write', 'analytics:read', 'webhooks:admin', 'keys:admin',
                  'ops:read', 'messages:admin', 'checkin:write']::text[]);

-- Down Migration
DELETE FROM api_keys WHERE scopes <@ ARRAY['messages:admin', 'checkin:write']::text[];
UPDATE api_keys SET scopes = array_remove(array_remove(scopes, 'messages:admin'), 'checkin:write')
  WHERE scopes && ARRAY['messages:admin', 'checkin:write']::text[];
ALTER TABLE api_keys DROP CONSTRAINT api_keys_scopes_check;
ALTER TABLE api_keys ADD CONSTRAINT api_keys_scopes_check CHECK (
  cardinality(scopes) >= 1 AND
  scopes <@ ARRAY['orders:read', 'payments:read', 'refunds:write', 'analytics:read', 'webhooks:admin', 'keys:admin',
                  'ops:read']::text[]);
DROP TABLE order_link_tokens;
DROP TABLE ticket_checkins;
DROP INDEX order_items_ticket_code_hash_key;
ALTER TABLE order_items
  DROP CONSTRAINT order_items_ticket_code_complete,
  DROP COLUMN ticket_code_hash,
  DROP COLUMN ticket_code_nonce;
DROP TABLE outbox_messages;
