/**
 * Runs both sandboxes standalone (for benchmarks or poking at them by hand):
 *   npx tsx sandbox/cli.ts
 * Environment: APP_URL (default http://127.0.0.1:3000), STRIPE_WEBHOOK_SECRET (default whsec_sandbox),
 * PAYPAL_WEBHOOK_ID (default SANDBOXWEBHOOK1), SANDBOX_STRIPE_PORT (12111), SANDBOX_PAYPAL_PORT (12112).
 * Stops on SIGINT/SIGTERM.
 */
import { startSandboxes } from './index.js';

function portFrom(value: string | undefined, fallback: number): number {
  if (value === undefined || value === '') return fallback;
  const port = Number(value);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`invalid port: ${value}`);
  return port;
}

const sandboxes = await startSandboxes({
  appUrl: process.env.APP_URL ?? 'http://127.0.0.1:3000',
  stripeWebhookSecret: process.env.STRIPE_WEBHOOK_SECRET || 'whsec_sandbox',
  paypalWebhookId: process.env.PAYPAL_WEBHOOK_ID || 'SANDBOXWEBHOOK1',
  stripePort: portFrom(process.env.SANDBOX_STRIPE_PORT, 12111),
  paypalPort: portFrom(process.env.SANDBOX_PAYPAL_PORT, 12112),
});
console.log(
  JSON.stringify({
    stripe: sandboxes.stripe.url,
    stripeWebhookUrl: sandboxes.stripe.webhookUrl,
    paypal: sandboxes.paypal.url,
    paypalWebhookUrl: sandboxes.paypal.webhookUrl,
    paypalCertUrl: sandboxes.paypal.certUrl,
  }),
);

let stopping = false;
async function stop(): Promise<void> {
  if (stopping) return;
  stopping = true;
  await sandboxes.close();
  process.exit(0);
}
process.on('SIGINT', () => void stop());
process.on('SIGTERM', () => void stop());
