import type { Queryable } from '../client.js';

/** customers: one per email, case-insensitively (unique index on lower(email)). */
export interface Customer {
  id: string;
  email: string;
  firstName: string;
  lastName: string;
  phone: string | null;
  marketingConsent: boolean;
  createdAt: Date;
}

const COLUMNS = `id, email, first_name AS "firstName", last_name AS "lastName", phone,
  marketing_consent AS "marketingConsent", created_at AS "createdAt"`;

export interface CustomerInput {
  email: string;
  firstName: string;
  lastName: string;
  phone?: string | undefined;
  marketingConsent?: boolean | undefined;
}

/** Inserts by lowercased email, or refreshes the names/phone of the existing customer. */
export async function upsertCustomerByEmail(q: Queryable, input: CustomerInput): Promise<Customer> {
  const consent = input.marketingConsent ?? false;
  const row = await q.queryOne<Customer>(
    `INSERT INTO customers (email, first_name, last_name, phone, marketing_consent, marketing_consent_at)
     VALUES (lower($1), $2, $3, $4, $5, CASE WHEN $5 THEN now() END)
     ON CONFLICT ((lower(email))) DO UPDATE SET first_name = EXCLUDED.first_name, last_name = EXCLUDED.last_name,
       phone = COALESCE(EXCLUDED.phone, customers.phone),
       marketing_consent = customers.marketing_consent OR EXCLUDED.marketing_consent,
       marketing_consent_at = COALESCE(customers.marketing_consent_at, EXCLUDED.marketing_consent_at)
     RETURNING ${COLUMNS}`,
    [input.email, input.firstName, input.lastName, input.phone ?? null, consent],
  );
  if (!row) throw new Error('upsertCustomerByEmail returned no row');
  return row;
}

export async function findCustomerById(q: Queryable, id: string): Promise<Customer | undefined> {
  return await q.queryOne<Customer>(`SELECT ${COLUMNS} FROM customers WHERE id = $1`, [id]);
}

export async function findCustomerByEmail(q: Queryable, email: string): Promise<Customer | undefined> {
  return await q.queryOne<Customer>(`SELECT ${COLUMNS} FROM customers WHERE lower(email) = lower($1)`, [email]);
}

/**
 * The customer for an email, created when new. An existing customer is returned as it is: an
 * unauthenticated checkout must not rewrite anyone's name or phone (issue 18); the order keeps the
 * details it was placed with (lib/db/models/order-buyer.ts).
 */
export async function findOrCreateCustomerByEmail(q: Queryable, input: CustomerInput): Promise<Customer> {
  const inserted = await q.queryOne<Customer>(
    `INSERT INTO customers (email, first_name, last_name, phone, marketing_consent, marketing_consent_at)
     VALUES (lower($1), $2, $3, $4, $5, CASE WHEN $5 THEN now() END)
     ON CONFLICT ((lower(email))) DO NOTHING
     RETURNING ${COLUMNS}`,
    [input.email, input.firstName, input.lastName, input.phone ?? null, input.marketingConsent ?? false],
  );
  // A separate statement sees a row a concurrent checkout committed meanwhile (new snapshot).
  const row = inserted ?? (await findCustomerByEmail(q, input.email));
  if (!row) throw new Error('findOrCreateCustomerByEmail found no customer');
  return row;
}
