/**
 * Refreshes the provider reference objects the project carries (sandbox/fixtures/*.json) from the shared provider
 * fixtures next to the project (`../shared/fixtures`, see its README), when that folder is there:
 *   - stripe/fixtures3.json (MIT, Stripe): one example object per resource -> stripe-objects.json;
 *   - paypal/*.json (Apache-2.0, PayPal): OpenAPI specs, from which we take the error names/messages per HTTP
 *     status and the `issue` -> `description` table of every documented error detail -> paypal-errors.json.
 *
 * Not written here: paypal-dispute.json, taken from upstream (paypal/paypal-rest-api-specifications,
 * customer_disputes_v1.json; see sandbox/fixtures/README.md), since ../shared has no Disputes spec.
 *
 * This is the ONLY file that reads `../shared` (scripts/check-no-shared.ts fails CI otherwise): tests, sandboxes,
 * scripts and lib read the in-repo copies through sandbox/fixtures/index.ts. Which objects are copied is the list
 * there (STRIPE_RESOURCES, PAYPAL_ERROR_STATUSES): add a name there, then run this.
 *
 *   npm run fixtures:sync              write the copies (no ../shared: says so, changes nothing, exit 0)
 *   npm run fixtures:sync -- --check   exit 1 when a copy differs from what ../shared would give
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  PAYPAL_ERROR_STATUSES,
  PAYPAL_ERRORS_FILE,
  PAYPAL_REPORTING_FILE,
  STRIPE_OBJECTS_FILE,
  STRIPE_RESOURCES,
} from '../sandbox/fixtures/index.js';

const REPO_ROOT = path.resolve(import.meta.dirname, '..');
/** `../shared/fixtures`, beside the clone. */
export const SHARED_FIXTURES_DIR = path.resolve(REPO_ROOT, '..', 'shared', 'fixtures');

const PAYPAL_SPECS = ['checkout_orders_v2.json', 'payments_payment_v2.json', 'notifications_webhooks_v1.json'] as const;

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

function isObject(value: Json | undefined): value is { [key: string]: Json } {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function firstEnum(schema: Json | undefined): string | undefined {
  if (!isObject(schema)) return undefined;
  const values = schema.enum;
  return Array.isArray(values) && typeof values[0] === 'string' ? values[0] : undefined;
}

export interface FixtureCopy {
  file: string;
  text: string;
}

/** What the in-repo copies should hold, computed from `sharedDir` (the files' text, as written). */
export function buildFixtureCopies(sharedDir = SHARED_FIXTURES_DIR): FixtureCopy[] {
  const readJson = (file: string): Json => JSON.parse(readFileSync(path.join(sharedDir, file), 'utf8')) as Json;

  // ---- Stripe
  const stripeAll = readJson('stripe/fixtures3.json');
  if (!isObject(stripeAll) || !isObject(stripeAll.resources)) throw new Error('unexpected fixtures3.json layout');
  const stripeOut: Record<string, Json> = {};
  for (const name of STRIPE_RESOURCES) {
    const obj = stripeAll.resources[name];
    if (!isObject(obj)) throw new Error(`fixtures3.json has no resource ${name}`);
    stripeOut[name] = obj;
  }

  // ---- PayPal
  const issues: Record<string, string> = {};
  const errors: Record<string, { name: string; message: string }> = {};
  function collectIssues(node: Json): void {
    if (Array.isArray(node)) {
      for (const child of node) collectIssues(child);
      return;
    }
    if (!isObject(node)) return;
    const props = node.properties;
    if (typeof node.title === 'string' && isObject(props)) {
      const issue = firstEnum(props.issue);
      const description = firstEnum(props.description);
      if (issue && description && issue === node.title && !(issue in issues)) issues[issue] = description;
    }
    for (const child of Object.values(node)) collectIssues(child);
  }
  for (const spec of PAYPAL_SPECS) {
    const doc = readJson(`paypal/${spec}`);
    collectIssues(doc);
    if (!isObject(doc) || !isObject(doc.components) || !isObject(doc.components.schemas)) continue;
    const schemas = doc.components.schemas;
    for (const status of PAYPAL_ERROR_STATUSES) {
      const schema = schemas[`error_${status}`];
      if (errors[status] || !isObject(schema) || !isObject(schema.properties)) continue;
      const name = firstEnum(schema.properties.name);
      const message = firstEnum(schema.properties.message);
      if (name && message) errors[status] = { name, message };
    }
  }
  const sortedIssues = Object.fromEntries(Object.entries(issues).sort(([a], [b]) => a.localeCompare(b)));

  // ---- PayPal Transaction Search (reconciliation): the fields the sandbox may fill, and its page size.
  const reporting = readJson('paypal/reporting_transactions_v1.json');
  if (!isObject(reporting) || !isObject(reporting.components))
    throw new Error('unexpected reporting_transactions_v1.json layout');
  const { schemas, parameters } = reporting.components;
  if (!isObject(schemas) || !isObject(parameters)) throw new Error('unexpected reporting_transactions_v1.json layout');
  const propertiesOf = (name: string): string[] => {
    const schema = schemas[name];
    return isObject(schema) && isObject(schema.properties) ? Object.keys(schema.properties) : [];
  };
  const pageSize = isObject(parameters.page_size) && isObject(parameters.page_size.schema) ? parameters.page_size.schema : {};
  const reportingOut = {
    search_response_fields: propertiesOf('search_response'),
    transaction_info_fields: propertiesOf('transaction_info'),
    page_size: { default: pageSize.default ?? 100, maximum: pageSize.maximum ?? 500 },
    // Not in the spec: PayPal answers at most 10,000 items per query (RESULTSET_TOO_LARGE) and documents it in
    // its Transaction Search guide; a bigger result asks for a narrower time range.
    max_result_items: 10000,
    transaction_status_codes: ['D', 'P', 'S', 'V'],
    event_codes: {
      T0006: 'PayPal Checkout APIs payment',
      T1107: 'Payment refund',
      T0400: 'General withdrawal from PayPal account',
      T0100: 'General non-payment fee',
    },
  };
  return [
    { file: fileURLToPath(STRIPE_OBJECTS_FILE), text: `${JSON.stringify(stripeOut, null, 2)}\n` },
    { file: fileURLToPath(PAYPAL_ERRORS_FILE), text: `${JSON.stringify({ errors, issues: sortedIssues }, null, 2)}\n` },
    { file: fileURLToPath(PAYPAL_REPORTING_FILE), text: `${JSON.stringify(reportingOut, null, 2)}\n` },
  ];
}

/** The copies that differ from what `sharedDir` gives (empty: in sync). */
export function staleFixtureCopies(sharedDir = SHARED_FIXTURES_DIR): string[] {
  return buildFixtureCopies(sharedDir)
    .filter(({ file, text }) => !existsSync(file) || readFileSync(file, 'utf8') !== text)
    .map(({ file }) => path.relative(REPO_ROOT, file));
}

function main(): void {
  if (!existsSync(SHARED_FIXTURES_DIR)) {
    console.log(`fixtures: no ${SHARED_FIXTURES_DIR}; the in-repo copies in sandbox/fixtures are kept as they are`);
    return;
  }
  if (process.argv.includes('--check')) {
    const stale = staleFixtureCopies();
    if (stale.length > 0) {
      console.error(`fixtures: out of date with ../shared/fixtures: ${stale.join(', ')} (run npm run fixtures:sync)`);
      process.exit(1);
    }
    console.log('fixtures: in-repo copies match ../shared/fixtures');
    return;
  }
  for (const { file, text } of buildFixtureCopies()) writeFileSync(file, text);
  console.log(
    `fixtures: wrote sandbox/fixtures from ${SHARED_FIXTURES_DIR}: stripe ${STRIPE_RESOURCES.join(', ')}; paypal errors and issues`,
  );
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) main();
