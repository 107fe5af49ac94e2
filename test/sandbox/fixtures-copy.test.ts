import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

/** The in-repo copies of Stripe's example objects must stay identical to ../shared/fixtures (when it is there). */

const shared = join(process.cwd(), '..', 'shared', 'fixtures', 'stripe', 'fixtures3.json');
const copy = join(process.cwd(), 'sandbox', 'fixtures', 'stripe-objects.json');

describe('sandbox/fixtures/stripe-objects.json', () => {
  it.skipIf(!existsSync(shared))('matches the resources in ../shared/fixtures/stripe/fixtures3.json', () => {
    const resources = (JSON.parse(readFileSync(shared, 'utf8')) as { resources: Record<string, unknown> }).resources;
    const copied = JSON.parse(readFileSync(copy, 'utf8')) as Record<string, unknown>;
    expect(Object.keys(copied).length).toBeGreaterThan(0);
    for (const [name, object] of Object.entries(copied)) expect(object, name).toEqual(resources[name]);
  });
});
