-- Up Migration
-- lpad(text, 4) TRUNCATES longer text: from sequence value 10,000 on, next_order_number() gave
-- ALB-…-1000 for 10000..10009 (and so on), so a busy day failed checkouts on orders_order_number_key.
-- Numbers keep at least 4 digits and are never cut. The formatting is its own function (testable
-- without touching the sequence).
CREATE FUNCTION format_order_number(n bigint, at timestamptz) RETURNS text
LANGUAGE sql STABLE AS $$
  SELECT 'ALB-' || to_char(at AT TIME ZONE 'America/Denver', 'YYYYMMDD') || '-' ||
         CASE WHEN n < 10000 THEN lpad(n::text, 4, '0') ELSE n::text END
$$;

CREATE OR REPLACE FUNCTION next_order_number() RETURNS text
LANGUAGE sql VOLATILE AS $$
  SELECT format_order_number(nextval('order_number_seq'), now())
$$;

-- Down Migration
CREATE OR REPLACE FUNCTION next_order_number() RETURNS text
LANGUAGE sql VOLATILE AS $$
  SELECT 'ALB-' || to_char(now() AT TIME ZONE 'America/Denver', 'YYYYMMDD') || '-' ||
         lpad(nextval('order_number_seq')::text, 4, '0')
$$;
DROP FUNCTION format_order_number(bigint, timestamptz);
