import { checkResponseAgainstDocument } from './contract.js';

/** Builds a Request the way Vercel hands one to a Web-form handler, and reads the JSON answer. */
export interface CallOptions {
  method?: string;
  path?: string;
  headers?: Record<string, string>;
  body?: unknown;
  /** Sent as-is (no JSON encoding). */
  rawBody?: string;
  query?: Record<string, string>;
}

export function buildRequest(options: CallOptions = {}): Request {
  const url = new URL(options.path ?? '/', 'http://localhost:3000');
  for (const [key, value] of Object.entries(options.query ?? {})) url.searchParams.set(key, value);
  const headers = new Headers(options.headers);
  let body: string | undefined = options.rawBody;
  if (options.body !== undefined) {
    body = JSON.stringify(options.body);
    if (!headers.has('content-type')) headers.set('content-type', 'application/json');
  }
  return new Request(url, { method: options.method ?? 'GET', headers, body });
}

export async function call(
  handler: (request: Request) => Promise<Response>,
  options: CallOptions = {},
): Promise<{ status: number; headers: Headers; body: any; text: string }> {
  const response = await handler(buildRequest(options));
  const text = await response.text();
  let body: unknown;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {
    body = undefined;
  }
  const received = { status: response.status, headers: response.headers, body, text };
  // Every answer of an api/ handler is checked against the OpenAPI document (test/support/contract.ts).
  await checkResponseAgainstDocument(handler, received);
  return received;
}
