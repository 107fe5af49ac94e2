import { getConfig } from './config.js';

/**
 * Structured JSON logs, one line per event. Field names that may carry secrets or personal data are
 * redacted wherever they appear, so a careless `log.info('x', { body })` cannot leak them.
 */

type Level = 'debug' | 'info' | 'warn' | 'error';
const ORDER: Record<Level | 'silent', number> = { debug: 10, info: 20, warn: 30, error: 40, silent: 100 };

const REDACT = /pass(word)?|secret|token|authorization|cookie|api[-_]?key|signature|card|cvc|email|phone|name$|address/i;

export function redact(value: unknown, depth = 0): unknown {
  if (depth > 6) return '[depth]';
  if (Array.isArray(value)) return value.map((item) => redact(item, depth + 1));
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [key, inner] of Object.entries(value)) {
      out[key] = REDACT.test(key) ? '[redacted]' : redact(inner, depth + 1);
    }
    return out;
  }
  return value;
}

function serialiseError(error: unknown): Record<string, unknown> {
  if (error instanceof Error) {
    return {
      name: error.name,
      message: error.message,
      code: (error as { code?: unknown }).code,
      stack: error.stack,
      cause: error.cause instanceof Error ? serialiseError(error.cause) : undefined,
    };
  }
  return { value: String(error) };
}

function write(level: Level, message: string, fields: Record<string, unknown> = {}): void {
  let threshold: Level | 'silent' = 'info';
  try {
    threshold = getConfig().logLevel;
  } catch {
    // Config errors are reported by whoever asked for config; logging still works.
  }
  if (ORDER[level] < ORDER[threshold]) return;
  const { error, ...rest } = fields;
  const line = {
    level,
    time: new Date().toISOString(),
    msg: message,
    ...(redact(rest) as Record<string, unknown>),
    ...(error === undefined ? {} : { error: serialiseError(error) }),
  };
  const text = JSON.stringify(line);
  if (level === 'error' || level === 'warn') process.stderr.write(`${text}\n`);
  else process.stdout.write(`${text}\n`);
}

export const log = {
  debug: (message: string, fields?: Record<string, unknown>) => write('debug', message, fields),
  info: (message: string, fields?: Record<string, unknown>) => write('info', message, fields),
  warn: (message: string, fields?: Record<string, unknown>) => write('warn', message, fields),
  error: (message: string, fields?: Record<string, unknown>) => write('error', message, fields),
};
