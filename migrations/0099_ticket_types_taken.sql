-- Up Migration
-- Issue 17 (flash-sale speed): one counter of capacity in use instead of `sold` + `held`.
-- `taken` changes only when a hold is taken (+n, WHERE taken + n <= capacity) or capacity goes back
-- (hold released / expired / cancelled / failed, sold tickets released by a refund: -n), and when a
-- late payment sells without a hold (+n, same condition). Completing a paid order changes nothing
-- here, so a completion no longer locks the ticket type's row that every checkout of that type locks.
-- How many are sold and how many held is derived from the order items (lib/db/models/ticket-types.ts,
-- ticketTypeCounts): active items of paid orders are sold, active items of pending/processing orders held.
ALTER TABLE ticket_types ADD COLUMN taken integer NOT NULL DEFAULT 0;
UPDATE ticket_types SET taken = sold + held;
ALTER TABLE ticket_types DROP CONSTRAINT ticket_types_capacity_not_exceeded;
ALTER TABLE ticket_types DROP COLUMN sold;
ALTER TABLE ticket_types DROP COLUMN held;
-- The database refuses overselling a second time, whatever the code does.
ALTER TABLE ticket_types ADD CONSTRAINT ticket_types_taken_within_capacity CHECK (taken >= 0 AND taken <= capacity);

-- Down Migration
ALTER TABLE ticket_types DROP CONSTRAINT ticket_types_taken_within_capacity;
ALTER TABLE ticket_types ADD COLUMN sold integer NOT NULL DEFAULT 0 CHECK (sold >= 0);
ALTER TABLE ticket_types ADD COLUMN held integer NOT NULL DEFAULT 0 CHECK (held >= 0);
UPDATE ticket_types t SET
  sold = (SELECT count(*) FROM order_items i JOIN orders o ON o.id = i.order_id
          WHERE i.ticket_type_id = t.id AND i.status = 'active' AND o.status IN ('completed', 'partially_refunded', 'refunded')),
  held = (SELECT count(*) FROM order_items i JOIN orders o ON o.id = i.order_id
          WHERE i.ticket_type_id = t.id AND i.status = 'active' AND o.status IN ('pending', 'processing'));
ALTER TABLE ticket_types ADD CONSTRAINT ticket_types_capacity_not_exceeded CHECK (sold + held <= capacity);
ALTER TABLE ticket_types DROP COLUMN taken;
