/**
 * Shared plumbing of the local provider sandboxes: a node:http server that records every request,
 * failure injection, webhook delivery with bookkeeping and the event log resends use, the members every
 * sandbox's public object shares, form/JSON body parsing, request/reply/page helpers and small utilities.
 * Nothing here is provider specific; stripe-sandbox.ts and paypal-sandbox.ts build on it.
 */
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export type JsonValue = null | boolean | number | string | JsonValue[] | JsonObject;
export interface JsonObject {
  [key: string]: JsonValue;
}

/** One request as the sandbox received it. */
export interface RecordedRequest {
  method: string;
  /** Path without the query string, e.g. `/v1/refunds`. */
  path: string;
  query: Record<string, string>;
  /** The query string as received, without the leading `?` (keeps repeated keys such as `expand[]`). */
  rawQuery: string;
  /** Header names lower-cased; repeated headers joined with `, `. */
  headers: Record<string, string>;
  /** Parsed body: JSON value, nested object for form-encoded bodies, the raw text if unparseable, null if empty. */
  body: JsonValue;
  rawBody: string;
  receivedAt: Date;
}

/** A failure to inject into the next matching request(s). */
export interface FailNextOptions {
  /** Which requests: a string matches when the path contains it (an optional `METHOD ` prefix also matches the method); a RegExp is tested on the path. Default: any request. */
  match?: string | RegExp;
  /**
   * `error`: answer with the provider's error shape; `timeout`: accept the request and never answer (until
   * close()); `lost_answer`: carry the request out (the refund or session is made), then never answer, as a
   * provider that hangs after doing the work: only a retry with the same idempotency key tells the outcome.
   */
  kind: 'error' | 'timeout' | 'lost_answer';
  /** HTTP status of the error (default depends on the provider: 500, or a client status when `code` is given). */
  status?: number;
  /** Provider error code (Stripe `error.code`, PayPal `details[0].issue`). */
  code?: string;
  /** Optional message for the error. */
  message?: string;
  /** How many matching requests fail (default 1). */
  times?: number;
}

/** What a sandbox did with one webhook delivery. */
export interface WebhookDelivery {
  eventId: string;
  eventType: string;
  /** Target URL, or null when no webhookUrl was configured (nothing was sent). */
  url: string | null;
  /** The exact bytes sent as the body. */
  payload: string;
  /** Headers sent (lower-cased names). */
  headers: Record<string, string>;
  /** HTTP status of the app's answer; null when nothing was sent or no answer came. */
  status: number | null;
  /** Text of the app's answer (first 2,000 characters). */
  responseBody: string | null;
  /** Why there is no status (network error, timeout, no target). */
  error: string | null;
  sentAt: Date;
}

export interface Reply {
  status: number;
  headers?: Record<string, string>;
  body?: string;
}

/** Marker a handler returns to leave the request unanswered (it hangs until the sandbox closes). */
export const HANG = Symbol('hang');
export type HandlerResult = Reply | typeof HANG;

export type InjectedFailure = Pick<FailNextOptions, 'status' | 'code' | 'message'>;

interface FailureRule extends Omit<FailNextOptions, 'times'> {
  remaining: number;
}

/** Failure injection rules, consumed in the order they were added. */
export class FailureInjector {
  private rules: FailureRule[] = [];

  add(options: FailNextOptions): void {
    if (options.kind !== 'error' && options.kind !== 'timeout' && options.kind !== 'lost_answer') {
      throw new TypeError(`failNext: kind must be 'error', 'timeout' or 'lost_answer', got ${String(options.kind)}`);
    }
    const times = options.times ?? 1;
    if (!Number.isInteger(times) || times < 1) throw new TypeError('failNext: times must be a positive integer');
    if (options.status !== undefined && (!Number.isInteger(options.status) || options.status < 400 || options.status > 599)) {
      throw new TypeError('failNext: status must be an HTTP error status (400-599)');
    }
    this.rules.push({
      match: options.match,
      kind: options.kind,
      status: options.status,
      code: options.code,
      message: options.message,
      remaining: times,
    });
  }

  /** Returns (and consumes one use of) the first rule matching this request. */
  take(method: string, path: string): FailureRule | undefined {
    const index = this.rules.findIndex((rule) => ruleMatches(rule.match, method, path));
    if (index < 0) return undefined;
    const rule = this.rules[index];
    if (!rule) return undefined;
    rule.remaining -= 1;
    if (rule.remaining <= 0) this.rules.splice(index, 1);
    return rule;
  }

  get pending(): number {
    return this.rules.reduce((sum, rule) => sum + rule.remaining, 0);
  }

  clear(): void {
    this.rules = [];
  }
}

function ruleMatches(match: string | RegExp | undefined, method: string, path: string): boolean {
  if (match === undefined) return true;
  if (match instanceof RegExp) {
    match.lastIndex = 0;
    return match.test(path);
  }
  const spaced = /^([A-Z]+) (.+)$/.exec(match);
  if (spaced?.[1] && spaced[2]) return spaced[1] === method && path.includes(spaced[2]);
  return path.includes(match);
}

/** Parses the JSON body of `POST /__sandbox/fail` into FailNextOptions (throws TypeError when malformed). */
export function failOptionsFromJson(value: JsonValue): FailNextOptions {
  if (!isJsonObject(value)) throw new TypeError('body must be a JSON object');
  const kind = value.kind;
  if (kind !== 'error' && kind !== 'timeout' && kind !== 'lost_answer') {
    throw new TypeError("kind must be 'error', 'timeout' or 'lost_answer'");
  }
  const options: FailNextOptions = { kind };
  if (typeof value.match === 'string') options.match = value.match;
  if (typeof value.matchRegExp === 'string') options.match = new RegExp(value.matchRegExp);
  if (typeof value.status === 'number') options.status = value.status;
  if (typeof value.code === 'string') options.code = value.code;
  if (typeof value.message === 'string') options.message = value.message;
  if (typeof value.times === 'number') options.times = value.times;
  return options;
}

/** The decoded path parameter when the request has `method` and its path matches `pattern` (one capture group). */
export function pathParam(request: RecordedRequest, method: string, pattern: RegExp): string | undefined {
  if (request.method !== method) return undefined;
  const found = pattern.exec(request.path);
  return found ? decodeURIComponent(found[1] ?? '') : undefined;
}

/** The token of an `Authorization: Bearer <token>` header (trimmed); undefined for another or no scheme. */
export function bearerToken(request: RecordedRequest): string | undefined {
  return /^Bearer\s+(.+)$/i.exec(request.headers.authorization ?? '')?.[1]?.trim();
}

/**
 * The decoded `user:password` of an `Authorization: Basic <base64>` header (split at the first colon; without a
 * colon the whole text is the user and the password is empty); undefined for another or no scheme.
 */
export function basicCredentials(request: RecordedRequest): { user: string; password: string } | undefined {
  const encoded = /^Basic\s+(.+)$/i.exec(request.headers.authorization ?? '')?.[1];
  if (!encoded) return undefined;
  const decoded = Buffer.from(encoded, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return { user: decoded, password: '' };
  return { user: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

export interface SandboxServerOptions {
  name: string;
  /** Port to listen on; 0 (default) picks a free one. */
  port?: number;
  /** Interface to bind (default 127.0.0.1). */
  host?: string;
  /** Base URL for pages and links (default: the bound URL). */
  publicUrl?: string;
  /** Handles every request that is not a failure-injection or `/__sandbox/` control request. */
  handle: (request: RecordedRequest) => Promise<HandlerResult>;
  /** Renders an injected error in the provider's error shape. */
  renderFailure: (failure: InjectedFailure, request: RecordedRequest) => Reply;
  /** Extra reset work (provider state). */
  onReset: () => void;
  /** Optional read-only state dump for `GET /__sandbox/state`. */
  describe?: () => JsonValue;
}

/**
 * The HTTP server under a sandbox. Records requests, applies failure injection, serves the
 * `/__sandbox/*` control endpoints, keeps track of sockets so close() also ends hanging requests,
 * and delivers webhooks (tracked, so idle()/close() can wait for them).
 */
export class SandboxServer {
  readonly requests: RecordedRequest[] = [];
  readonly webhooks: WebhookDelivery[] = [];
  readonly failures = new FailureInjector();
  private readonly server: http.Server;
  private readonly sockets = new Set<Socket>();
  private readonly inflight = new Set<Promise<unknown>>();
  private readonly deliveryAbort = new AbortController();
  private closed = false;
  private boundPort = 0;

  private constructor(private readonly options: SandboxServerOptions) {
    this.server = http.createServer((req, res) => {
      this.dispatch(req, res).catch((error: unknown) => {
        if (!res.headersSent) {
          res.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' });
          res.end(`${options.name} sandbox internal error: ${errorMessage(error)}`);
        } else {
          res.destroy();
        }
      });
    });
    this.server.on('connection', (socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
    });
  }

  static async start(options: SandboxServerOptions): Promise<SandboxServer> {
    const sandbox = new SandboxServer(options);
    await new Promise<void>((resolve, reject) => {
      sandbox.server.once('error', reject);
      sandbox.server.listen(options.port ?? 0, sandbox.host, () => {
        sandbox.server.off('error', reject);
        resolve();
      });
    });
    sandbox.boundPort = (sandbox.server.address() as AddressInfo).port;
    return sandbox;
  }

  get port(): number {
    return this.boundPort;
  }

  private get host(): string {
    return this.options.host ?? '127.0.0.1';
  }

  get url(): string {
    const host = this.host.includes(':') ? `[${this.host}]` : this.host;
    return `http://${host}:${this.boundPort}`;
  }

  /** The base URL pages and links use: the `publicUrl` option (trailing slash removed), else the bound URL. */
  get publicUrl(): string {
    return (this.options.publicUrl ?? this.url).replace(/\/+$/, '');
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** Runs work in the background; idle() and close() wait for it. Errors are swallowed (the work records its own outcome). */
  track<T>(work: Promise<T>): void {
    const settled = work.then(
      () => undefined,
      () => undefined,
    );
    this.inflight.add(settled);
    void settled.finally(() => this.inflight.delete(settled));
  }

  /** Waits until no background work (webhook deliveries) is pending. */
  async idle(): Promise<void> {
    while (this.inflight.size > 0) await Promise.all([...this.inflight]);
  }

  /**
   * POSTs a webhook to `url` and records the outcome. Never throws: a down app, a timeout or no
   * configured target are recorded in the returned WebhookDelivery.
   */
  async deliver(input: {
    url: string | undefined;
    eventId: string;
    eventType: string;
    payload: string;
    headers: Record<string, string>;
    timeoutMs: number;
  }): Promise<WebhookDelivery> {
    const delivery: WebhookDelivery = {
      eventId: input.eventId,
      eventType: input.eventType,
      url: input.url ?? null,
      payload: input.payload,
      headers: lowerCaseKeys(input.headers),
      status: null,
      responseBody: null,
      error: null,
      sentAt: new Date(),
    };
    this.webhooks.push(delivery);
    if (!input.url) {
      delivery.error = 'no webhookUrl configured';
      return delivery;
    }
    if (this.closed) {
      delivery.error = 'sandbox closed';
      return delivery;
    }
    try {
      const response = await fetch(input.url, {
        method: 'POST',
        headers: input.headers,
        body: input.payload,
        redirect: 'manual',
        signal: AbortSignal.any([AbortSignal.timeout(input.timeoutMs), this.deliveryAbort.signal]),
      });
      delivery.status = response.status;
      delivery.responseBody = (await response.text()).slice(0, 2000);
    } catch (error) {
      delivery.error = errorMessage(error);
    }
    return delivery;
  }

  reset(): void {
    this.requests.length = 0;
    this.webhooks.length = 0;
    this.failures.clear();
    this.options.onReset();
  }

  /** Stops listening, ends every open or hanging connection and aborts webhook deliveries in flight. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const stopped = new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.deliveryAbort.abort(new Error('sandbox closed'));
    this.server.closeAllConnections();
    for (const socket of this.sockets) socket.destroy();
    await Promise.all([stopped, this.idle()]);
  }

  private async dispatch(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const rawBody = await readBody(req);
    const url = new URL(req.url ?? '/', 'http://sandbox.invalid');
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(req.headers)) {
      if (value === undefined) continue;
      headers[name.toLowerCase()] = Array.isArray(value) ? value.join(', ') : value;
    }
    const query: Record<string, string> = {};
    for (const [key, value] of url.searchParams) query[key] = value;
    const request: RecordedRequest = {
      method: (req.method ?? 'GET').toUpperCase(),
      path: url.pathname,
      query,
      rawQuery: url.search.replace(/^\?/, ''),
      headers,
      body: parseBody(rawBody, headers['content-type']),
      rawBody,
      receivedAt: new Date(),
    };

    if (request.path.startsWith('/__sandbox/')) {
      send(res, this.control(request));
      return;
    }
    this.requests.push(request);
    const failure = this.failures.take(request.method, request.path);
    if (failure?.kind === 'timeout') return; // accepted, never answered; close() destroys the socket
    if (failure?.kind === 'lost_answer') {
      await this.options.handle(request); // done, and the answer never sent
      return;
    }
    if (failure) {
      send(res, this.options.renderFailure({ status: failure.status, code: failure.code, message: failure.message }, request));
      return;
    }
    const result = await this.options.handle(request);
    if (result === HANG) return;
    send(res, result);
  }

  private control(request: RecordedRequest): Reply {
    const route = `${request.method} ${request.path}`;
    try {
      switch (route) {
        case 'POST /__sandbox/fail':
          this.failures.add(failOptionsFromJson(request.body));
          return jsonReply(200, { ok: true, pendingFailures: this.failures.pending });
        case 'POST /__sandbox/reset':
          this.reset();
          return jsonReply(200, { ok: true });
        case 'GET /__sandbox/requests':
          return jsonReply(200, this.requests.map((r) => ({ ...r, receivedAt: r.receivedAt.toISOString() })) as JsonValue);
        case 'GET /__sandbox/webhooks':
          return jsonReply(200, this.webhooks.map((w) => ({ ...w, sentAt: w.sentAt.toISOString() })) as JsonValue);
        case 'GET /__sandbox/state':
          return jsonReply(200, this.options.describe?.() ?? null);
        default:
          return jsonReply(404, { error: `unknown sandbox control endpoint ${route}` });
      }
    } catch (error) {
      return jsonReply(400, { error: errorMessage(error) });
    }
  }
}

/** An event a sandbox built or delivered, with the exact bytes it is (re)sent as. */
export interface StoredEvent {
  event: JsonObject;
  payload: string;
}

export interface EventLogOptions {
  /** Sandbox name for error messages (`stripe`, `paypal`). */
  name: string;
  /** The bytes an event is sent as (Stripe pretty-prints, PayPal does not). */
  serialize: (event: JsonObject) => string;
  /** Signs and POSTs one stored event to the app. */
  send: (stored: StoredEvent) => Promise<WebhookDelivery>;
}

/** The webhook events a sandbox built or delivered, by id, so that a resend carries the same bytes as the first send. */
export class EventLog {
  private readonly events = new Map<string, StoredEvent>();

  constructor(private readonly options: EventLogOptions) {}

  /** Stores a newly built event under its id. */
  record(event: JsonObject): void {
    this.events.set(String(event.id), { event, payload: this.options.serialize(event) });
  }

  get(eventId: string): StoredEvent | undefined {
    return this.events.get(eventId);
  }

  /** Sends an event: with its stored bytes when this very object is stored, else freshly serialized (and stored when it has an id). */
  async deliver(event: JsonObject): Promise<WebhookDelivery> {
    const id = typeof event.id === 'string' ? event.id : '';
    let stored = this.events.get(id);
    if (!stored || stored.event !== event) {
      stored = { event, payload: this.options.serialize(event) };
      if (id) this.events.set(id, stored);
    }
    return this.options.send(stored);
  }

  /** Sends an earlier event again with the same bytes (rejects when there is no such event). */
  async resend(eventId: string): Promise<WebhookDelivery> {
    const stored = this.events.get(eventId);
    if (!stored) throw new Error(`${this.options.name} sandbox: no event ${eventId}`);
    return this.options.send(stored);
  }

  clear(): void {
    this.events.clear();
  }
}

/** The part of a sandbox's public object that its SandboxServer provides, the same for every provider. */
export interface SandboxBasics {
  /** Base URL of the API, e.g. http://127.0.0.1:4010 (give it to the provider's client factory as apiBaseUrl). */
  readonly url: string;
  readonly port: number;
  /** Base URL used for pages and links. */
  readonly publicUrl: string;
  /** Every API/page request received (not the /__sandbox/ control requests), oldest first. */
  readonly requests: readonly RecordedRequest[];
  /** Every webhook delivery attempt, oldest first. */
  readonly webhooks: readonly WebhookDelivery[];
  failNext(options: FailNextOptions): void;
  /** Forgets all provider state, the recorded requests and webhooks, and pending failures. */
  reset(): void;
  /** Resolves when no background webhook delivery is in flight. */
  idle(): Promise<void>;
  /** Stops the server, ends hanging requests and aborts deliveries in flight. */
  close(): Promise<void>;
}

/**
 * A sandbox's public object: SandboxBasics read live from `server`, plus the provider's own `members` (getters stay
 * getters). Keys in order: the server's getters, the provider's members, then failNext, reset, idle and close.
 */
export function sandboxHandle<Members extends object>(server: SandboxServer, members: Members): SandboxBasics & Members {
  const handle = {
    get url() {
      return server.url;
    },
    get port() {
      return server.port;
    },
    get publicUrl() {
      return server.publicUrl;
    },
    get requests() {
      return server.requests;
    },
    get webhooks() {
      return server.webhooks;
    },
  };
  const withMembers = Object.defineProperties(handle, Object.getOwnPropertyDescriptors(members)) as typeof handle & Members;
  const controls: Pick<SandboxBasics, 'failNext' | 'reset' | 'idle' | 'close'> = {
    failNext: (options) => server.failures.add(options),
    reset: () => server.reset(),
    idle: () => server.idle(),
    close: () => server.close(),
  };
  return Object.assign(withMembers, controls);
}

function send(res: http.ServerResponse, reply: Reply): void {
  const body = reply.body ?? '';
  res.writeHead(reply.status, { 'content-length': String(Buffer.byteLength(body)), ...reply.headers });
  res.end(body);
}

async function readBody(req: http.IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer));
  return Buffer.concat(chunks).toString('utf8');
}

function parseBody(raw: string, contentType: string | undefined): JsonValue {
  if (raw.length === 0) return null;
  const type = (contentType ?? '').toLowerCase();
  if (type.includes('application/x-www-form-urlencoded')) return parseForm(raw);
  try {
    return JSON.parse(raw) as JsonValue;
  } catch {
    return raw;
  }
}

export type FormValue = string | FormValue[] | { [key: string]: FormValue };
export type FormObject = { [key: string]: FormValue };

/**
 * Decodes a form body the way Stripe does: `a[b][0][c]=v` becomes `{a:{b:[{c:'v'}]}}`, `a[]=v` appends.
 * Objects whose keys are exactly 0..n-1 become arrays, except the values of `metadata` keys.
 */
export function parseForm(raw: string): FormObject {
  const root: FormObject = {};
  for (const [fullKey, value] of new URLSearchParams(raw)) {
    const first = /^[^[]*/.exec(fullKey)?.[0] ?? fullKey;
    const segments = [first, ...[...fullKey.slice(first.length).matchAll(/\[([^\]]*)\]/g)].map((m) => m[1] ?? '')];
    let node: FormObject = root;
    for (let i = 0; i < segments.length; i += 1) {
      const segment = segments[i] ?? '';
      const last = i === segments.length - 1;
      const key = segment === '' ? String(Object.keys(node).length) : segment;
      if (last) {
        node[key] = value;
      } else {
        const existing = node[key];
        if (typeof existing === 'object' && existing !== null && !Array.isArray(existing)) {
          node = existing;
        } else {
          const child: FormObject = {};
          node[key] = child;
          node = child;
        }
      }
    }
  }
  return arrayify(root, false) as FormObject;
}

function arrayify(value: FormValue, isMetadata: boolean): FormValue {
  if (typeof value === 'string' || Array.isArray(value)) return value;
  const entries = Object.entries(value).map(([key, child]) => [key, arrayify(child, key === 'metadata')] as const);
  const keys = entries.map(([key]) => key);
  const sequential = keys.length > 0 && keys.every((key, index) => key === String(index));
  if (sequential && !isMetadata) return entries.map(([, child]) => child);
  return Object.fromEntries(entries);
}

export function jsonReply(status: number, body: JsonValue, headers: Record<string, string> = {}): Reply {
  return jsonTextReply(status, JSON.stringify(body), headers);
}

/** A JSON reply whose body is already serialized (sent byte for byte). */
export function jsonTextReply(status: number, json: string, headers: Record<string, string> = {}): Reply {
  return { status, headers: { 'content-type': 'application/json; charset=utf-8', ...headers }, body: json };
}

export function textReply(status: number, text: string): Reply {
  return { status, headers: { 'content-type': 'text/plain; charset=utf-8' }, body: text };
}

export function htmlReply(status: number, html: string): Reply {
  return { status, headers: { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' }, body: html };
}

export function redirectReply(location: string): Reply {
  return { status: 303, headers: { location, 'content-type': 'text/plain; charset=utf-8' }, body: `See ${location}` };
}

/** How a sandbox's pages look: its name in `<title>`, the hint line under the heading, its own CSS rules. */
export interface PageLook {
  /** Appended to every page title, e.g. `Stripe sandbox`. */
  sandbox: string;
  hint: string;
  /** The provider's rules between the shared form rules and the shared `.error`/`.hint` rules. */
  css: string;
}

/** A complete HTML page of a sandbox (title, heading, hint line, then `body`, which must already be escaped HTML). */
export function sandboxPage(look: PageLook, title: string, body: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)} · ${look.sandbox}</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>body{font-family:system-ui,sans-serif;max-width:32rem;margin:2rem auto;padding:0 1rem}label{display:block;margin:.6rem 0}
input{display:block;width:100%;padding:.4rem;font-size:1rem}${look.css}.error{color:#b00020;font-weight:600}.hint{color:#555;font-size:.9rem}</style>
</head><body><h1>${escapeHtml(title)}</h1><p class="hint">${look.hint}</p>${body}</body></html>`;
}

export function escapeHtml(text: string): string {
  return text
    .replaceAll('&', '&amp;')
    .replaceAll('<', '&lt;')
    .replaceAll('>', '&gt;')
    .replaceAll('"', '&quot;')
    .replaceAll("'", '&#39;');
}

export function isJsonObject(value: JsonValue | undefined): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Deep copy of a JSON value (fixture templates are never mutated). */
export function cloneJson<T extends JsonValue>(value: T): T {
  return structuredClone(value);
}

/** Canonical JSON (object keys sorted) for comparing request parameters. */
export function canonicalJson(value: JsonValue): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (isJsonObject(value)) {
    const keys = Object.keys(value).sort();
    return `{${keys.map((key) => `${JSON.stringify(key)}:${canonicalJson(value[key] ?? null)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

const ALPHANUMERIC = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
export const UPPER_ALPHANUMERIC = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ';

/** Random string from `alphabet` (uniform, rejection sampling). */
export function randomString(length: number, alphabet: string = ALPHANUMERIC): string {
  const limit = 256 - (256 % alphabet.length);
  let out = '';
  while (out.length < length) {
    for (const byte of randomBytes(length * 2)) {
      if (byte < limit) out += alphabet[byte % alphabet.length];
      if (out.length === length) break;
    }
  }
  return out;
}

export function lowerCaseKeys(headers: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(headers).map(([key, value]) => [key.toLowerCase(), value]));
}

export function errorMessage(error: unknown): string {
  if (error instanceof Error) {
    const cause = error.cause instanceof Error ? `: ${error.cause.message}` : '';
    return `${error.message}${cause}`;
  }
  return String(error);
}

/** Whether `text` parses as an absolute http: or https: URL. */
export function isHttpUrl(text: string): boolean {
  try {
    const { protocol } = new URL(text);
    return protocol === 'http:' || protocol === 'https:';
  } catch {
    return false;
  }
}

/** Minor units as a decimal string with `decimals` places: 1234 → `12.34` (2) or `1234` (0); a minus sign stays in front (`-0.05`). */
export function minorToDecimal(minor: number, decimals: 0 | 2): string {
  if (decimals === 0) return String(minor);
  const sign = minor < 0 ? '-' : '';
  const abs = Math.abs(minor);
  return `${sign}${Math.trunc(abs / 100)}.${String(abs % 100).padStart(2, '0')}`;
}
