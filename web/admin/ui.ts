import { el, formatMoney } from '../shared.js';

/** Small DOM helpers for the dashboard pages (text only: nothing is ever parsed as HTML). */

export { el, formatMoney };

export type Cell = string | Node | { text: string | Node; num?: boolean };

/** A table with a caption, header row and one row per item; `rowClass` marks rows (mismatches). */
export function table<T>(
  caption: string,
  columns: { label: string; num?: boolean; cell: (row: T) => string | Node }[],
  rows: readonly T[],
  options: { id?: string; rowClass?: (row: T) => string | undefined; empty?: string } = {},
): HTMLElement {
  if (rows.length === 0)
    return el('p', { class: 'hint', ...(options.id ? { id: options.id } : {}) }, options.empty ?? `${caption}: none.`);
  const head = el('tr', {}, ...columns.map((c) => el('th', { scope: 'col', ...(c.num ? { class: 'num' } : {}) }, c.label)));
  const body = el('tbody');
  for (const row of rows) {
    const cls = options.rowClass?.(row);
    body.append(el('tr', cls ? { class: cls } : {}, ...columns.map((c) => el('td', c.num ? { class: 'num' } : {}, c.cell(row)))));
  }
  const t = el(
    'table',
    { class: 'data', ...(options.id ? { id: options.id } : {}) },
    el('caption', {}, caption),
    el('thead', {}, head),
    body,
  );
  // Focusable, so a table wider than a tablet's screen can be scrolled with the keyboard.
  return el('div', { class: 'table-wrap', role: 'region', 'aria-label': caption, tabindex: '0' }, t);
}

export function link(href: string, text: string): HTMLAnchorElement {
  return el('a', { href }, text);
}

export function when(iso: string | null | undefined): string {
  if (!iso) return '—';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return `${d.toISOString().slice(0, 10)} ${d.toISOString().slice(11, 19)} UTC`;
}

/** A rate from the API (0.1234) as a percentage with one decimal; "—" for none. */
export function percent(rate: number | null | undefined): string {
  if (rate === null || rate === undefined) return '—';
  return `${(Math.round(rate * 1000) / 10).toFixed(1)} %`;
}

export function field(label: string, control: HTMLElement, id: string): HTMLElement {
  control.id = id;
  return el('div', { class: 'field' }, el('label', { for: id }, label), control);
}

export function input(name: string, value = '', type = 'text', attrs: Record<string, string> = {}): HTMLInputElement {
  const node = el('input', { type, name, ...attrs });
  node.value = value;
  return node;
}

export function select(name: string, options: readonly (string | [string, string])[], value = ''): HTMLSelectElement {
  const node = el('select', { name });
  for (const option of options) {
    const [v, label] = typeof option === 'string' ? [option, option || 'any'] : option;
    const o = el('option', { value: v }, label);
    if (v === value) o.selected = true;
    node.append(o);
  }
  return node;
}

export function button(
  text: string,
  attrs: Record<string, string> = {},
  onClick?: (event: MouseEvent) => void,
): HTMLButtonElement {
  const node = el('button', { type: 'button', ...attrs }, text);
  if (onClick) node.addEventListener('click', onClick);
  return node;
}

export function message(text = '', kind: 'ok' | 'error' = 'ok', id?: string): HTMLElement {
  return el(
    'p',
    { class: `message${kind === 'error' ? ' error' : ''}`, role: kind === 'error' ? 'alert' : 'status', ...(id ? { id } : {}) },
    text,
  );
}

export function setMessage(node: HTMLElement, text: string, kind: 'ok' | 'error' = 'ok'): void {
  node.textContent = text;
  node.className = `message${kind === 'error' ? ' error' : ''}`;
  node.setAttribute('role', kind === 'error' ? 'alert' : 'status');
}

export function unavailable(what: string, endpoint: string): HTMLElement {
  return el(
    'p',
    { class: 'unavailable', 'data-unavailable': endpoint },
    `${what} is not available on this deployment (${endpoint} is not there yet).`,
  );
}

/** Form values without empty strings, as query parameters. */
export function queryOf(values: Record<string, string | undefined>): string {
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(values)) if (v !== undefined && v.trim() !== '') params.set(k, v.trim());
  const text = params.toString();
  return text ? `?${text}` : '';
}

export function formValues(form: HTMLFormElement): Record<string, string> {
  const out: Record<string, string> = {};
  new FormData(form).forEach((value, key) => {
    if (typeof value === 'string') out[key] = value;
  });
  return out;
}

export function money(cents: number | null | undefined, currency: string | null | undefined): string {
  if (cents === null || cents === undefined) return '—';
  return formatMoney(cents, currency ?? 'USD');
}
