import http from 'node:http';
import type { AddressInfo } from 'node:net';

/** One webhook request as the receiver got it. */
export interface ReceivedWebhook {
  path: string;
  headers: Headers;
  rawBody: string;
  /** Status the receiver answered with. */
  status: number;
  /** What the verifier said (e.g. 'ok' or the error text). */
  verdict: string;
}

export interface WebhookReceiver {
  url: string;
  received: ReceivedWebhook[];
  close(): Promise<void>;
}

/**
 * A tiny local HTTP endpoint standing in for the app's webhook route: it runs `verify` on every
 * request (raw body + headers) and answers 200 when it returns 'ok', 400 otherwise.
 */
export async function startWebhookReceiver(
  verify: (rawBody: string, headers: Headers) => Promise<string> | string,
): Promise<WebhookReceiver> {
  const received: ReceivedWebhook[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const rawBody = Buffer.concat(chunks).toString('utf8');
      const headers = new Headers();
      for (const [name, value] of Object.entries(req.headers)) {
        if (typeof value === 'string') headers.set(name, value);
        else if (Array.isArray(value)) headers.set(name, value.join(', '));
      }
      void (async () => {
        let verdict: string;
        try {
          verdict = await verify(rawBody, headers);
        } catch (error) {
          verdict = error instanceof Error ? error.message : String(error);
        }
        const status = verdict === 'ok' ? 200 : 400;
        received.push({ path: req.url ?? '/', headers, rawBody, status, verdict });
        res.writeHead(status, { 'content-type': 'text/plain' });
        res.end(verdict);
      })();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/webhook`,
    received,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
