import { MAX_SLIDING_SCALE_PERCENT, type OrderPricing, priceOrder } from '../lib/checkout/pricing.js';
import type { CatalogTicketType, TicketCatalogResponse } from '../lib/contract/types.js';
import { type ApiAnswer, api, byId, el, formatMoney, generalErrorText, orderTokens, waitText } from './shared.js';

/**
 * The festival's checkout page (public/index.html). Prices are computed by lib/checkout/pricing.ts,
 * the very module the server prices orders with (bundled in, not copied), so what is shown is what
 * the provider later charges.
 */

/** The catalog's shape is the API contract's (lib/contract/types.ts): one definition, type-only here. */
type CatalogType = CatalogTicketType;
type Catalog = TicketCatalogResponse;

interface Created {
  orderId: string;
  orderNumber: string;
  totalCents: number;
  checkoutUrl: string;
  accessToken: string;
}

export const SLIDING_SCALE_STEP = 5;

const form = byId<HTMLFormElement>('checkout');
const pageStatus = byId('page-status');
const payButton = byId<HTMLButtonElement>('pay');
const formError = byId('form-error');
const slider = byId<HTMLInputElement>('sliding-scale');
const sliderValue = byId<HTMLOutputElement>('sliding-value');

let catalog: Catalog | undefined;
const quantities = new Map<string, number>();
/** The current attempt: its Idempotency-Key is reused only when the same request is retried after a network error. */
let attempt: { key: string; body: string } | null = null;
let inFlight = false;

function eventSlug(): string {
  const fromQuery = new URLSearchParams(location.search).get('event');
  const fromMeta = document.querySelector<HTMLMetaElement>('meta[name="bf-event"]')?.content;
  return fromQuery ?? fromMeta ?? 'boulder-fest-2026';
}

function newKey(): string {
  if (typeof crypto.randomUUID === 'function') return crypto.randomUUID();
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

function percent(): number {
  const value = Number(slider.value);
  return Number.isInteger(value) ? Math.min(Math.max(value, 0), MAX_SLIDING_SCALE_PERCENT) : 0;
}

function maxFor(type: CatalogType): number {
  return type.onSale ? Math.max(0, Math.min(type.available, type.maxPerOrder)) : 0;
}

/** The order as the server will price it (same function, same inputs: catalogue prices, chosen quantities, percent). */
function pricing(): OrderPricing | undefined {
  if (!catalog) return undefined;
  const items = catalog.ticketTypes
    .filter((t) => (quantities.get(t.code) ?? 0) > 0)
    .map((t) => ({
      ticketTypeId: t.code,
      code: t.code,
      name: t.name,
      unitPriceCents: t.priceCents,
      currency: t.currency,
      slidingScale: t.slidingScale,
      quantity: quantities.get(t.code) ?? 0,
    }));
  return items.length === 0 ? undefined : priceOrder(items, percent());
}

function availabilityText(type: CatalogType): string {
  if (type.soldOut) return 'Sold out';
  const now = Date.now();
  if (type.salesStartAt && now < Date.parse(type.salesStartAt)) {
    return `On sale from ${new Date(type.salesStartAt).toLocaleString('en-US', { dateStyle: 'medium', timeStyle: 'short' })}`;
  }
  if (!type.onSale) return 'Not on sale';
  return `${type.available} left · up to ${type.maxPerOrder} per order`;
}

function renderCatalog(data: Catalog): void {
  byId('event-name').textContent = data.event.name;
  const starts = new Date(data.event.startsAt);
  const ends = new Date(data.event.endsAt);
  const fmt = (d: Date) => d.toLocaleDateString('en-US', { weekday: 'short', month: 'long', day: 'numeric', year: 'numeric' });
  byId('event-info').textContent = `${fmt(starts)} – ${fmt(ends)}${data.event.venue ? ` · ${data.event.venue}` : ''}`;
  const list = byId('ticket-list');
  list.replaceChildren();
  for (const type of data.ticketTypes) {
    const max = maxFor(type);
    const input = el('input', {
      type: 'number',
      id: `qty-${type.code}`,
      name: `qty-${type.code}`,
      min: '0',
      max: String(max),
      step: '1',
      value: String(Math.min(quantities.get(type.code) ?? 0, max)),
      inputmode: 'numeric',
      'aria-describedby': `avail-${type.code} err-${type.code}`,
    });
    if (max === 0) input.disabled = true;
    input.addEventListener('input', () => onQuantity(type, input));
    input.addEventListener('change', () => onQuantity(type, input, true));
    quantities.set(type.code, Number(input.value));
    const priceLine = el(
      'p',
      { class: 'price' },
      el('span', { class: 'list-price' }, formatMoney(type.priceCents, type.currency)),
    );
    priceLine.append(
      type.slidingScale
        ? el('span', { class: 'net-price', id: `net-${type.code}`, 'data-unit-net-cents': String(type.priceCents) })
        : el('span', { class: 'tag' }, 'Fixed price'),
    );
    list.append(
      el(
        'li',
        { class: `ticket${max === 0 ? ' unavailable' : ''}`, id: `ticket-${type.code}` },
        el('h3', { id: `name-${type.code}` }, type.name),
        ...(type.description ? [el('p', { class: 'description' }, type.description)] : []),
        priceLine,
        el('p', { class: 'availability', id: `avail-${type.code}` }, availabilityText(type)),
        el('div', { class: 'quantity' }, el('label', { for: `qty-${type.code}` }, `How many ${type.name}?`), input),
        el('p', { class: 'field-error', id: `err-${type.code}` }),
      ),
    );
  }
  const eligible = data.ticketTypes.filter((t) => t.slidingScale && maxFor(t) > 0);
  const fixed = data.ticketTypes.filter((t) => !t.slidingScale);
  byId('sliding').hidden = eligible.length === 0;
  byId('sliding-applies').textContent =
    `Applies to: ${eligible.map((t) => t.name).join(', ')}.` +
    (fixed.length > 0 ? ` ${fixed.map((t) => t.name).join(', ')} ${fixed.length === 1 ? 'has' : 'have'} a fixed price.` : '');
  if (!data.event.onSale) {
    showFormError(
      data.event.ended
        ? `${data.event.name} has ended; tickets are no longer on sale.`
        : `Ticket sales for ${data.event.name} are closed.`,
    );
    payButton.disabled = true;
  }
  update();
  renderAttendees();
}

function onQuantity(type: CatalogType, input: HTMLInputElement, final = false): void {
  const max = maxFor(type);
  let value = Math.trunc(Number(input.value));
  if (!Number.isFinite(value) || value < 0) value = 0;
  if (value > max) value = max;
  const asked = Math.trunc(Number(input.value));
  if (final || String(value) !== input.value) input.value = String(value);
  quantities.set(type.code, value);
  const note = byId(`err-${type.code}`);
  if (asked > max) {
    note.textContent =
      type.available < type.maxPerOrder
        ? `Only ${type.available} left, so at most ${max}.`
        : `At most ${type.maxPerOrder} per order.`;
  } else if (!final) {
    // Typing clears the note; leaving the field (change) keeps the one the typing left.
    note.textContent = '';
    input.removeAttribute('aria-invalid');
  }
  update();
  renderAttendees();
}

function attendeeField(id: string, label: string, type: string, autocomplete: string, required: boolean, value: string) {
  const input = el('input', { id, name: id, type, autocomplete, 'aria-describedby': `${id}-err` });
  input.value = value;
  if (required) input.required = true;
  return el(
    'div',
    { class: 'field' },
    el('label', { for: id }, label + (required ? '' : ' (optional: we use yours when empty)')),
    input,
    el('p', { class: 'field-error', id: `${id}-err` }),
  );
}

/** One fieldset per ticket; typed names survive changes of the quantities. */
function renderAttendees(): void {
  const box = byId('attendees');
  const kept = new Map<string, string>();
  for (const input of box.querySelectorAll('input')) kept.set(input.id, input.value);
  box.replaceChildren();
  let n = 0;
  for (const type of catalog?.ticketTypes ?? []) {
    const count = quantities.get(type.code) ?? 0;
    for (let i = 0; i < count; i++) {
      n += 1;
      const base = `att-${type.code}-${i}`;
      box.append(
        el(
          'fieldset',
          { class: 'attendee' },
          el('legend', {}, `Ticket ${n}: ${type.name}`),
          attendeeField(`${base}-first`, 'First name', 'text', 'off', true, kept.get(`${base}-first`) ?? ''),
          attendeeField(`${base}-last`, 'Last name', 'text', 'off', true, kept.get(`${base}-last`) ?? ''),
          attendeeField(
            `${base}-email`,
            'Email (we use yours when empty)',
            'email',
            'off',
            false,
            kept.get(`${base}-email`) ?? '',
          ),
        ),
      );
    }
  }
  byId('attendees-empty').hidden = n > 0;
}

function update(): void {
  const p = percent();
  sliderValue.textContent = `${p} %`;
  slider.setAttribute('aria-valuetext', `${p} percent off`);
  const priced = pricing();
  for (const type of catalog?.ticketTypes ?? []) {
    const net = document.getElementById(`net-${type.code}`);
    if (!net) continue;
    // One ticket of this type priced by the server's own rule.
    const unitNet = priceOrder(
      [{ ...type, ticketTypeId: type.code, unitPriceCents: type.priceCents, quantity: 1 }],
      p,
    ).totalCents;
    net.dataset.unitNetCents = String(unitNet);
    net.textContent = p > 0 ? ` → you pay ${formatMoney(unitNet, type.currency)} each` : '';
  }
  const currency = priced?.currency ?? catalog?.ticketTypes[0]?.currency ?? 'USD';
  const subtotal = priced?.subtotalCents ?? 0;
  const discount = priced?.discountCents ?? 0;
  const total = priced?.totalCents ?? 0;
  byId('sum-subtotal').textContent = formatMoney(subtotal, currency);
  byId('sum-discount').textContent = discount > 0 ? `−${formatMoney(discount, currency)}` : formatMoney(0, currency);
  byId('sum-discount-label').textContent = `Sliding scale (${p} %)`;
  const totalNode = byId('sum-total');
  totalNode.textContent = formatMoney(total, currency);
  totalNode.dataset.totalCents = String(total);
  byId('sum-count').textContent = `${priced?.ticketCount ?? 0} ticket${priced?.ticketCount === 1 ? '' : 's'}`;
}

// ---------------------------------------------------------------- errors, beside their cause

function clearErrors(): void {
  for (const node of form.querySelectorAll('.field-error')) node.textContent = '';
  for (const node of form.querySelectorAll('[aria-invalid="true"]')) node.removeAttribute('aria-invalid');
  formError.textContent = '';
  formError.hidden = true;
}

function showFormError(text: string): void {
  formError.textContent = text;
  formError.hidden = false;
}

function fieldError(inputId: string, text: string): HTMLElement | undefined {
  const input = document.getElementById(inputId);
  const slot = document.getElementById(`${inputId}-err`) ?? document.getElementById(inputId.replace(/^qty-/, 'err-'));
  if (slot) slot.textContent = text;
  input?.setAttribute('aria-invalid', 'true');
  return input ?? undefined;
}

const FIELD_WORDS: Record<string, string> = {
  email: 'Please enter a valid email address, like name@example.com.',
  firstName: 'Please enter a first name.',
  lastName: 'Please enter a last name.',
  phone: 'Please enter a phone number using digits, spaces, + ( ) . or -.',
};

/** A field path of the API (`customer.email`, `items.0.attendees.1.firstName`) → the input it is about. */
function inputForPath(path: string, sentItems: { ticketType: string }[]): string | undefined {
  const parts = path.split('.');
  if (parts[0] === 'customer' && parts[1])
    return `buyer-${parts[1] === 'firstName' ? 'first' : parts[1] === 'lastName' ? 'last' : parts[1]}`;
  if (parts[0] === 'items' && parts[1] !== undefined) {
    const code = sentItems[Number(parts[1])]?.ticketType;
    if (!code) return undefined;
    if (parts[2] === 'attendees' && parts[3] !== undefined) {
      const suffix = parts[4] === 'firstName' ? 'first' : parts[4] === 'lastName' ? 'last' : 'email';
      return `att-${code}-${parts[3]}-${suffix}`;
    }
    return `qty-${code}`;
  }
  if (parts[0] === 'provider') return 'provider-stripe';
  if (parts[0] === 'slidingScalePercent') return 'sliding-scale';
  return undefined;
}

function typeName(code: unknown): string {
  return catalog?.ticketTypes.find((t) => t.code === code)?.name ?? 'This ticket';
}

function showApiError(answer: Exclude<ApiAnswer<Created>, { kind: 'ok' }>, sent: { items: { ticketType: string }[] }): void {
  if (answer.kind === 'network') {
    showFormError(
      'We could not reach the ticket office, so we do not know yet whether your order went through. Check your connection and press the button again: it safely continues the same order, you will not be charged twice.',
    );
    return;
  }
  const { code, details } = answer.error;
  const ticket = typeof details?.ticketType === 'string' ? details.ticketType : undefined;
  let focus: HTMLElement | undefined;
  switch (code) {
    case 'SOLD_OUT': {
      const remaining = Number(details?.remaining ?? 0);
      focus = fieldError(
        `qty-${ticket}`,
        remaining > 0
          ? `Only ${remaining} ${typeName(ticket)} ticket${remaining === 1 ? ' is' : 's are'} left. Lower the quantity to ${remaining} or fewer.`
          : `Sorry, ${typeName(ticket)} just sold out. Choose another ticket type.`,
      );
      showFormError('Some tickets you chose are no longer available; see the note beside them.');
      void refreshCatalog();
      break;
    }
    case 'MAX_PER_ORDER_EXCEEDED':
      focus = fieldError(
        `qty-${ticket}`,
        `You can buy at most ${String(details?.maxPerOrder ?? '')} ${typeName(ticket)} tickets in one order.`,
      );
      showFormError('Please lower the quantity marked below.');
      break;
    case 'SALES_CLOSED':
    case 'TICKET_TYPE_INACTIVE':
      if (ticket) {
        focus = fieldError(
          `qty-${ticket}`,
          `${typeName(ticket)} is not on sale right now. Set it to 0 or choose another ticket.`,
        );
        showFormError('A ticket you chose is not on sale right now; see the note beside it.');
      } else {
        showFormError('Ticket sales for this event are closed.');
      }
      void refreshCatalog();
      break;
    case 'VALIDATION_ERROR': {
      const fields = details?.fields ?? [];
      for (const field of fields) {
        const id = inputForPath(field.path, sent.items);
        const last = field.path.split('.').at(-1) ?? '';
        const node = id ? fieldError(id, FIELD_WORDS[last] ?? 'Please check this field.') : undefined;
        focus ??= node;
      }
      showFormError(
        focus
          ? 'Please correct the fields marked below.'
          : 'We could not place this order from this page. Please reload the page and try again.',
      );
      break;
    }
    case 'PROVIDER_UNAVAILABLE': {
      const chosen =
        (form.elements.namedItem('provider') as RadioNodeList | null)?.value === 'paypal' ? 'PayPal' : 'Card payments';
      const other = chosen === 'PayPal' ? 'card' : 'PayPal';
      byId('provider-err').textContent =
        `${chosen} ${chosen === 'PayPal' ? 'is' : 'are'} not available right now. Nothing was charged and your tickets were released. Try again, or choose ${other}.`;
      byId('provider-fieldset').setAttribute('aria-invalid', 'true');
      showFormError(`${chosen} could not be reached. Try again or choose the other payment method.`);
      focus = document.getElementById(chosen === 'PayPal' ? 'provider-stripe' : 'provider-paypal') ?? undefined;
      break;
    }
    case 'RATE_LIMITED':
      showFormError(`Too many tries from this connection. Please wait and try again ${waitText(answer.retryAfterSeconds)}.`);
      break;
    case 'UNPROCESSABLE':
      showFormError('This order cannot be placed as it is (for example, it would cost nothing). Please change it and try again.');
      break;
    default:
      showFormError(generalErrorText(answer));
  }
  (focus ?? formError).focus?.();
}

// ---------------------------------------------------------------- validation and submit

const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

function value(id: string): string {
  return (document.getElementById(id) as HTMLInputElement | null)?.value.trim() ?? '';
}

function validate(): HTMLElement | undefined {
  let first: HTMLElement | undefined;
  const mark = (id: string, text: string) => {
    const node = fieldError(id, text);
    first ??= node;
  };
  if (!pricing()) {
    const firstQty = catalog?.ticketTypes.find((t) => maxFor(t) > 0);
    if (firstQty) mark(`qty-${firstQty.code}`, 'Choose at least one ticket.');
    else showFormError('No tickets are on sale right now.');
  }
  for (const input of byId('attendees').querySelectorAll<HTMLInputElement>('input')) {
    if (input.required && !input.value.trim())
      mark(input.id, input.id.endsWith('-first') ? (FIELD_WORDS.firstName ?? '') : (FIELD_WORDS.lastName ?? ''));
    if (input.type === 'email' && input.value.trim() && !EMAIL.test(input.value.trim())) mark(input.id, FIELD_WORDS.email ?? '');
  }
  if (!value('buyer-first')) mark('buyer-first', FIELD_WORDS.firstName ?? '');
  if (!value('buyer-last')) mark('buyer-last', FIELD_WORDS.lastName ?? '');
  if (!EMAIL.test(value('buyer-email'))) mark('buyer-email', FIELD_WORDS.email ?? '');
  if (first && !formError.textContent) showFormError('Please correct the fields marked below.');
  return first;
}

function requestBody() {
  const buyerEmail = value('buyer-email');
  const items = (catalog?.ticketTypes ?? [])
    .filter((t) => (quantities.get(t.code) ?? 0) > 0)
    .map((t) => {
      const quantity = quantities.get(t.code) ?? 0;
      return {
        ticketType: t.code,
        quantity,
        attendees: Array.from({ length: quantity }, (_, i) => ({
          firstName: value(`att-${t.code}-${i}-first`),
          lastName: value(`att-${t.code}-${i}-last`),
          email: value(`att-${t.code}-${i}-email`) || buyerEmail,
        })),
      };
    });
  const provider = (form.elements.namedItem('provider') as RadioNodeList).value === 'paypal' ? 'paypal' : 'stripe';
  return {
    event: eventSlug(),
    items,
    customer: { email: buyerEmail, firstName: value('buyer-first'), lastName: value('buyer-last') },
    slidingScalePercent: percent(),
    provider,
    // Back to this origin's return pages: the access token is in this origin's sessionStorage.
    successUrl: `${location.origin}/tickets/success`,
    cancelUrl: `${location.origin}/tickets/cancel`,
  };
}

function setBusy(busy: boolean): void {
  inFlight = busy;
  payButton.disabled = busy;
  payButton.textContent = busy ? 'Placing your order…' : 'Continue to payment';
  form.setAttribute('aria-busy', String(busy));
}

async function submit(): Promise<void> {
  if (inFlight) return;
  clearErrors();
  const invalid = validate();
  if (invalid) {
    invalid.focus();
    return;
  }
  const payload = requestBody();
  const body = JSON.stringify(payload);
  if (!attempt || attempt.body !== body) attempt = { key: newKey(), body };
  setBusy(true);
  const answer = await api<Created>('/api/payments/checkout-session', {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'idempotency-key': attempt.key },
    body,
  });
  if (answer.kind === 'ok') {
    orderTokens.save(answer.body.orderId, answer.body.accessToken);
    payButton.textContent = 'Taking you to payment…';
    location.assign(answer.body.checkoutUrl);
    return; // stays disabled: the page is leaving
  }
  // An answered attempt is over (except one still running): the next press is a new attempt with a new key.
  if (answer.kind === 'error' && answer.error.code !== 'IDEMPOTENCY_IN_PROGRESS') attempt = null;
  setBusy(false);
  showApiError(answer, payload);
}

async function refreshCatalog(): Promise<void> {
  const answer = await api<Catalog>(`/api/tickets?event=${encodeURIComponent(eventSlug())}`);
  if (answer.kind !== 'ok') return;
  catalog = answer.body;
  const errors = new Map<string, string>();
  for (const node of form.querySelectorAll<HTMLElement>('.ticket .field-error')) errors.set(node.id, node.textContent ?? '');
  renderCatalog(catalog);
  for (const [id, text] of errors) {
    const node = document.getElementById(id);
    if (node && text) {
      node.textContent = text;
      document.getElementById(id.replace(/^err-/, 'qty-'))?.setAttribute('aria-invalid', 'true');
    }
  }
}

async function start(): Promise<void> {
  slider.max = String(MAX_SLIDING_SCALE_PERCENT);
  slider.step = String(SLIDING_SCALE_STEP);
  slider.addEventListener('input', update);
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    void submit();
  });
  const answer = await api<Catalog>(`/api/tickets?event=${encodeURIComponent(eventSlug())}`);
  if (answer.kind !== 'ok') {
    pageStatus.textContent =
      answer.kind === 'error' && answer.error.code === 'NOT_FOUND'
        ? 'This event is not on sale here.'
        : `${generalErrorText(answer)} Reload the page to try again.`;
    return;
  }
  catalog = answer.body;
  renderCatalog(catalog);
  pageStatus.textContent = '';
  pageStatus.hidden = true;
  form.hidden = false;
}

void start();
