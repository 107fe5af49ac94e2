import { afterEach, describe, expect, it } from 'vitest';
import { resetConfigForTests } from '../../lib/config.js';
import { nextAttemptAt } from '../../lib/messages/deliver-messages.js';
import { esc, plain } from '../../lib/messages/html.js';
import { deriveTimeBudget } from '../../lib/time-budget.js';
import { describeSmtpError, sendMail } from '../../lib/messages/transport.js';

/** The small rules of delivery: backoff, what an SMTP error may say, escaping. */

const saved = { ...process.env };
afterEach(() => {
  for (const key of ['SMTP_URL', 'MAIL_FROM', 'MAIL_RETRY_BASE_SECONDS']) {
    if (saved[key] === undefined) delete process.env[key];
    else process.env[key] = saved[key];
  }
  resetConfigForTests();
});

describe('delivery rules', () => {
  it('backoff doubles from MAIL_RETRY_BASE_SECONDS and stops growing at 6 hours', () => {
    process.env.MAIL_RETRY_BASE_SECONDS = '60';
    resetConfigForTests();
    const now = new Date('2026-05-01T12:00:00Z');
    const waits = [1, 2, 3, 4, 10, 30].map((attempt) => (nextAttemptAt(attempt, now).getTime() - now.getTime()) / 1000);
    expect(waits).toEqual([60, 120, 240, 480, 6 * 3600, 6 * 3600]);
  });

  it('one email fits in the function limit: SMTP time-outs and the whole send within the provider budget', () => {
    const budget = deriveTimeBudget(10);
    const { connectionTimeoutMs, greetingTimeoutMs, socketTimeoutMs, sendBudgetMs } = budget.smtp;
    expect(sendBudgetMs).toBeLessThanOrEqual(budget.providerBudgetMs);
    expect(Math.max(connectionTimeoutMs, greetingTimeoutMs, socketTimeoutMs)).toBeLessThanOrEqual(sendBudgetMs);
    // The cron claims only while a whole send still fits: limit − send budget − 1 s > 0.
    expect(budget.functionLimitMs - sendBudgetMs - 1_000).toBeGreaterThan(0);
  });

  it('a stored SMTP error never carries the credentials of SMTP_URL', () => {
    process.env.SMTP_URL = 'smtp://mailer:s3cr3t-P%40ss@smtp.example.test:587';
    resetConfigForTests();
    const error = Object.assign(new Error('Invalid login for mailer with s3cr3t-P@ss: 535 5.7.8 Authentication failed'), {
      code: 'EAUTH',
      responseCode: 535,
      command: 'AUTH PLAIN',
    });
    const text = describeSmtpError(error);
    expect(text).toMatch(/^EAUTH 535 during AUTH PLAIN: /);
    expect(text).not.toContain('s3cr3t');
    expect(describeSmtpError(new Error('x'.repeat(5_000)))).toHaveLength(1_000);
  });

  it('no SMTP_URL: sending fails with that reason (the message stays queued)', async () => {
    delete process.env.SMTP_URL;
    resetConfigForTests();
    await expect(
      sendMail({ to: 'a@example.test', subject: 's', text: 't', html: '<p>t</p>', messageId: '<x@y>', attachments: [] }),
    ).rejects.toThrow('SMTP_URL is not set');
  });

  it('escapes HTML and strips control characters from plain text', () => {
    expect(esc(`<a href="x" onclick='y'>&</a>`)).toBe('&lt;a href=&quot;x&quot; onclick=&#39;y&#39;&gt;&amp;&lt;/a&gt;');
    expect(plain('Ana\r\nBcc: evil@example.test')).toBe('Ana  Bcc: evil@example.test');
  });
});
