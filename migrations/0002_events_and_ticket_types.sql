-- Up Migration
CREATE TABLE events (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  slug text NOT NULL UNIQUE CHECK (slug ~ '^[a-z0-9][a-z0-9-]{1,62}$'),
  name text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
  venue text,
  timezone text NOT NULL DEFAULT 'America/Denver',
  starts_at timestamptz NOT NULL,
  ends_at timestamptz NOT NULL,
  currency currency_code NOT NULL DEFAULT 'USD',
  status text NOT NULL DEFAULT 'on_sale' CHECK (status IN ('draft', 'on_sale', 'closed', 'archived')),
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT events_dates_ordered CHECK (ends_at >= starts_at)
);
CREATE TRIGGER events_updated_at BEFORE UPDATE ON events FOR EACH ROW EXECUTE FUNCTION set_updated_at();

CREATE TABLE ticket_types (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  -- A festival edition is never deleted while it has ticket types (archive it instead).
  event_id uuid NOT NULL REFERENCES events (id) ON DELETE RESTRICT,
  code text NOT NULL CHECK (code ~ '^[a-z0-9_]{1,40}$'),
  name text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
  description text,
  price_cents money_cents NOT NULL,
  currency currency_code NOT NULL,
  capacity integer NOT NULL CHECK (capacity >= 0),
  sold integer NOT NULL DEFAULT 0 CHECK (sold >= 0),
  held integer NOT NULL DEFAULT 0 CHECK (held >= 0),
  sales_start_at timestamptz,
  sales_end_at timestamptz,
  sliding_scale boolean NOT NULL DEFAULT false,
  max_per_order integer NOT NULL DEFAULT 10 CHECK (max_per_order BETWEEN 1 AND 100),
  is_active boolean NOT NULL DEFAULT true,
  sort_order integer NOT NULL DEFAULT 0,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT ticket_types_event_code_key UNIQUE (event_id, code),
  -- The one rule that prevents overselling: the database refuses any write that breaks it.
  CONSTRAINT ticket_types_capacity_not_exceeded CHECK (sold + held <= capacity),
  CONSTRAINT ticket_types_sale_window_ordered CHECK (sales_end_at IS NULL OR sales_start_at IS NULL OR sales_end_at > sales_start_at)
);
CREATE TRIGGER ticket_types_updated_at BEFORE UPDATE ON ticket_types FOR EACH ROW EXECUTE FUNCTION set_updated_at();

-- Down Migration
DROP TABLE ticket_types;
DROP TABLE events;
