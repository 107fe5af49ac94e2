import type { WebhookEventStatus } from '../../../lib/db/models/webhook-events.js';
import { adminApi, errorWords } from '../client.js';
import type { PageContext } from '../main.js';
import { button, el, field, message, queryOf, select, setMessage, table, when } from '../ui.js';

/**
 * Webhooks (webhooks:admin): the inbox by status (GET /api/admin/webhook-events), dead letters with their
 * last error, and replay with a confirmation (POST /api/admin/webhook-events/{id}/replay).
 */

const STATUSES = [
  'received',
  'processing',
  'processed',
  'ignored',
  'failed',
  'dead',
] as const satisfies readonly WebhookEventStatus[];

interface InboxEvent {
  id: string;
  provider: string;
  providerEventId: string;
  eventType: string;
  status: string;
  attempts: number;
  lastError: string | null;
  receivedAt: string;
  processedAt: string | null;
}

export async function renderWebhooks(view: HTMLElement, ctx: PageContext): Promise<void> {
  const status = ctx.query.get('status') ?? 'dead';
  const provider = ctx.query.get('provider') ?? '';
  const statusSelect = select('status', [['', 'any status'], ...STATUSES.map((s): [string, string] => [s, s])], status);
  const providerSelect = select(
    'provider',
    [
      ['', 'both providers'],
      ['stripe', 'stripe'],
      ['paypal', 'paypal'],
    ],
    provider,
  );
  const form = el(
    'form',
    { class: 'filters', 'aria-label': 'Filter the webhook inbox' },
    field('Status', statusSelect, 'wh-status'),
    field('Provider', providerSelect, 'wh-provider'),
    el('button', { type: 'submit', id: 'wh-apply' }, 'Show'),
  );
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    ctx.go(`#/webhooks${queryOf({ status: statusSelect.value || 'all', provider: providerSelect.value })}`);
  });
  const note = message('', 'ok', 'wh-note');
  note.setAttribute('tabindex', '-1');
  const results = el('div', { id: 'wh-results', 'aria-live': 'polite' });
  view.append(el('h1', {}, 'Webhook inbox'), form, note, results);

  let cursor: string | null = null;
  const rows: InboxEvent[] = [];
  const render = () => {
    results.replaceChildren(
      table(
        `${status === 'all' || status === '' ? 'All' : status === 'dead' ? 'Dead-letter' : `Status ${status}:`} events (${rows.length}${cursor ? '+' : ''})`,
        [
          { label: 'Received', cell: (e) => when(e.receivedAt) },
          { label: 'Provider', cell: (e) => e.provider },
          { label: 'Type', cell: (e) => el('code', {}, e.eventType) },
          { label: 'Event id', cell: (e) => el('code', { class: 'wrap' }, e.providerEventId) },
          {
            label: 'Status',
            cell: (e) =>
              el(
                'span',
                { class: `badge${e.status === 'dead' || e.status === 'failed' ? ' bad' : ''}`, 'data-status': e.status },
                e.status,
              ),
          },
          { label: 'Attempts', num: true, cell: (e) => String(e.attempts) },
          { label: 'Last error', cell: (e) => e.lastError ?? '' },
          { label: 'Action', cell: (e) => replayCell(e) },
        ],
        rows,
        { id: 'wh-table', empty: 'No events with that status.' },
      ),
    );
    if (cursor)
      results.append(
        el(
          'div',
          { class: 'actions' },
          button('More events', { class: 'secondary', id: 'wh-more' }, () => void load()),
        ),
      );
  };
  const replayCell = (e: InboxEvent): HTMLElement => {
    const cell = el('div', { 'data-event': e.id });
    const replay = button(`Replay`, { class: 'secondary', 'aria-label': `Replay ${e.eventType} ${e.providerEventId}` }, () => {
      const confirm = button('Confirm replay', { class: 'danger', 'aria-label': `Confirm replay of ${e.providerEventId}` });
      const cancel = button('Cancel', { class: 'secondary' }, () => {
        cell.replaceChildren(replay);
        replay.focus();
      });
      confirm.addEventListener('click', async () => {
        confirm.disabled = true;
        cancel.disabled = true;
        const answer = await adminApi<{ applied: boolean; error: string | null; data: InboxEvent }>(
          `/api/admin/webhook-events/${encodeURIComponent(e.id)}/replay`,
          { method: 'POST' },
        );
        if (answer.kind !== 'ok') {
          setMessage(note, errorWords(answer, 'Replay'), 'error');
          cell.replaceChildren(replay);
          return;
        }
        const index = rows.findIndex((r) => r.id === e.id);
        if (index >= 0) rows[index] = answer.body.data;
        render();
        setMessage(
          note,
          `Replayed ${e.eventType} ${e.providerEventId}: now ${answer.body.data.status}${answer.body.error ? ` (${answer.body.error})` : ''}.`,
          answer.body.data.status === 'processed' || answer.body.data.status === 'ignored' ? 'ok' : 'error',
        );
        note.focus();
      });
      cell.replaceChildren(el('span', {}, 'Apply this event again now? '), confirm, ' ', cancel);
      confirm.focus();
    });
    cell.append(replay);
    return cell;
  };
  const load = async () => {
    const answer = await adminApi<{ data: InboxEvent[]; nextCursor: string | null }>(
      `/api/admin/webhook-events${queryOf({ status: status === 'all' ? '' : status, provider, limit: '50', cursor: cursor ?? undefined })}`,
    );
    if (answer.kind !== 'ok') {
      setMessage(note, errorWords(answer, 'The webhook inbox'), 'error');
      return;
    }
    rows.push(...answer.body.data);
    cursor = answer.body.nextCursor;
    render();
  };
  await load();
}
