import { createServer, type Server } from 'node:http';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import * as evaluateCron from '../../api/cron/evaluate-alerts.js';
import { resetConfigForTests } from '../../lib/config.js';
import { db } from '../../lib/db/client.js';
import { insertWebhookEventIfNew } from '../../lib/db/models/webhook-events.js';
import { type AlertFigures, alertConditions, evaluateAlerts, reconciliationFigures } from '../../lib/ops/evaluate-alerts.js';
import { recentErrorShare } from '../../lib/ops/request-figures.js';
import { RequestOutcomeCounter } from '../../lib/ops/request-metrics.js';
import { call } from '../support/http.js';

/**
 * Operator alerts: an alert fires once, is not repeated while it lasts, and clears (notified both
 * times, to a real HTTP receiver on 127.0.0.1). Only this file evaluates alerts, so the ops_alerts
 * rows are this file's; the figures come from the shared database or are given explicitly.
 */

const CRON = { authorization: 'Bearer alerts-test-cron-secret' };
let receiver: Server;
let received: Record<string, unknown>[] = [];
let answerStatus = 200;

const calm: AlertFigures = {
  failuresLastHour: 0,
  last100: { outcomes: 100, successRate: 1 },
  deadWebhooks: 0,
  oldestUnprocessedAgeSeconds: null,
  reconciliation: [
    { provider: 'paypal', day: '2026-11-30', mismatches: 0 },
    { provider: 'stripe', day: '2026-11-30', mismatches: 0 },
  ],
  checkoutRequests: { requests: 100, serverErrors: 0 },
  webhookRequests: { requests: 100, serverErrors: 0 },
  email: { deadNotResent: 0, uncertain: 0, oldestDueAgeSeconds: null },
};

beforeAll(async () => {
  receiver = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk) => {
      body += chunk;
    });
    req.on('end', () => {
      received.push(JSON.parse(body) as Record<string, unknown>);
      res.writeHead(answerStatus).end();
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  const address = receiver.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  process.env.ALERT_WEBHOOK_URL = `http://127.0.0.1:${port}/alerts`;
  process.env.CRON_SECRET = 'alerts-test-cron-secret';
  resetConfigForTests();
});

afterAll(async () => {
  delete process.env.ALERT_WEBHOOK_URL;
  resetConfigForTests();
  await new Promise((resolve) => receiver.close(resolve));
});

beforeEach(async () => {
  await db.query('DELETE FROM ops_alerts');
  received = [];
  answerStatus = 200;
});

describe('operator alerts', () => {
  it('uses the default thresholds: >10 failures an hour, <99 % of the last 100, any dead webhook, backlog >15 min', () => {
    const firing = (figures: Partial<AlertFigures>) =>
      alertConditions({ ...calm, ...figures })
        .filter((c) => c.firing)
        .map((c) => c.key);
    expect(firing({})).toEqual([]);
    expect(firing({ failuresLastHour: 10 })).toEqual([]);
    expect(firing({ failuresLastHour: 11 })).toEqual(['failed_payments_hour']);
    expect(firing({ last100: { outcomes: 100, successRate: 0.99 } })).toEqual([]);
    expect(firing({ last100: { outcomes: 100, successRate: 0.98 } })).toEqual(['success_rate_last_100']);
    expect(firing({ last100: { outcomes: 0, successRate: null } })).toEqual([]);
    expect(firing({ deadWebhooks: 1 })).toEqual(['dead_webhook']);
    expect(firing({ oldestUnprocessedAgeSeconds: 15 * 60 })).toEqual([]);
    expect(firing({ oldestUnprocessedAgeSeconds: 16 * 60 })).toEqual(['inbox_backlog']);
    expect(firing({ reconciliation: [] })).toEqual([]);
    expect(firing({ reconciliation: [{ provider: 'stripe', day: '2026-11-30', mismatches: 1 }] })).toEqual([
      'reconciliation_mismatch',
    ]);
  });

  it('thresholds are configurable', () => {
    process.env.ALERT_FAILED_PAYMENTS_PER_HOUR = '2';
    resetConfigForTests();
    try {
      expect(alertConditions({ ...calm, failuresLastHour: 3 }).find((c) => c.key === 'failed_payments_hour')?.firing).toBe(true);
    } finally {
      delete process.env.ALERT_FAILED_PAYMENTS_PER_HOUR;
      resetConfigForTests();
    }
  });

  it('fires once, is not repeated while it lasts, and clears (notified once each way)', async () => {
    const bad = { ...calm, failuresLastHour: 25 };
    const first = await evaluateAlerts({ figures: bad });
    expect(first).toMatchObject({ raised: ['failed_payments_hour'], cleared: [], firing: ['failed_payments_hour'], notified: 1 });
    expect(received).toEqual([
      expect.objectContaining({ alert: 'failed_payments_hour', status: 'firing', value: 25, threshold: 10 }),
    ]);

    for (let run = 0; run < 3; run++) {
      expect(await evaluateAlerts({ figures: { ...bad, failuresLastHour: 30 + run } })).toMatchObject({
        raised: [],
        cleared: [],
        firing: ['failed_payments_hour'],
        notified: 0,
      });
    }
    expect(received).toHaveLength(1);

    const cleared = await evaluateAlerts({ figures: calm });
    expect(cleared).toMatchObject({ raised: [], cleared: ['failed_payments_hour'], firing: [], notified: 1 });
    expect(received.at(-1)).toMatchObject({ alert: 'failed_payments_hour', status: 'resolved' });
    expect(await evaluateAlerts({ figures: calm })).toMatchObject({ raised: [], cleared: [], notified: 0 });
    expect(received).toHaveLength(2);

    // It can fire again after clearing: a new alert, notified again.
    expect((await evaluateAlerts({ figures: bad })).raised).toEqual(['failed_payments_hour']);
    expect(received).toHaveLength(3);
    const row = await db.queryOne<{ status: string; notified: boolean }>(
      `SELECT status, notified_at IS NOT NULL AS notified FROM ops_alerts WHERE key = 'failed_payments_hour'`,
    );
    expect(row).toEqual({ status: 'firing', notified: true });
  });

  it('a failed notification is retried at the next run, then not again', async () => {
    answerStatus = 500;
    const bad = { ...calm, deadWebhooks: 2 };
    expect(await evaluateAlerts({ figures: bad })).toMatchObject({
      raised: ['dead_webhook'],
      notified: 0,
      notificationErrors: 1,
    });
    answerStatus = 200;
    expect(await evaluateAlerts({ figures: bad })).toMatchObject({ raised: [], notified: 1, notificationErrors: 0 });
    expect(await evaluateAlerts({ figures: bad })).toMatchObject({ raised: [], notified: 0 });
    expect(received.map((r) => [r.alert, r.status])).toEqual([
      ['dead_webhook', 'firing'],
      ['dead_webhook', 'firing'],
    ]);
  });

  it('a reconciliation mismatch fires once, is not repeated while it lasts, and clears when the run matches', async () => {
    const mismatched = (n: number) => ({
      ...calm,
      reconciliation: [
        { provider: 'paypal', day: '2026-11-30', mismatches: 0 },
        { provider: 'stripe', day: '2026-11-30', mismatches: n },
      ],
    });
    expect(await evaluateAlerts({ figures: mismatched(2) })).toMatchObject({
      raised: ['reconciliation_mismatch'],
      firing: ['reconciliation_mismatch'],
      notified: 1,
    });
    expect(received).toEqual([
      expect.objectContaining({
        alert: 'reconciliation_mismatch',
        status: 'firing',
        value: 2,
        threshold: 0,
        message: expect.stringContaining('stripe 2026-11-30: 2'),
      }),
    ]);
    for (let run = 0; run < 3; run++) {
      expect(await evaluateAlerts({ figures: mismatched(3 + run) })).toMatchObject({
        raised: [],
        firing: ['reconciliation_mismatch'],
        notified: 0,
      });
    }
    expect(received).toHaveLength(1);
    expect(await evaluateAlerts({ figures: calm })).toMatchObject({ cleared: ['reconciliation_mismatch'], notified: 1 });
    expect(received.at(-1)).toMatchObject({ alert: 'reconciliation_mismatch', status: 'resolved' });
    expect(await evaluateAlerts({ figures: calm })).toMatchObject({ raised: [], cleared: [], notified: 0 });
    expect(received).toHaveLength(2);
  });

  it('reads the latest completed reconciliation run per provider and its unmatched lines', async () => {
    // Days far ahead: this test's runs are the latest per provider while they exist; removed afterwards.
    const runs = await db.queryMany<{ id: string }>(
      `INSERT INTO reconciliation_runs (provider, day, status, completed_at)
       VALUES ('stripe', '2999-01-01', 'completed', now()), ('stripe', '2999-01-02', 'completed', now())
       RETURNING id`,
    );
    const [older, latest] = runs.map((r) => r.id);
    try {
      const line = (runId: string | undefined, cls: string) =>
        db.query(`INSERT INTO reconciliation_lines (run_id, class, kind, explanation) VALUES ($1, $2, 'charge', 'alerts test')`, [
          runId,
          cls,
        ]);
      await line(older, 'amount_differs'); // an older day's mismatch does not count
      await line(latest, 'matched');
      let stripe = (await reconciliationFigures()).find((r) => r.provider === 'stripe');
      expect(stripe).toEqual({ provider: 'stripe', day: '2999-01-02', mismatches: 0 });
      await line(latest, 'books_only');
      await line(latest, 'fee_differs');
      stripe = (await reconciliationFigures()).find((r) => r.provider === 'stripe');
      expect(stripe).toEqual({ provider: 'stripe', day: '2999-01-02', mismatches: 2 });
      const response = await call(evaluateCron.GET, { path: '/api/cron/evaluate-alerts', headers: CRON });
      expect(response.status).toBe(200);
      expect(response.body.raised).toContain('reconciliation_mismatch');
      expect(received).toContainEqual(
        expect.objectContaining({
          alert: 'reconciliation_mismatch',
          status: 'firing',
          message: expect.stringContaining('2999-01-02'),
        }),
      );
    } finally {
      await db.query('DELETE FROM reconciliation_runs WHERE id = ANY($1)', [[older, latest]]);
    }
    expect((await reconciliationFigures()).find((r) => r.day === '2999-01-02')).toBeUndefined();
  });

  it('the cron reads the real figures: a backlog older than 15 minutes raises inbox_backlog', async () => {
    const stored = await insertWebhookEventIfNew(db, {
      provider: 'stripe',
      providerEventId: `evt_alert_backlog_${randomUUID().replaceAll('-', '')}`,
      eventType: 'customer.created',
      payload: { id: 'evt_alert_backlog', type: 'customer.created', data: { object: {} } },
    });
    // Failed, next attempt tomorrow: no retry cron of another test file applies it meanwhile.
    await db.query(
      `UPDATE webhook_events SET received_at = now() - interval '40 minutes', status = 'failed', attempts = 1,
         last_error = 'test backlog', next_attempt_at = now() + interval '1 day' WHERE id = $1`,
      [stored?.id],
    );
    try {
      const response = await call(evaluateCron.GET, { path: '/api/cron/evaluate-alerts', headers: CRON });
      expect(response.status).toBe(200);
      expect(response.body.firing).toContain('inbox_backlog');
      expect(response.body.raised).toContain('inbox_backlog');
      expect(received).toContainEqual(expect.objectContaining({ alert: 'inbox_backlog', status: 'firing' }));
      const again = await call(evaluateCron.GET, { path: '/api/cron/evaluate-alerts', headers: CRON });
      expect(again.body.raised).not.toContain('inbox_backlog');
    } finally {
      // Applied (ignored: nobody handles customer.created), so the backlog is gone for other tests.
      await db.query(`UPDATE webhook_events SET status = 'ignored', processed_at = now() WHERE id = $1`, [stored?.id]);
    }
    expect((await call(evaluateCron.GET, { path: '/api/cron/evaluate-alerts' })).status).toBe(401);
  });

  it('error rates: more than 1 % of 5xx among the last 100 answers, judged from 20 answers; email: dead or due > 15 min', () => {
    const firing = (figures: Partial<AlertFigures>) =>
      alertConditions({ ...calm, ...figures })
        .filter((c) => c.firing)
        .map((c) => c.key);
    expect(firing({ checkoutRequests: { requests: 100, serverErrors: 1 } })).toEqual([]);
    expect(firing({ checkoutRequests: { requests: 100, serverErrors: 2 } })).toEqual(['checkout_error_rate']);
    expect(firing({ webhookRequests: { requests: 100, serverErrors: 2 } })).toEqual(['webhook_error_rate']);
    // Too few answers for a verdict: 19 of 19 failing is not judged, 1 of 20 (5 %) is.
    expect(firing({ checkoutRequests: { requests: 19, serverErrors: 19 } })).toEqual([]);
    expect(firing({ checkoutRequests: { requests: 20, serverErrors: 1 } })).toEqual(['checkout_error_rate']);
    expect(firing({ checkoutRequests: { requests: 0, serverErrors: 0 } })).toEqual([]);
    expect(firing({ email: { deadNotResent: 1, uncertain: 0, oldestDueAgeSeconds: null } })).toEqual(['email_backlog']);
    expect(firing({ email: { deadNotResent: 0, uncertain: 0, oldestDueAgeSeconds: 15 * 60 } })).toEqual([]);
    expect(firing({ email: { deadNotResent: 0, uncertain: 0, oldestDueAgeSeconds: 16 * 60 } })).toEqual(['email_backlog']);
    expect(firing({ email: { deadNotResent: 0, uncertain: 1, oldestDueAgeSeconds: null } })).toEqual(['email_backlog']);
    const condition = alertConditions({ ...calm, checkoutRequests: { requests: 150, serverErrors: 3 } }).find(
      (c) => c.key === 'checkout_error_rate',
    );
    expect(condition).toMatchObject({ firing: true, value: 2, threshold: 1 });
    expect(condition?.message).toContain('3 of the last 150 answers were 5xx');
  });

  it('error-rate thresholds are configurable', () => {
    Object.assign(process.env, {
      ALERT_MAX_ERROR_RATE_PERCENT: '10',
      ALERT_ERROR_RATE_MIN_REQUESTS: '5',
      ALERT_EMAIL_BACKLOG_MINUTES: '60',
    });
    resetConfigForTests();
    try {
      const firing = (figures: Partial<AlertFigures>) =>
        alertConditions({ ...calm, ...figures })
          .filter((c) => c.firing)
          .map((c) => c.key);
      expect(firing({ checkoutRequests: { requests: 100, serverErrors: 10 } })).toEqual([]);
      expect(firing({ checkoutRequests: { requests: 100, serverErrors: 11 } })).toEqual(['checkout_error_rate']);
      expect(firing({ webhookRequests: { requests: 5, serverErrors: 1 } })).toEqual(['webhook_error_rate']);
      expect(firing({ email: { deadNotResent: 0, uncertain: 0, oldestDueAgeSeconds: 59 * 60 } })).toEqual([]);
    } finally {
      delete process.env.ALERT_MAX_ERROR_RATE_PERCENT;
      delete process.env.ALERT_ERROR_RATE_MIN_REQUESTS;
      delete process.env.ALERT_EMAIL_BACKLOG_MINUTES;
      resetConfigForTests();
    }
  });

  it('reads the 5xx share of the newest answers (whole minutes of the last hour, newest first, until 100)', async () => {
    // A route of this test's own (the counted routes are shared with other files): flushed as the hook flushes.
    const route = `/test/alerts-${randomUUID()}`;
    const counter = new RequestOutcomeCounter();
    const now = Date.now();
    const minutesAgo = (m: number) => new Date(now - m * 60_000);
    const record = (code: string, n: number, at: Date) => {
      for (let i = 0; i < n; i++) counter.record(route, code, at);
    };
    record('ok', 60, minutesAgo(0));
    record('SOLD_OUT', 10, minutesAgo(0)); // 4xx: never an error here
    record('ok', 27, minutesAgo(3));
    record('PROVIDER_UNAVAILABLE', 3, minutesAgo(3));
    record('INTERNAL_ERROR', 50, minutesAgo(10)); // beyond the newest 100: not in the window
    record('INTERNAL_ERROR', 70, minutesAgo(61)); // older than an hour
    expect(await counter.flush(db)).toEqual({ rows: 6, requests: 220 });
    const share = await recentErrorShare(db, 'checkout', { routes: [route] });
    expect(share).toEqual({ requests: 100, serverErrors: 3 });

    // Fires once (notified), not again while it lasts, clears when the share drops.
    const first = await evaluateAlerts({ figures: { ...calm, checkoutRequests: share } });
    expect(first).toMatchObject({ raised: ['checkout_error_rate'], firing: ['checkout_error_rate'], notified: 1 });
    expect(received).toEqual([
      expect.objectContaining({ alert: 'checkout_error_rate', status: 'firing', value: 3, threshold: 1 }),
    ]);
    record('ok', 100, minutesAgo(0)); // the same minute as the first 70 (no minute boundary in between)
    await counter.flush(db);
    const after = await recentErrorShare(db, 'checkout', { routes: [route] });
    expect(after).toEqual({ requests: 170, serverErrors: 0 });
    expect(await evaluateAlerts({ figures: { ...calm, checkoutRequests: share } })).toMatchObject({ raised: [], notified: 0 });
    expect(await evaluateAlerts({ figures: { ...calm, checkoutRequests: after } })).toMatchObject({
      cleared: ['checkout_error_rate'],
      notified: 1,
    });
    expect(received.map((r) => [r.alert, r.status])).toEqual([
      ['checkout_error_rate', 'firing'],
      ['checkout_error_rate', 'resolved'],
    ]);
    await db.query('DELETE FROM request_outcomes WHERE route = $1', [route]);
  });

  it('email_backlog fires once on a dead email nobody resent and clears once it is resent', async () => {
    const dead = { ...calm, email: { deadNotResent: 1, uncertain: 0, oldestDueAgeSeconds: null } };
    expect(await evaluateAlerts({ figures: dead })).toMatchObject({ raised: ['email_backlog'], notified: 1 });
    expect(await evaluateAlerts({ figures: dead })).toMatchObject({ raised: [], firing: ['email_backlog'], notified: 0 });
    expect(await evaluateAlerts({ figures: calm })).toMatchObject({ cleared: ['email_backlog'], notified: 1 });
    expect(received.map((r) => [r.alert, r.status])).toEqual([
      ['email_backlog', 'firing'],
      ['email_backlog', 'resolved'],
    ]);
  });

  it('the cron drops request outcome minutes older than eight days', async () => {
    const route = `/test/alerts-prune-${randomUUID()}`;
    const counter = new RequestOutcomeCounter();
    counter.record(route, 'ok', new Date(Date.now() - 8 * 86_400_000 - 120_000));
    counter.record(route, 'ok', new Date(Date.now() - 7 * 86_400_000));
    await counter.flush(db);
    expect((await call(evaluateCron.GET, { path: '/api/cron/evaluate-alerts', headers: CRON })).status).toBe(200);
    const left = await db.queryMany<{ bucket: Date }>('SELECT bucket FROM request_outcomes WHERE route = $1', [route]);
    expect(left).toHaveLength(1);
    await db.query('DELETE FROM request_outcomes WHERE route = $1', [route]);
  });
});
