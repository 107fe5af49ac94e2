import type { z } from 'zod';
import { getConfig } from '../config.js';
import { AppError } from '../errors.js';
import type { RequestContext } from './handler.js';
import { assertSafeText } from './text-input.js';

/** Reads the raw body as text (webhook signatures need the exact bytes), refusing oversized ones. */
export async function readText(ctx: RequestContext, maxBytes = getConfig().http.maxBodyBytes): Promise<string> {
  const declared = Number(ctx.request.headers.get('content-length') ?? '0');
  if (Number.isFinite(declared) && declared > maxBytes) {
    throw new AppError('PAYLOAD_TOO_LARGE', `The request body is over ${maxBytes} bytes`);
  }
  const text = await ctx.request.text();
  if (Buffer.byteLength(text, 'utf8') > maxBytes) {
    throw new AppError('PAYLOAD_TOO_LARGE', `The request body is over ${maxBytes} bytes`);
  }
  return text;
}

export interface FieldIssue {
  path: string;
  message: string;
}

export function fieldIssues(error: z.ZodError): FieldIssue[] {
  return error.issues.slice(0, 50).map((issue) => ({
    path: issue.path.length > 0 ? issue.path.map(String).join('.') : '(body)',
    message: issue.message,
  }));
}

/** Validates any value against a schema, as a 400 listing the field paths (text checked first: lib/http/text-input.ts). */
export function validate<S extends z.ZodType>(schema: S, value: unknown, what = 'request body'): z.infer<S> {
  assertSafeText(value, what);
  const parsed = schema.safeParse(value);
  if (!parsed.success) {
    const issues = fieldIssues(parsed.error);
    throw new AppError('VALIDATION_ERROR', `Invalid ${what}: ${issues.map((i) => i.path).join(', ')}`, {
      details: { fields: issues },
    });
  }
  return parsed.data;
}

/** JSON body: content type, size limit (413), syntax (400 INVALID_JSON), schema (400 with field paths). */
export async function readJson<S extends z.ZodType>(ctx: RequestContext, schema: S): Promise<z.infer<S>> {
  const type = ctx.request.headers.get('content-type') ?? '';
  if (!/^application\/json\s*(;|$)/i.test(type)) {
    throw new AppError('UNSUPPORTED_MEDIA_TYPE', 'Send the body as application/json');
  }
  const text = await readText(ctx);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new AppError('INVALID_JSON', 'The request body is not valid JSON');
  }
  return validate(schema, value);
}
