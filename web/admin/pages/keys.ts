import type { ApiKeyView } from '../../../lib/auth/api-keys.js';
import { adminApi, errorWords } from '../client.js';
import type { PageContext } from '../main.js';
import { button, el, field, input, message, setMessage, table, when } from '../ui.js';

/**
 * API keys (keys:admin): the list (GET /api/admin/api-keys), create (POST: the secret is shown once,
 * with a copy button, and kept nowhere), revoke with a confirmation (DELETE /api/admin/api-keys/{id}).
 * Only the scopes the signed-in key holds are offered: a key cannot grant more than it has.
 */

export async function renderKeys(view: HTMLElement, ctx: PageContext): Promise<void> {
  const note = message('', 'ok', 'keys-note');
  note.setAttribute('tabindex', '-1');
  const created = el('div', { id: 'keys-created', 'aria-live': 'polite' });
  const list = el('div', { id: 'keys-list' });
  const name = input('name', '', 'text', { maxlength: '100', autocomplete: 'off' });
  const expires = input('expires', '', 'text', { placeholder: '30d, 12h or 2027-01-31', maxlength: '40', autocomplete: 'off' });
  const scopes = el(
    'fieldset',
    { class: 'scopes', id: 'key-scopes' },
    el('legend', {}, 'Scopes'),
    ...ctx.identity.scopes.map((scope) => {
      const id = `scope-${scope.replace(/[^a-z]/g, '-')}`;
      return el(
        'span',
        {},
        el('input', { type: 'checkbox', name: 'scope', value: scope, id }),
        ' ',
        el('label', { for: id }, scope),
      );
    }),
  );
  const form = el(
    'form',
    { id: 'key-form', novalidate: '', 'aria-labelledby': 'key-create-h' },
    el('h2', { id: 'key-create-h' }, 'Create a key'),
    el('div', { class: 'filters' }, field('Name', name, 'key-name'), field('Expires (optional)', expires, 'key-expires')),
    scopes,
    el('button', { type: 'submit', id: 'key-create' }, 'Create key'),
  );
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const chosen = [...scopes.querySelectorAll<HTMLInputElement>('input[name=scope]:checked')].map((c) => c.value);
    if (name.value.trim() === '' || chosen.length === 0) {
      setMessage(note, 'Give the key a name and at least one scope.', 'error');
      (name.value.trim() === '' ? name : scopes.querySelector('input'))?.focus();
      return;
    }
    const answer = await adminApi<{ key: string; apiKey: ApiKeyView }>('/api/admin/api-keys', {
      method: 'POST',
      body: { name: name.value.trim(), scopes: chosen, ...(expires.value.trim() ? { expires: expires.value.trim() } : {}) },
    });
    if (answer.kind !== 'ok') {
      setMessage(note, errorWords(answer, 'Creating keys'), 'error');
      return;
    }
    form.reset();
    const secret = el('input', {
      type: 'text',
      readonly: '',
      class: 'secret',
      id: 'key-secret',
      'aria-describedby': 'key-secret-help',
    });
    secret.value = answer.body.key;
    const copyNote = el('span', { role: 'status', id: 'key-copy-note' });
    const copy = button('Copy', { id: 'key-copy' }, async () => {
      try {
        await navigator.clipboard.writeText(secret.value);
        copyNote.textContent = 'Copied.';
      } catch {
        secret.select();
        copyNote.textContent = 'Copy was refused by the browser: the key is selected, press Ctrl+C.';
      }
    });
    const done = button('I have stored it — hide the key', { class: 'secondary', id: 'key-hide' }, () => {
      created.replaceChildren();
      name.focus();
    });
    created.replaceChildren(
      el(
        'div',
        { class: 'confirm' },
        el('h2', {}, `New key “${answer.body.apiKey.name}”`),
        el('p', { id: 'key-secret-help' }, 'This is the only time the key is shown. Store it in the password manager now.'),
        el('label', { for: 'key-secret' }, 'API key'),
        secret,
        el('div', { class: 'actions' }, copy, copyNote, done),
      ),
    );
    secret.focus();
    secret.select();
    await load();
  });
  view.append(el('h1', {}, 'API keys'), note, created, form, el('h2', {}, 'Keys'), list);

  const load = async () => {
    const answer = await adminApi<{ data: ApiKeyView[] }>('/api/admin/api-keys');
    if (answer.kind !== 'ok') {
      setMessage(note, errorWords(answer, 'The key list'), 'error');
      return;
    }
    list.replaceChildren(
      table(
        'API keys',
        [
          { label: 'Name', cell: (k) => k.name + (k.id === ctx.identity.id ? ' (this key)' : '') },
          { label: 'Prefix', cell: (k) => el('code', {}, k.prefix) },
          { label: 'Scopes', cell: (k) => k.scopes.join(', ') },
          { label: 'Status', cell: (k) => el('span', { class: `badge${k.status === 'active' ? '' : ' bad'}` }, k.status) },
          { label: 'Expires', cell: (k) => when(k.expiresAt) },
          { label: 'Last used', cell: (k) => when(k.lastUsedAt) },
          { label: 'Uses', num: true, cell: (k) => String(k.usageCount) },
          { label: 'Action', cell: (k) => (k.status === 'active' ? revokeCell(k) : '') },
        ],
        answer.body.data,
        { id: 'keys-table' },
      ),
    );
  };
  const revokeCell = (k: ApiKeyView): HTMLElement => {
    const cell = el('div', { 'data-key': k.id });
    const revoke = button('Revoke', { class: 'secondary', 'aria-label': `Revoke ${k.name}` }, () => {
      const confirm = button('Confirm revoke', { class: 'danger', 'aria-label': `Confirm revoking ${k.name}` });
      const cancel = button('Cancel', { class: 'secondary' }, () => {
        cell.replaceChildren(revoke);
        revoke.focus();
      });
      confirm.addEventListener('click', async () => {
        confirm.disabled = true;
        const answer = await adminApi<{ apiKey: ApiKeyView }>(`/api/admin/api-keys/${encodeURIComponent(k.id)}`, {
          method: 'DELETE',
        });
        if (answer.kind !== 'ok') {
          setMessage(note, errorWords(answer, 'Revoking keys'), 'error');
          return;
        }
        setMessage(note, `Revoked ${k.name} (${k.prefix}). It stops working at once.`);
        await load();
        note.focus();
      });
      cell.replaceChildren(el('span', {}, `Revoke ${k.name} for good? `), confirm, ' ', cancel);
      confirm.focus();
    });
    cell.append(revoke);
    return cell;
  };
  await load();
}
