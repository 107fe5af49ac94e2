import { z } from 'zod';
import type { ApiKeyScope } from '../models/api-keys.js';
import type { AuditEntity } from '../models/audit-log.js';

/** GET /api/audit's query and the scope each entity needs (the route and the OpenAPI document read both here). */
export const AUDIT_SCOPE_FOR: Record<AuditEntity, ApiKeyScope> = {
  order: 'orders:read',
  customer: 'orders:read',
  payment: 'payments:read',
  refund: 'payments:read',
  ticket_type: 'payments:read',
  webhook_event: 'webhooks:admin',
  api_key: 'keys:admin',
};

export const AuditQuery = z.object({
  entity: z.enum(Object.keys(AUDIT_SCOPE_FOR) as [AuditEntity, ...AuditEntity[]]),
  id: z.uuid(),
});
