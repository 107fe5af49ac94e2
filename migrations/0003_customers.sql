-- Up Migration
CREATE TABLE customers (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  -- Stored as given; uniqueness and lookups are on lower(email).
  email text NOT NULL CHECK (length(email) BETWEEN 3 AND 254 AND position('@' IN email) > 1),
  first_name text NOT NULL CHECK (length(first_name) BETWEEN 1 AND 100),
  last_name text NOT NULL CHECK (length(last_name) BETWEEN 1 AND 100),
  phone text CHECK (phone IS NULL OR length(phone) BETWEEN 3 AND 40),
  -- GDPR: marketing consent is opt-in and timestamped; erasure anonymises instead of deleting
  -- (orders must stay in the books).
  marketing_consent boolean NOT NULL DEFAULT false,
  marketing_consent_at timestamptz,
  privacy_policy_version text,
  erased_at timestamptz,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT customers_consent_dated CHECK (NOT marketing_consent OR marketing_consent_at IS NOT NULL)
);
CREATE UNIQUE INDEX customers_email_lower_key ON customers (lower(email));
CREATE TRIGGER customers_updated_at BEFORE UPDATE ON customers FOR EACH ROW EXECUTE FUNCTION set_updated_at();

-- Down Migration
DROP TABLE customers;
