import { createServer } from 'node:net';

/**
 * Ports the dev server binds, each with what wants it and the variable that moves it, so that a busy port fails
 * with a line that says all three instead of "failed to start: undefined".
 */

export interface PortClaim {
  port: number;
  /** What wants the port ("embedded PostgreSQL", "Stripe sandbox", ...). */
  what: string;
  /** The environment variable that moves it. */
  variable: string;
}

export class PortInUseError extends Error {
  constructor(readonly claim: PortClaim) {
    super(
      `port ${claim.port} is already in use: the ${claim.what} wants it. Stop what holds it ` +
        `(e.g. \`lsof -i :${claim.port}\`, or an earlier npm run dev), or move it: ${claim.variable}=<another port> npm run dev`,
    );
    this.name = 'PortInUseError';
  }
}

/** A port from the environment variable `variable` (else `fallback`), refusing anything that is not one. */
export function portFromEnv(variable: string, fallback: number): number {
  const raw = process.env[variable];
  if (raw === undefined || raw === '') return fallback;
  const port = Number(raw);
  if (!Number.isInteger(port) || port < 0 || port > 65_535) throw new Error(`${variable}=${raw} is not a port (0 to 65535)`);
  return port;
}

function isAddressInUse(error: unknown): boolean {
  return (error as NodeJS.ErrnoException | null)?.code === 'EADDRINUSE';
}

/** Resolves when `port` can be bound on `host` (binds and releases it at once); else rejects with PortInUseError. */
export async function assertPortFree(claim: PortClaim, host = '127.0.0.1'): Promise<void> {
  if (claim.port === 0) return;
  await new Promise<void>((resolve, reject) => {
    const probe = createServer();
    probe.unref();
    probe.once('error', (error) => reject(isAddressInUse(error) ? new PortInUseError(claim) : error));
    probe.listen({ port: claim.port, host, exclusive: true }, () => probe.close(() => resolve()));
  });
}

/** Runs `start`; an "address in use" failure from it becomes the PortInUseError of `claim`. */
export async function claimPort<T>(claim: PortClaim, start: () => Promise<T>): Promise<T> {
  try {
    return await start();
  } catch (error) {
    if (isAddressInUse(error)) throw new PortInUseError(claim);
    throw error;
  }
}

/** A one-line reason for any thrown value: never "undefined". */
export function describeError(error: unknown): string {
  if (error instanceof Error) {
    const code = (error as NodeJS.ErrnoException).code;
    return error.message || (code ? `${error.name} ${code}` : error.name);
  }
  if (error === undefined || error === null) return `no reason given (${String(error)})`;
  if (typeof error === 'object') {
    try {
      return JSON.stringify(error);
    } catch {
      return Object.prototype.toString.call(error);
    }
  }
  return String(error);
}
