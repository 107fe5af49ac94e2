import { describe, expect, it } from 'vitest';
import { AppError } from '../lib/errors.js';

describe('AppError', () => {
  it('is an answer, not a bug: no stack frames of its own; the trace limit is left as it was; a cause keeps its stack', () => {
    const before = Error.stackTraceLimit;
    const cause = new Error('provider said no');
    const error = new AppError('SOLD_OUT', 'Sold out', { cause });
    expect(Error.stackTraceLimit).toBe(before);
    expect(error.stack).toBe('AppError: Sold out');
    expect(error.cause).toBe(cause);
    expect(cause.stack).toMatch(/\n\s+at /);
    // Other errors made afterwards still capture their frames.
    expect(new Error('a bug').stack).toMatch(/\n\s+at /);
  });
});
