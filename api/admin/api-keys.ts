import { CreateApiKeyBody } from '../../lib/auth/api-key-requests.js';
import { createApiKey, listKeys, parseExpiry, presentApiKey } from '../../lib/auth/api-keys.js';
import { assertCanGrantScopes } from '../../lib/auth/grant-scopes.js';
import { readJson } from '../../lib/http/body.js';
import { defineRoute } from '../../lib/http/handler.js';
import { requireApiKey } from '../../lib/http/require-api-key.js';
import { json } from '../../lib/http/response.js';

/** Staff API keys (scope keys:admin). GET lists them; POST creates one and shows the key once. */

export const { GET, POST, PUT, PATCH, DELETE, OPTIONS } = defineRoute({
  GET: async (ctx) => {
    await requireApiKey(ctx, 'keys:admin');
    const keys = await listKeys();
    return json({ data: keys.map((key) => presentApiKey(key)) });
  },
  POST: async (ctx) => {
    const actor = await requireApiKey(ctx, 'keys:admin');
    const body = await readJson(ctx, CreateApiKeyBody);
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
