import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { db } from '../../lib/db/client.js';
import { checkDocs } from '../../scripts/check-docs.js';

/** docs/payment-system/ names only things that exist (scripts/check-docs.ts; also `npm run docs:check` in CI). */

const explain = async (sql: string) => {
  await db.query(`EXPLAIN ${sql}`);
};

describe('docs/payment-system', () => {
  it('has no broken link, unknown route or method, npm script, name, or SQL that does not run', async () => {
    const problems = await checkDocs({ explain });
    expect(problems.map((p) => `${p.file}:${p.line}: ${p.problem}`)).toEqual([]);
  });

  it('the checker reports each kind of problem, with file and line', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'docs-check-'));
    mkdirSync(join(dir, 'sub'));
    writeFileSync(join(dir, 'sub', 'other.md'), '# Other page\n\n## Real heading\n');
    writeFileSync(
      join(dir, 'broken.md'),
      [
        '# Broken',
        'See [the other page](sub/other.md#real-heading) and [gone](sub/missing.md).',
        'Also [a bad anchor](sub/other.md#no-such-heading).',
        'Call `GET /api/orders/{id}` and `GET /api/no-such-route`, or `DELETE /api/tickets`.',
        'Run `npm run db:migrate` then `npm run no-such-script`.',
        'Set `STRIPE_WEBHOOK_SECRET`, expect `REFUND_EXCEEDS_REFUNDABLE`, never `MADE_UP_SETTING`.',
        '```sql',
        'SELECT id FROM orders LIMIT 1;',
        'SELECT no_such_column FROM orders;',
        '```',
      ].join('\n'),
    );
    const problems = (await checkDocs({ docsDir: dir, explain })).map(
      (p) => `${p.file.split('/').pop()}:${p.line}: ${p.problem}`,
    );
    expect(problems).toEqual([
      expect.stringMatching(/^broken\.md:2: broken link: sub\/missing\.md/),
      expect.stringMatching(/^broken\.md:3: broken link: sub\/other\.md#no-such-heading \(no heading/),
      expect.stringMatching(/^broken\.md:4: route \/api\/no-such-route does not exist in api\//),
      expect.stringMatching(/^broken\.md:4: DELETE \/api\/tickets: api\/tickets\.ts does not answer DELETE/),
      expect.stringMatching(/^broken\.md:5: npm script "no-such-script" is not in package\.json/),
      expect.stringMatching(/^broken\.md:6: MADE_UP_SETTING is neither/),
      expect.stringMatching(/^broken\.md:7: SQL does not run: .*no_such_column/),
    ]);
  });
});
