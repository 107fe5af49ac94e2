/**
 * PostgreSQL text and jsonb cannot hold NUL (`\u0000`) nor lone UTF-16 surrogates. A signed provider
 * event may contain them; refusing it would make the provider retry for days. So: the jsonb gets
 * U+FFFD in their place (what handlers read), and the exact JSON text (escapes are plain ASCII, which
 * text holds) is kept beside it in `payload_raw`: nothing is lost.
 */

// biome-ignore lint/suspicious/noControlCharactersInRegex: NUL is exactly what PostgreSQL refuses
const UNSTORABLE = /\u0000|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

export function storableText(value: string): string {
  return value.replace(UNSTORABLE, '\ufffd');
}

function clean(value: unknown): unknown {
  if (typeof value === 'string') return storableText(value);
  if (Array.isArray(value)) return value.map(clean);
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value as Record<string, unknown>).map(([k, v]) => [storableText(k), clean(v)]));
  }
  return value;
}

/** The JSON text for the jsonb column, and the exact text for payload_raw when the two differ (else null). */
export function storablePayload(payload: unknown): { jsonb: string; raw: string | null } {
  const exact = JSON.stringify(payload);
  // JSON.stringify writes NUL as the escape \u0000 and lone surrogates as \udXXX escapes.
  if (!/\\u0000|\\ud[89a-f][0-9a-f]{2}/i.test(exact)) return { jsonb: exact, raw: null };
  return { jsonb: JSON.stringify(clean(payload)), raw: exact };
}
