import { z } from 'zod';
import { API_KEY_SCOPES } from '../db/models/api-keys.js';

/** The bodies and path parameters of /api/admin/api-keys (the routes and the OpenAPI document read them here). */

export const CreateApiKeyBody = z.strictObject({
  name: z.string().trim().min(1).max(100),
  scopes: z.array(z.enum(API_KEY_SCOPES)).min(1).max(API_KEY_SCOPES.length),
  environment: z.enum(['live', 'test']).optional(),
  /** "30d", "12h", "90m" or an ISO date. */
  expires: z.string().max(40).optional().meta({ description: 'A duration like `30d`, `12h`, `90m`, or an ISO date.' }),
  rateLimitPerMinute: z.number().int().min(1).max(100_000).optional(),
});

export const ApiKeyParams = z.strictObject({ id: z.uuid() });
