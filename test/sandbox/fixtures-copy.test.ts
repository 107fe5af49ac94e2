import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PAYPAL_ERROR_STATUSES, paypalErrorCatalog, STRIPE_RESOURCES, stripeObject } from '../../sandbox/fixtures/index.js';
import { SHARED_FIXTURES_DIR, staleFixtureCopies } from '../../scripts/sync-fixtures.js';

/**
 * The project carries every provider fixture it uses (sandbox/fixtures): every name the tests, sandboxes and
 * scripts ask for is in the in-repo copies, always (a bare clone included); and, when the shared provider fixtures
 * are beside the clone, the copies are exactly what `npm run fixtures:sync` would write from them.
 */

const root = process.cwd();

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const full = join(dir, name);
    if (statSync(full).isDirectory()) return name === 'node_modules' ? [] : sources(full);
    return name.endsWith('.ts') ? [full] : [];
  });
}

/** `pattern`'s capture groups over every .ts file in `dirs`, with the file they were found in. */
function uses(dirs: string[], pattern: RegExp): { file: string; groups: string[] }[] {
  return dirs.flatMap((dir) =>
    sources(join(root, dir)).flatMap((file) =>
      [...readFileSync(file, 'utf8').matchAll(pattern)].map((m) => ({ file: relative(root, file), groups: m.slice(1) })),
    ),
  );
}

describe('sandbox/fixtures: the in-repo provider fixtures', () => {
  it('holds every Stripe object in the list (STRIPE_RESOURCES), dispute included', () => {
    const copied = JSON.parse(readFileSync(join(root, 'sandbox', 'fixtures', 'stripe-objects.json'), 'utf8')) as Record<
      string,
      { object?: string }
    >;
    expect(STRIPE_RESOURCES).toContain('dispute');
    for (const name of STRIPE_RESOURCES) {
      expect(copied[name], name).toBeTypeOf('object');
      expect(stripeObject(name).object, name).toBeTypeOf('string');
    }
  });

  it('holds every Stripe object that test/, sandbox/ and scripts/ ask for by name', () => {
    const asked = uses(['test', 'sandbox', 'scripts'], /\b(?:stripeObject|fixture|stripeFixture)\('([^']+)'\)/g);
    // test/webhooks/support.ts alone asks for event, checkout.session, refund, charge and dispute.
    expect(new Set(asked.map((a) => a.groups[0])).size).toBeGreaterThanOrEqual(6);
    for (const { file, groups } of asked)
      expect(STRIPE_RESOURCES as readonly string[], `${file}: ${groups[0]}`).toContain(groups[0]);
  });

  it('holds the PayPal error name/message of every status and the description of every issue the sandbox raises', () => {
    const catalog = paypalErrorCatalog();
    for (const status of PAYPAL_ERROR_STATUSES) expect(catalog.errors[status], status).toBeDefined();
    const raised = uses(['sandbox'], /(?:\bissue\(|PayPalApiError\()(\d{3}), (?:\[\{ issue: )?'([A-Z_]+)'/g);
    expect(raised.length).toBeGreaterThan(10);
    for (const { file, groups } of raised) {
      const [status, issue] = groups as [string, string];
      expect(catalog.errors[status], `${file}: status ${status}`).toBeDefined();
      expect(catalog.issues[issue], `${file}: ${issue}`).toBeTypeOf('string');
    }
  });

  it.skipIf(!existsSync(SHARED_FIXTURES_DIR))('matches what npm run fixtures:sync writes from the shared fixtures', () => {
    expect(staleFixtureCopies()).toEqual([]);
  });
});
