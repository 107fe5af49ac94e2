-- Up Migration
-- A new staff scope: ops:read (GET /api/admin/metrics, the operator's figures).
ALTER TABLE api_keys DROP CONSTRAINT api_keys_scopes_check;
ALTER TABLE api_keys ADD CONSTRAINT api_keys_scopes_check CHECK (
  cardinality(scopes) >= 1 AND
  scopes <@ ARRAY['orders:read', 'payments:read', 'refunds:write', 'analytics:read', 'webhooks:admin', 'keys:admin', 'ops:read']::text[]);

-- Down Migration
-- Refuses while a key still holds ops:read (revoke and delete those keys, or remove the scope, first).
DO $$
BEGIN
  IF EXISTS (SELECT 1 FROM api_keys WHERE 'ops:read' = ANY (scopes)) THEN
    RAISE EXCEPTION 'api_keys rows still hold the ops:read scope; remove it from them before reverting 0030';
  END IF;
END $$;
ALTER TABLE api_keys DROP CONSTRAINT api_keys_scopes_check;
ALTER TABLE api_keys ADD CONSTRAINT api_keys_scopes_check CHECK (
  cardinality(scopes) >= 1 AND
  scopes <@ ARRAY['orders:read', 'payments:read', 'refunds:write', 'analytics:read', 'webhooks:admin', 'keys:admin']::text[]);
