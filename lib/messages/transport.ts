import { ConfigError, getConfig } from '../config.js';

/**
 * SMTP through nodemailer (SMTP_URL): Mailtrap, Postmark, SES, Resend or any SMTP server. One
 * connection per message (no pool: a serverless instance may be frozen at any time), short timeouts so
 * a dead server costs one attempt, not the function's whole time limit.
 */

export interface OutgoingMail {
  to: string;
  subject: string;
  text: string;
  html: string;
  /** Our Message-ID (stored with the outbox row). */
  messageId: string;
  attachments: { filename: string; content: Buffer; contentType: string; cid: string }[];
  headers?: Record<string, string>;
}

export interface SentMail {
  messageId: string;
  /** The server's last reply line (e.g. `250 2.0.0 Ok: queued as ...`). */
  response: string;
}

type Transporter = { sendMail(mail: Record<string, unknown>): Promise<{ messageId: string; response: string }> };

const transporters = new Map<string, Promise<Transporter>>();

async function transporterFor(url: string): Promise<Transporter> {
  let transporter = transporters.get(url);
  if (!transporter) {
    transporter = import('nodemailer').then((nodemailer) => nodemailer.createTransport(url, {}) as unknown as Transporter);
    transporters.set(url, transporter);
  }
  return await transporter;
}

/** nodemailer's time-outs from the one time budget (lib/time-budget.ts), unless SMTP_URL sets its own. */
function withTimeouts(url: string): string {
  const { smtp } = getConfig().timeBudget;
  const parsed = new URL(url);
  for (const [key, value] of [
    ['connectionTimeout', smtp.connectionTimeoutMs],
    ['greetingTimeout', smtp.greetingTimeoutMs],
    ['socketTimeout', smtp.socketTimeoutMs],
  ] as const) {
    if (!parsed.searchParams.has(key)) parsed.searchParams.set(key, String(value));
  }
  return parsed.toString();
}

/** The whole send, cut at the budget: a server that trickles bytes cannot hold the function past its limit. */
async function withSendDeadline<T>(work: Promise<T>): Promise<T> {
  const ms = getConfig().timeBudget.smtp.sendBudgetMs;
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`SMTP send did not finish within ${ms} ms`)), ms);
  });
  work.catch(() => undefined); // settled after the deadline: nothing unhandled
  try {
    return await Promise.race([work, deadline]);
  } finally {
    clearTimeout(timer);
  }
}

/** An SMTP error as text safe to store: no credentials, bounded. */
export function describeSmtpError(error: unknown): string {
  const smtpUrl = getConfig().mail.smtpUrl;
  const e = error as { message?: unknown; code?: unknown; responseCode?: unknown; command?: unknown };
  const parts = [
    typeof e?.code === 'string' ? e.code : undefined,
    typeof e?.responseCode === 'number' ? String(e.responseCode) : undefined,
    typeof e?.command === 'string' ? `during ${e.command}` : undefined,
  ].filter(Boolean);
  let text = `${parts.length > 0 ? `${parts.join(' ')}: ` : ''}${error instanceof Error ? error.message : String(error)}`;
  if (smtpUrl) {
    try {
      const { password, username } = new URL(smtpUrl);
      for (const secret of [password, decodeURIComponent(password), username ? smtpUrl : '']) {
        if (secret && secret.length >= 3) text = text.replaceAll(secret, '[redacted]');
      }
    } catch {
      // not a URL: nothing to scrub
    }
  }
  return text.replace(/\s+/g, ' ').slice(0, 1000);
}

export async function sendMail(mail: OutgoingMail): Promise<SentMail> {
  const { smtpUrl, from } = getConfig().mail;
  if (!smtpUrl) throw new ConfigError('SMTP_URL is not set: nowhere to send email');
  if (!from) throw new ConfigError('MAIL_FROM is not set');
  const transporter = await transporterFor(withTimeouts(smtpUrl));
  const info = await withSendDeadline(
    transporter.sendMail({
      from,
      to: mail.to,
      subject: mail.subject,
      text: mail.text,
      html: mail.html,
      messageId: mail.messageId,
      attachments: mail.attachments,
      headers: mail.headers,
      disableFileAccess: true,
      disableUrlAccess: true,
    }),
  );
  return { messageId: info.messageId, response: String(info.response ?? '').slice(0, 300) };
}
