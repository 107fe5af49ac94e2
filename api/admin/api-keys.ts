import { z } from 'zod';
import { API_KEY_SCOPES, createApiKey, listKeys, parseExpiry, presentApiKey } from '../../lib/auth/api-keys.js';
import { assertCanGrantScopes } from '../../lib/auth/grant-scopes.js';
import { readJson } from '../../lib/http/body.js';
import { defineRoute } from '../../lib/http/handler.js';
import { requireApiKey } from '../../lib/http/require-api-key.js';
import { json } from '../../lib/http/response.js';

/** Staff API keys (scope keys:admin). GET lists them; POST creates one and shows the key once. */

const CreateKey = z.strictObject({
  name: z.string().trim().min(1).max(100),
  scopes: z.array(z.enum(API_KEY_SCOPES)).min(1).max(API_KEY_SCOPES.length),
  environment: z.enum(['live', 'test']).optional(),
  /** "30d", "12h", "90m" or an ISO date. */
  expires: z.string().max(40).optional(),
  rateLimitPerMinute: z.number().int().min(1).max(100_000).optional(),
});

export const { GET, POST, PUT, PATCH, DELETE, OPTIONS } = defineRoute({
  GET: async (ctx) => {
    await requireApiKey(ctx, 'keys:admin');
    const keys = await listKeys();
    return json({ data: keys.map((key) => presentApiKey(key)) });
  },
  POST: async (ctx) => {
    const actor = await requireApiKey(ctx, 'keys:admin');
    const body = await readJson(ctx, CreateKey);
    const expiresAt = parseExpiry(body.expires); // every 400 before the 403
    assertCanGrantScopes(actor, body.scopes);
    const created = await createApiKey(
      {
        name: body.name,
        scopes: body.scopes,
        environment: body.environment,
        expiresAt,
        rateLimitPerMinute: body.rateLimitPerMinute,
      },
      actor,
    );
    return json({ key: created.key, apiKey: presentApiKey(created.record) }, { status: 201 });
  },
});
