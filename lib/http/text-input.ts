import { AppError } from '../errors.js';

/**
 * The one input rule for text: no control characters (C0 incl. NUL, DEL, C1) and no lone UTF-16
 * surrogates, in any string value or object key of a request (body, query, path). PostgreSQL text
 * cannot hold NUL and lone surrogates are not UTF-8, so such input would otherwise surface as a 500;
 * it is refused up front with a 400 that names the field. Applied once, by `validate()` in
 * lib/http/body.ts, which every request value goes through before any schema sees it.
 */

// biome-ignore lint/suspicious/noControlCharactersInRegex: refusing control characters is the point
export const CONTROL_CHARACTERS = /[\u0000-\u001f\u007f-\u009f]/;
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/** The rule in words (the OpenAPI document states it from here). */
export const TEXT_RULE_DESCRIPTION =
  'no string value or object key may contain control characters (C0 including NUL, line breaks and tabs; DEL; C1) or lone UTF-16 surrogates.';

export const TEXT_RULE_MESSAGE = 'must not contain control characters (NUL, line breaks, tabs...) or invalid Unicode';

/** True when a string breaks the rule. */
export function isUnsafeText(value: string): boolean {
  return CONTROL_CHARACTERS.test(value) || LONE_SURROGATE.test(value);
}

const MAX_DEPTH = 64;

function printablePath(path: readonly (string | number)[]): string {
  if (path.length === 0) return '(body)';
  return path.map((part) => (typeof part === 'string' && isUnsafeText(part) ? '(invalid key)' : String(part))).join('.');
}

/** The path of the first string or key that breaks the rule, or undefined when all text is clean. */
export function findUnsafeText(value: unknown, path: (string | number)[] = [], depth = 0): string | undefined {
  if (typeof value === 'string') return isUnsafeText(value) ? printablePath(path) : undefined;
  if (value === null || typeof value !== 'object' || depth > MAX_DEPTH) return undefined;
  if (Array.isArray(value)) {
    for (let index = 0; index < value.length; index++) {
      const found = findUnsafeText(value[index], [...path, index], depth + 1);
      if (found !== undefined) return found;
    }
    return undefined;
  }
  for (const [key, inner] of Object.entries(value as Record<string, unknown>)) {
    if (isUnsafeText(key)) return printablePath([...path, key]);
    const found = findUnsafeText(inner, [...path, key], depth + 1);
    if (found !== undefined) return found;
  }
  return undefined;
}

/** 400 VALIDATION_ERROR naming the field when any text in `value` breaks the rule. */
export function assertSafeText(value: unknown, what: string): void {
  const path = findUnsafeText(value);
  if (path === undefined) return;
  throw new AppError('VALIDATION_ERROR', `Invalid ${what}: ${path} ${TEXT_RULE_MESSAGE}`, {
    details: { fields: [{ path, message: TEXT_RULE_MESSAGE }] },
  });
}
