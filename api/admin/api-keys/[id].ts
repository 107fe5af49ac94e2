import { ApiKeyParams } from '../../../lib/auth/api-key-requests.js';
import { presentApiKey, revokeApiKey } from '../../../lib/auth/api-keys.js';
import { db } from '../../../lib/db/client.js';
import { findApiKeyById } from '../../../lib/db/models/api-keys.js';
import { AppError } from '../../../lib/errors.js';
import { validate } from '../../../lib/http/body.js';
import type { RequestContext } from '../../../lib/http/handler.js';
import { defineRoute } from '../../../lib/http/handler.js';
import { requireApiKey } from '../../../lib/http/require-api-key.js';
import { json } from '../../../lib/http/response.js';

/** One staff API key (scope keys:admin): GET shows it, DELETE revokes it (at once, for good). */

function keyId(ctx: RequestContext): string {
  return validate(ApiKeyParams, { id: ctx.url.searchParams.get('id') ?? '' }, 'key id').id;
}

export const { GET, POST, PUT, PATCH, DELETE, OPTIONS } = defineRoute({
  GET: async (ctx) => {
    await requireApiKey(ctx, 'keys:admin');
    const key = await findApiKeyById(db, keyId(ctx));
    if (!key) throw new AppError('NOT_FOUND', 'No API key with that id');
    return json({ apiKey: presentApiKey(key) });
  },
  DELETE: async (ctx) => {
    const actor = await requireApiKey(ctx, 'keys:admin');
    const revoked = await revokeApiKey(keyId(ctx), actor);
    return json({ apiKey: presentApiKey(revoked) });
  },
});
