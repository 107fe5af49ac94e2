-- Up Migration
-- Append-only: every money change writes an entry in the same transaction as the change.
CREATE TABLE payment_audit_log (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  entity_type text NOT NULL CHECK (entity_type IN (
    'order', 'payment', 'refund', 'ticket_type', 'customer', 'webhook_event', 'api_key')),
  entity_id text NOT NULL,
  action text NOT NULL CHECK (length(action) BETWEEN 1 AND 100),
  actor_type text NOT NULL CHECK (actor_type IN ('buyer', 'admin', 'system', 'provider', 'cron')),
  actor_id text,
  ip text,
  user_agent text,
  request_id text,
  reason text,
  old_values jsonb,
  new_values jsonb,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX payment_audit_log_entity_idx ON payment_audit_log (entity_type, entity_id, created_at);
CREATE INDEX payment_audit_log_created_idx ON payment_audit_log (created_at DESC);

CREATE FUNCTION payment_audit_log_refuse_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'payment_audit_log is append-only: % refused', TG_OP
    USING ERRCODE = 'insufficient_privilege';
END;
$$;
CREATE TRIGGER payment_audit_log_no_update BEFORE UPDATE OR DELETE ON payment_audit_log
  FOR EACH ROW EXECUTE FUNCTION payment_audit_log_refuse_change();
CREATE TRIGGER payment_audit_log_no_truncate BEFORE TRUNCATE ON payment_audit_log
  FOR EACH STATEMENT EXECUTE FUNCTION payment_audit_log_refuse_change();

-- Down Migration
DROP TABLE payment_audit_log;
DROP FUNCTION payment_audit_log_refuse_change();
