import type { Queryable } from '../client.js';

/** The ticket-code columns of order_items (nonce + SHA-256 of the code) and the tickets they find. */

/** Locks the order's tickets that have no code yet (in id order) and returns their ids. */
export async function lockItemsWithoutCode(q: Queryable, orderId: string): Promise<string[]> {
  const rows = await q.queryMany<{ id: string }>(
    `SELECT id FROM order_items WHERE order_id = $1 AND ticket_code_nonce IS NULL ORDER BY id FOR UPDATE`,
    [orderId],
  );
  return rows.map((row) => row.id);
}

/** Sets nonce and code hash of tickets that still have none. */
export async function setTicketCodes(
  q: Queryable,
  codes: readonly { itemId: string; nonce: Buffer; codeHash: string }[],
): Promise<void> {
  if (codes.length === 0) return;
  await q.query(
    `UPDATE order_items i SET ticket_code_nonce = v.nonce, ticket_code_hash = v.hash
     FROM unnest($1::uuid[], $2::bytea[], $3::text[]) AS v(id, nonce, hash)
     WHERE i.id = v.id AND i.ticket_code_nonce IS NULL`,
    [codes.map((c) => c.itemId), codes.map((c) => c.nonce), codes.map((c) => c.codeHash)],
  );
}

export async function listTicketNonces(q: Queryable, orderId: string): Promise<{ id: string; nonce: Buffer }[]> {
  return await q.queryMany<{ id: string; nonce: Buffer }>(
    `SELECT id, ticket_code_nonce AS nonce FROM order_items WHERE order_id = $1 AND ticket_code_nonce IS NOT NULL`,
    [orderId],
  );
}

export interface ScannedTicket {
  id: string;
  itemStatus: 'active' | 'refunded' | 'released';
  orderId: string;
  orderNumber: string;
  orderStatus: string;
  eventId: string;
  ticketTypeId: string;
  typeCode: string;
  typeName: string;
  firstName: string | null;
  lastName: string | null;
  buyerFirstName: string;
  buyerLastName: string;
}

/** The ticket a code hash names, share-locked (a refund releasing it waits for the scan's transaction). */
export async function findTicketByCodeHashForShare(q: Queryable, codeHash: string): Promise<ScannedTicket | undefined> {
  return await q.queryOne<ScannedTicket>(
    `SELECT i.id, i.status AS "itemStatus", o.id AS "orderId", o.order_number AS "orderNumber", o.status AS "orderStatus",
       o.event_id AS "eventId", t.id AS "ticketTypeId", t.code AS "typeCode", t.name AS "typeName",
       i.attendee_first_name AS "firstName", i.attendee_last_name AS "lastName",
       coalesce(o.buyer_first_name, c.first_name) AS "buyerFirstName", coalesce(o.buyer_last_name, c.last_name) AS "buyerLastName"
     FROM order_items i JOIN orders o ON o.id = i.order_id JOIN ticket_types t ON t.id = i.ticket_type_id
       JOIN customers c ON c.id = o.customer_id
     WHERE i.ticket_code_hash = $1
     FOR SHARE OF i`,
    [codeHash],
  );
}
