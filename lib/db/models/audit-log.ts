import type { Queryable } from '../client.js';

/** payment_audit_log: append-only (the database refuses UPDATE, DELETE and TRUNCATE). */

export type AuditEntity = 'order' | 'payment' | 'refund' | 'ticket_type' | 'customer' | 'webhook_event' | 'api_key';
export type ActorType = 'buyer' | 'admin' | 'system' | 'provider' | 'cron';

/** Who did it and from where; passed from the HTTP layer into domain functions. */
export interface Actor {
  type: ActorType;
  id?: string | undefined;
  ip?: string | undefined;
  userAgent?: string | undefined;
  requestId?: string | undefined;
}

export interface AuditEntryInput {
  entityType: AuditEntity;
  entityId: string;
  action: string;
  actor: Actor;
  reason?: string | undefined;
  oldValues?: Record<string, unknown> | undefined;
  newValues?: Record<string, unknown> | undefined;
}

export interface AuditEntry {
  id: number;
  entityType: AuditEntity;
  entityId: string;
  action: string;
  actorType: ActorType;
  actorId: string | null;
  ip: string | null;
  userAgent: string | null;
  requestId: string | null;
  reason: string | null;
  oldValues: Record<string, unknown> | null;
  newValues: Record<string, unknown> | null;
  createdAt: Date;
}

const COLUMNS = `id, entity_type AS "entityType", entity_id AS "entityId", action, actor_type AS "actorType",
  actor_id AS "actorId", ip, user_agent AS "userAgent", request_id AS "requestId", reason,
  old_values AS "oldValues", new_values AS "newValues", created_at AS "createdAt"`;

/** Write it in the same transaction as the change it records. */
export async function appendAudit(q: Queryable, entry: AuditEntryInput): Promise<void> {
  await q.query(
    `INSERT INTO payment_audit_log
       (entity_type, entity_id, action, actor_type, actor_id, ip, user_agent, request_id, reason, old_values, new_values)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
    [
      entry.entityType,
      entry.entityId,
      entry.action,
      entry.actor.type,
      entry.actor.id ?? null,
      entry.actor.ip ?? null,
      entry.actor.userAgent ?? null,
      entry.actor.requestId ?? null,
      entry.reason ?? null,
      entry.oldValues ? JSON.stringify(entry.oldValues) : null,
      entry.newValues ? JSON.stringify(entry.newValues) : null,
    ],
  );
}

export async function listAuditForEntity(q: Queryable, entityType: AuditEntity, entityId: string): Promise<AuditEntry[]> {
  return await q.queryMany<AuditEntry>(
    `SELECT ${COLUMNS} FROM payment_audit_log WHERE entity_type = $1 AND entity_id = $2 ORDER BY created_at, id`,
    [entityType, entityId],
  );
}
