import { Agent, request } from 'node:http';

/**
 * The benchmarks' HTTP client: node:http over keep-alive sockets (one per concurrent sender). The load
 * generator shares the machine's two cores with the server, the sandboxes and PostgreSQL, so it must cost
 * as little as it can. With global fetch (undici, WHATWG streams) it took 25-38 % of a core at about 380
 * checkout attempts/s; with this, 9-17 % at about 600/s: CPU the server under test gets back. Answers are
 * read whole; only the status and text are kept.
 */
export interface BenchClient {
  post(url: string, headers: Record<string, string>, body: string): Promise<{ status: number; text: string }>;
  close(): void;
}

export function benchClient(concurrency: number): BenchClient {
  const agent = new Agent({ keepAlive: true, maxSockets: concurrency, maxFreeSockets: concurrency });
  return {
    post: (url, headers, body) =>
      new Promise((resolve, reject) => {
        const req = request(
          url,
          { method: 'POST', agent, headers: { ...headers, 'content-length': Buffer.byteLength(body) } },
          (res) => {
            const chunks: Buffer[] = [];
            res.on('data', (chunk: Buffer) => chunks.push(chunk));
            res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
            res.on('error', reject);
          },
        );
        req.on('error', reject);
        req.end(body);
      }),
    close: () => agent.destroy(),
  };
}
