-- Up Migration
-- Shared helpers: updated_at trigger function and the allowed-currency domain.
CREATE FUNCTION set_updated_at() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  NEW.updated_at := now();
  RETURN NEW;
END;
$$;

-- ISO 4217, uppercase. Extend the list (in a new migration) before selling in a new currency.
CREATE DOMAIN currency_code AS text
  CHECK (VALUE IN ('USD', 'EUR', 'GBP', 'CAD', 'MXN', 'AUD'));

-- Integer minor units (cents); never negative.
CREATE DOMAIN money_cents AS integer
  CHECK (VALUE >= 0);

-- Down Migration
DROP DOMAIN money_cents;
DROP DOMAIN currency_code;
DROP FUNCTION set_updated_at();
