import type { IncomingMessage, ServerResponse } from 'node:http';
import { type ParsedMail, simpleParser } from 'mailparser';
import { SMTPServer } from 'smtp-server';

/**
 * A local mail catcher for `npm run dev` and the tests: a real SMTP server (`smtp-server`) on
 * 127.0.0.1 that accepts every message, parses it with `mailparser` and keeps the latest ones in
 * memory. The local server (scripts/local-server.ts) shows them at /dev/mail. Never deployed: it is not
 * under api/ or public/, and Vercel never sees it.
 */

export interface CaughtMail {
  /** 1, 2, 3… in arrival order. */
  seq: number;
  receivedAt: Date;
  envelope: { from: string; to: string[] };
  parsed: ParsedMail;
  raw: Buffer;
}

export interface MailCatcher {
  port: number;
  /** smtp://127.0.0.1:<port> — what SMTP_URL should be. */
  url: string;
  readonly messages: readonly CaughtMail[];
  /** Resolves with the first caught message matching `predicate` (waits for it). */
  waitFor(predicate: (mail: CaughtMail) => boolean, timeoutMs?: number): Promise<CaughtMail>;
  /** Makes the server refuse the next messages with this SMTP reply (e.g. 451 or 550); undefined accepts again. */
  refuseWith(code: number | undefined): void;
  clear(): void;
  close(): Promise<void>;
}

/** Messages kept by default (the dev server's catcher): the oldest go first. */
const KEEP = 200;

/**
 * `keep`: how many messages to hold (the oldest are dropped beyond it). Tests keep them all: in a full run the
 * delivery cron of a test file also sends the other files' due messages (the database is shared), and a
 * bounded catcher then drops the message the test is looking for.
 */
export async function startMailCatcher(options: { port?: number; host?: string; keep?: number } = {}): Promise<MailCatcher> {
  const keep = options.keep ?? KEEP;
  const messages: CaughtMail[] = [];
  const waiters = new Set<{ predicate: (mail: CaughtMail) => boolean; resolve: (mail: CaughtMail) => void }>();
  let seq = 0;
  let refusal: number | undefined;

  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    closeTimeout: 500,
    size: 25 * 1024 * 1024,
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('error', callback);
      stream.on('end', () => {
        if (refusal !== undefined) {
          const error = new Error(refusal >= 500 ? 'Message refused by the mail catcher' : 'Try again later') as Error & {
            responseCode: number;
          };
          error.responseCode = refusal;
          callback(error);
          return;
        }
        const raw = Buffer.concat(chunks);
        simpleParser(raw, { skipImageLinks: true })
          .then((parsed) => {
            const mail: CaughtMail = {
              seq: ++seq,
              receivedAt: new Date(),
              envelope: {
                from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
                to: session.envelope.rcptTo.map((rcpt) => rcpt.address),
              },
              parsed,
              raw,
            };
            messages.push(mail);
            if (messages.length > keep) messages.shift();
            for (const waiter of [...waiters]) {
              if (waiter.predicate(mail)) {
                waiters.delete(waiter);
                waiter.resolve(mail);
              }
            }
            callback();
          })
          .catch(callback);
      });
    },
  });
  const host = options.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.server.once('error', reject);
    server.listen(options.port ?? 0, host, () => resolve());
  });
  const address = server.server.address();
  const port = typeof address === 'object' && address ? address.port : (options.port ?? 0);

  return {
    port,
    url: `smtp://${host}:${port}`,
    get messages() {
      return messages;
    },
    waitFor(predicate, timeoutMs = 10_000) {
      const found = messages.find(predicate);
      if (found) return Promise.resolve(found);
      return new Promise<CaughtMail>((resolve, reject) => {
        const waiter = {
          predicate,
          resolve: (mail: CaughtMail) => {
            clearTimeout(timer);
            resolve(mail);
          },
        };
        const timer = setTimeout(() => {
          waiters.delete(waiter);
          reject(new Error(`no matching email within ${timeoutMs} ms (${messages.length} caught)`));
        }, timeoutMs);
        waiters.add(waiter);
      });
    },
    refuseWith(code) {
      refusal = code;
    },
    clear() {
      messages.length = 0;
    },
    close: () =>
      new Promise<void>((resolve) => {
        // Drop open connections at once (a graceful close would wait for clients to quit).
        (server as unknown as { connections?: Set<{ close(): void }> }).connections?.forEach((connection) => {
          connection.close();
        });
        server.close(() => resolve());
      }),
  };
}

// ---------------------------------------------------------------------------------------------------
// /dev/mail: the caught messages as a page, served by the local server only.

const esc = (value: unknown) =>
  String(value ?? '').replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] ?? c,
  );

/** The HTML part with its cid: images inlined as data: URIs, for display. */
export function htmlForDisplay(mail: CaughtMail): string {
  let html = mail.parsed.html || `<pre>${esc(mail.parsed.text ?? '')}</pre>`;
  for (const attachment of mail.parsed.attachments) {
    if (!attachment.cid) continue;
    const data = `data:${attachment.contentType};base64,${attachment.content.toString('base64')}`;
    html = html.replaceAll(`cid:${attachment.cid}`, data);
  }
  return html;
}

function addressText(mail: CaughtMail, field: 'from' | 'to'): string {
  const value = mail.parsed[field];
  if (!value) return '';
  return (Array.isArray(value) ? value : [value]).map((a) => a.text).join(', ');
}

function listPage(catcher: MailCatcher, selected: CaughtMail | undefined): string {
  const rows = [...catcher.messages]
    .reverse()
    .map(
      (mail) => `<li class="${mail === selected ? 'on' : ''}"><a href="/dev/mail?m=${mail.seq}">
<strong>${esc(mail.parsed.subject ?? '(no subject)')}</strong><br>
<span>to ${esc(addressText(mail, 'to'))} · ${esc(mail.receivedAt.toISOString().slice(11, 19))} UTC ·
${mail.parsed.attachments.length} attachment(s)</span></a></li>`,
    )
    .join('\n');
  const view = selected
    ? `<h2>${esc(selected.parsed.subject ?? '')}</h2>
<p class="meta">From ${esc(addressText(selected, 'from'))} to ${esc(addressText(selected, 'to'))}</p>
<iframe title="HTML part" sandbox src="/dev/mail/${selected.seq}.html"></iframe>
<details><summary>Plain-text part</summary><pre>${esc(selected.parsed.text ?? '')}</pre></details>`
    : '<p>No mail caught yet. Pay for an order (card 4242 4242 4242 4242) and reload.</p>';
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Local mail (${catcher.messages.length})</title>
<style>
body{margin:0;font-family:system-ui,sans-serif;display:flex;height:100vh}
nav{width:320px;overflow:auto;border-right:1px solid #ddd;background:#fafafa}
nav h1{font-size:16px;padding:12px;margin:0;border-bottom:1px solid #ddd}
ul{list-style:none;margin:0;padding:0}li a{display:block;padding:10px 12px;color:#222;text-decoration:none;border-bottom:1px solid #eee;font-size:13px}
li.on a{background:#e8f0fe}li span{color:#666;font-size:12px}
main{flex:1;overflow:auto;padding:0 16px}iframe{width:100%;height:calc(100vh - 160px);border:1px solid #ddd}
.meta{color:#555;font-size:13px}</style></head>
<body><nav><h1>Local mail catcher · SMTP ${esc(catcher.url)}</h1><ul>${rows}</ul></nav><main>${view}</main></body></html>`;
}

/** Handles /dev/mail, /dev/mail/<n>.html and /dev/mail.json; false for any other path. */
export function handleMailPage(catcher: MailCatcher, req: IncomingMessage, res: ServerResponse, url: URL): boolean {
  if (!url.pathname.startsWith('/dev/mail')) return false;
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.writeHead(405, { allow: 'GET' });
    res.end();
    return true;
  }
  const headers = { 'cache-control': 'no-store', 'x-content-type-options': 'nosniff' };
  if (url.pathname === '/dev/mail.json') {
    const list = catcher.messages.map((mail) => ({
      seq: mail.seq,
      receivedAt: mail.receivedAt.toISOString(),
      subject: mail.parsed.subject ?? null,
      to: addressText(mail, 'to'),
      attachments: mail.parsed.attachments.length,
    }));
    res.writeHead(200, { ...headers, 'content-type': 'application/json; charset=utf-8' });
    res.end(JSON.stringify(list));
    return true;
  }
  const single = /^\/dev\/mail\/(\d+)\.html$/.exec(url.pathname);
  if (single) {
    const mail = catcher.messages.find((m) => m.seq === Number(single[1]));
    if (!mail) {
      res.writeHead(404, { ...headers, 'content-type': 'text/plain; charset=utf-8' });
      res.end('No such message');
      return true;
    }
    // The email's HTML runs in a sandbox with no scripts, whatever it contains.
    res.writeHead(200, {
      ...headers,
      'content-type': 'text/html; charset=utf-8',
      'content-security-policy': "sandbox; default-src 'none'; img-src data:; style-src 'unsafe-inline'",
    });
    res.end(htmlForDisplay(mail));
    return true;
  }
  if (url.pathname === '/dev/mail' || url.pathname === '/dev/mail/') {
    const wanted = Number(url.searchParams.get('m'));
    const selected = catcher.messages.find((m) => m.seq === wanted) ?? catcher.messages.at(-1);
    res.writeHead(200, {
      ...headers,
      'content-type': 'text/html; charset=utf-8',
      'content-security-policy': "default-src 'none'; frame-src 'self'; style-src 'unsafe-inline'",
    });
    res.end(listPage(catcher, selected));
    return true;
  }
  return false;
}
