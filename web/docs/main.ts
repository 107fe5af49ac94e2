import type { createApiReference } from '@scalar/api-reference';

/**
 * The API reference page (/docs, public/docs/index.html): Scalar's API reference from npm
 * (@scalar/api-reference's standalone browser bundle, copied by scripts/build-pages.ts to
 * public/docs/scalar.js; it defines window.Scalar) rendering /api/openapi.json from this origin.
 * Configured for a private, offline page: nothing is fetched from anywhere but this origin.
 * - no Scalar web fonts (withDefaultFonts: false; the system font stack instead), no telemetry,
 *   no Agent Scalar / MCP / developer tools (they talk to Scalar's services; the agent even turns
 *   itself on on local URLs), no "Explore Scalar" call to action;
 * - "Test request" sends only to the document's servers (`/`, this deployment) with no proxy:
 *   `proxyUrl: ''` (unset, Scalar would route cross-host requests through proxy.scalar.com), and
 *   every fetch the page makes through Scalar is refused unless it stays on this origin;
 * - keys typed into "Test request" are not persisted (persistAuth false).
 * The CSP (vercel.json) keeps `script-src 'self'` and `connect-src 'self'` here too; /docs/* alone
 * allows inline styles, which Scalar injects at runtime (its stylesheet and theme).
 */

type ScalarConfiguration = NonNullable<Parameters<typeof createApiReference>[1]>;

declare global {
  interface Window {
    Scalar?: { createApiReference: typeof createApiReference };
  }
}

// zod (inside Scalar) probes `Function('')` once to choose a faster parser; under the CSP
// (no 'unsafe-eval') that probe is a reported violation. jitless skips it. Read when first parsed,
// so setting it before the bundle runs its configuration is enough.
const zodConfig = globalThis as { __zod_globalConfig?: Record<string, unknown> };
zodConfig.__zod_globalConfig = { ...zodConfig.__zod_globalConfig, jitless: true };

/** fetch for Scalar (document and "Test request"): this origin only, anything else refused. */
function sameOriginFetch(input: string | URL | Request, init?: RequestInit): Promise<Response> {
  const url = new URL(input instanceof Request ? input.url : String(input), window.location.href);
  if (url.origin !== window.location.origin) {
    return Promise.reject(new TypeError(`/docs sends requests only to ${window.location.origin}, not ${url.origin}`));
  }
  return fetch(input, init);
}

export const DOCS_CONFIGURATION: ScalarConfiguration = {
  url: '/api/openapi.json',
  title: 'Boulder Fest payments API',
  withDefaultFonts: false,
  telemetry: false,
  agent: { disabled: true },
  mcp: { disabled: true },
  showDeveloperTools: 'never',
  proxyUrl: '',
  baseServerURL: window.location.origin,
  customFetch: sameOriginFetch,
  persistAuth: false,
  hideClientButton: true,
  documentDownloadType: 'json',
  hideDarkModeToggle: false,
  defaultOpenAllTags: true,
  theme: 'default',
};

function mount(): void {
  const scalar = window.Scalar;
  if (!scalar) {
    document.body.dataset.ready = 'error';
    return;
  }
  scalar.createApiReference('#app', DOCS_CONFIGURATION);
  document.body.dataset.ready = 'true';
}

// public/docs/index.html loads this module before scalar.js (so the zod setting above comes first); both run
// before DOMContentLoaded, which is when window.Scalar is there.
document.addEventListener('DOMContentLoaded', mount, { once: true });
