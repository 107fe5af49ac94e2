-- Up Migration
-- Issue 17 (flash-sale speed): format_order_number() inlined into next_order_number() again.
-- format_order_number(n, at) uses n three times. The planner refuses to inline a SQL function whose
-- argument is volatile (nextval) when the parameter appears more than once, so since 0011 every order
-- insert ran it through fmgr_sql: parsed, analysed and planned again on every call (PostgreSQL 15-17 keep
-- nothing between statements there). A `perf` profile of PostgreSQL 17 under the checkout bench put
-- fmgr_sql, all of it from this call, at 4.4 % of the samples. With the sequence value in a variable the
-- argument is a plain parameter: the planner inlines the body and PL/pgSQL keeps that plan for the
-- connection. Same signature, same numbers (test/db/order-numbers.test.ts).

CREATE OR REPLACE FUNCTION next_order_number() RETURNS text
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
  v_n bigint := nextval('order_number_seq');
BEGIN
  RETURN format_order_number(v_n, now());
END
$$;

-- Down Migration
CREATE OR REPLACE FUNCTION next_order_number() RETURNS text
LANGUAGE plpgsql VOLATILE AS $$
BEGIN
  RETURN format_order_number(nextval('order_number_seq'), now());
END
$$;
