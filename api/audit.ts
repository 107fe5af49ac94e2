import { AUDIT_SCOPE_FOR, AuditQuery } from '../lib/db/queries/audit-query.js';
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

export const { GET, POST, PUT, PATCH, DELETE, OPTIONS } = defineRoute({
  GET: async (ctx) => {
    const actor = await authenticateRequest(ctx);
    const query = validate(AuditQuery, readQuery(ctx), 'query');
    requireScope(actor, AUDIT_SCOPE_FOR[query.entity]);
    const entries = await entityAuditTimeline(query.entity, query.id);
    return json({ entity: query.entity, id: query.id, data: entries.map(presentAuditEntry) });
  },
});
