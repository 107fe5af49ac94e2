import { z } from 'zod';
import type { ApiKeyScope } from '../lib/db/models/api-keys.js';
import type { AuditEntity } from '../lib/db/models/audit-log.js';
import { entityAuditTimeline, presentAuditEntry } from '../lib/db/queries/order-detail.js';
import { readQuery } from '../lib/http/query.js';
import { validate } from '../lib/http/body.js';
import { defineRoute } from '../lib/http/handler.js';
import { authenticateRequest, requireScope } from '../lib/http/require-api-key.js';
import { json } from '../lib/http/response.js';

/**
 * GET /api/audit?entity=order&id=<uuid>: the audit timeline of one entity, oldest first (an order's
 * includes its payments and refunds). The scope needed follows the entity.
 */

const SCOPE_FOR: Record<AuditEntity, ApiKeyScope> = {
  order: 'orders:read',
  customer: 'orders:read',
  payment: 'payments:read',
  refund: 'payments:read',
  ticket_type: 'payments:read',
  webhook_event: 'webhooks:admin',
  api_key: 'keys:admin',
};

const AuditQuery = z.object({
  entity: z.enum(Object.keys(SCOPE_FOR) as [AuditEntity, ...AuditEntity[]]),
  id: z.uuid(),
});

export const { GET, POST, PUT, PATCH, DELETE, OPTIONS } = defineRoute({
  GET: async (ctx) => {
    const actor = await authenticateRequest(ctx);
    const query = validate(AuditQuery, readQuery(ctx), 'query');
    requireScope(actor, SCOPE_FOR[query.entity]);
    const entries = await entityAuditTimeline(query.entity, query.id);
    return json({ entity: query.entity, id: query.id, data: entries.map(presentAuditEntry) });
  },
});
