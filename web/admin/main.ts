import 'uplot/dist/uPlot.min.css';
import { byId } from '../shared.js';
import { adminApi, errorWords, whenUnauthorized } from './client.js';
import { renderKeys } from './pages/keys.js';
import { renderOrderDetail } from './pages/order-detail.js';
import { renderOrders } from './pages/orders.js';
import { renderOverview } from './pages/overview.js';
import { renderReconciliation } from './pages/reconciliation.js';
import { renderTransactions } from './pages/transactions.js';
import { renderWebhooks } from './pages/webhooks.js';
import { holds, type Identity, session } from './session.js';
import { el } from './ui.js';

/**
 * The staff dashboard (public/admin/index.html): sign in with an API key (sessionStorage only), ask
 * GET /api/admin/whoami what it may do, and offer only those sections. Routes live in the URL's
 * fragment (#/orders/<id>), which the browser never sends to the server; the key is never in a URL.
 */

export interface PageContext {
  identity: Identity;
  /** Path segments after the section, e.g. ['<order id>'] for #/orders/<id>. */
  params: string[];
  query: URLSearchParams;
  /** Moves to another route (updates the fragment). */
  go(route: string): void;
}

interface Section {
  title: string;
  scopes: string[];
  render(view: HTMLElement, ctx: PageContext): Promise<void>;
}

const SECTIONS: Record<string, Section> = {
  overview: { title: 'Overview', scopes: ['analytics:read'], render: renderOverview },
  orders: {
    title: 'Orders',
    scopes: ['orders:read'],
    render: (view, ctx) => (ctx.params[0] ? renderOrderDetail(view, ctx) : renderOrders(view, ctx)),
  },
  transactions: { title: 'Transactions', scopes: ['payments:read'], render: renderTransactions },
  webhooks: { title: 'Webhooks', scopes: ['webhooks:admin'], render: renderWebhooks },
  // GET /api/reconciliation needs finance:read (lib/contract/routes.ts): offered only with it.
  reconciliation: { title: 'Reconciliation', scopes: ['finance:read'], render: renderReconciliation },
  keys: { title: 'API keys', scopes: ['keys:admin'], render: renderKeys },
};

let identity: Identity | null = null;

const status = () => byId('page-status');
const view = () => byId('view');

function setStatus(text: string, error = false): void {
  status().textContent = text;
  status().className = error ? 'status error' : 'status';
}

function showSignIn(reason = ''): void {
  identity = null;
  session.clear();
  byId('nav').hidden = true;
  byId('whoami').hidden = true;
  view().hidden = true;
  view().replaceChildren();
  byId('signin').hidden = false;
  setStatus(reason, reason !== '');
  document.title = 'Sign in — Boulder Fest staff';
  byId<HTMLInputElement>('api-key').value = '';
  byId<HTMLInputElement>('api-key').focus();
}

function showApp(who: Identity): void {
  identity = who;
  byId('signin').hidden = true;
  byId('nav').hidden = false;
  const whoami = byId('whoami');
  whoami.hidden = false;
  whoami.textContent = `Signed in as ${who.name} (${who.prefix}) · ${who.scopes.join(', ')}${
    who.expiresAt ? ` · expires ${who.expiresAt.slice(0, 10)}` : ''
  }`;
  for (const item of byId('nav').querySelectorAll<HTMLElement>('li[data-scope]')) {
    item.hidden = !holds(who, ...(item.dataset.scope ?? '').split(' '));
  }
  view().hidden = false;
}

function firstAllowed(who: Identity): string | undefined {
  return Object.keys(SECTIONS).find((name) => holds(who, ...(SECTIONS[name]?.scopes ?? [])));
}

let renderCount = 0;

async function route(): Promise<void> {
  if (!identity) return;
  const who = identity;
  const hash = location.hash.replace(/^#\/?/, '');
  const [path = '', queryText = ''] = hash.split('?');
  const [name = '', ...params] = path.split('/').filter(Boolean).map(decodeURIComponent);
  const section = SECTIONS[name];
  if (!section) {
    const first = firstAllowed(who);
    if (first) location.replace(`#/${first}`);
    else setStatus('This API key has no scope the dashboard can use.', true);
    return;
  }
  for (const a of byId('nav').querySelectorAll('a')) {
    if (a.getAttribute('href') === `#/${name}`) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
  const target = view();
  target.replaceChildren();
  if (!holds(who, ...section.scopes)) {
    setStatus(`Your API key cannot open ${section.title} (it needs ${section.scopes.join(' or ')}).`, true);
    document.title = `${section.title} — Boulder Fest staff`;
    return;
  }
  setStatus('');
  document.title = `${section.title} — Boulder Fest staff`;
  const mine = ++renderCount;
  const page = el('div', { 'data-page': name });
  target.append(page);
  try {
    await section.render(page, {
      identity: who,
      params,
      query: new URLSearchParams(queryText),
      go: (next) => {
        location.hash = next;
      },
    });
  } catch (error) {
    if (mine === renderCount)
      setStatus(`The page failed to load: ${error instanceof Error ? error.message : String(error)}`, true);
  }
}

async function signIn(apiKey: string): Promise<string | null> {
  const answer = await adminApi<{ apiKey: Identity }>('/api/admin/whoami', { apiKey });
  if (answer.kind === 'ok') {
    session.save(apiKey);
    showApp(answer.body.apiKey);
    return null;
  }
  if (answer.kind === 'error' && answer.status === 401)
    return 'That key was refused: it is unknown, revoked, expired or mistyped.';
  return errorWords(answer, 'Sign-in');
}

function start(): void {
  whenUnauthorized((message) => showSignIn(message));
  window.addEventListener('hashchange', () => void route());
  byId('sign-out').addEventListener('click', () => {
    showSignIn('You are signed out. The key was removed from this tab.');
    history.replaceState(null, '', location.pathname);
  });
  byId<HTMLFormElement>('signin-form').addEventListener('submit', async (event) => {
    event.preventDefault();
    const input = byId<HTMLInputElement>('api-key');
    const error = byId('api-key-err');
    const value = input.value.trim();
    error.textContent = '';
    input.removeAttribute('aria-invalid');
    if (!/^bf_(live|test)_[A-Za-z0-9_]+$/.test(value)) {
      error.textContent = 'An API key starts with bf_live_ or bf_test_.';
      input.setAttribute('aria-invalid', 'true');
      input.focus();
      return;
    }
    const submit = byId<HTMLButtonElement>('signin-submit');
    submit.disabled = true;
    const problem = await signIn(value);
    submit.disabled = false;
    if (problem) {
      error.textContent = problem;
      input.setAttribute('aria-invalid', 'true');
      input.focus();
      return;
    }
    input.value = '';
    await route();
    byId('main').focus();
  });
  const saved = session.read();
  if (!saved) {
    showSignIn();
    return;
  }
  setStatus('Checking your key…');
  void signIn(saved).then(async (problem) => {
    if (problem) showSignIn(problem);
    else await route();
  });
}

start();
