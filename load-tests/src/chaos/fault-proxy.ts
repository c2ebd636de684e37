import { createServer, Server, Socket } from 'node:net';

/**
 * A TCP proxy between the apps and Redis or PostgreSQL that can misbehave on demand: add latency
 * to every chunk in both directions, stall (hold every byte, connections stay open), or reset
 * every open connection. Bytes are delivered in order in every mode.
 */
export class FaultProxy {
  private server?: Server;
  private readonly conns = new Set<Socket>();
  private latencyMs = 0;
  private stalledUntil = 0;
  port = 0;

  constructor(
    private readonly targetHost: string,
    private readonly targetPort: number,
  ) {}

  async start(port = 0): Promise<number> {
    const server = createServer((client) => this.pipe(client));
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => resolve());
    });
    const a = server.address();
    this.port = typeof a === 'object' && a ? a.port : 0;
    return this.port;
  }

  setLatency(ms: number): void {
    this.latencyMs = ms;
  }

  /** holds every byte for `ms` (a network partition that TCP keepalive does not notice) */
  stall(ms: number): void {
    this.stalledUntil = Date.now() + ms;
  }

  /** destroys every open connection: both ends see a reset */
  resetAll(): void {
    for (const c of this.conns) c.resetAndDestroy();
    this.conns.clear();
  }

  private pipe(client: Socket): void {
    const upstream = new Socket();
    upstream.connect(this.targetPort, this.targetHost);
    for (const s of [client, upstream]) {
      this.conns.add(s);
      s.setNoDelay(true);
      s.on('error', () => undefined);
      s.on('close', () => {
        this.conns.delete(s);
        client.destroy();
        upstream.destroy();
      });
    }
    this.forward(client, upstream);
    this.forward(upstream, client);
  }

  /** Copies `from` to `to`, each chunk released no earlier than the fault allows, in order. */
  private forward(from: Socket, to: Socket): void {
    const q: { at: number; chunk: Buffer | null }[] = [];
    let timer = false;
    const flush = (): void => {
      while (q.length && q[0].at <= Date.now()) {
        const { chunk } = q.shift() as { chunk: Buffer | null };
        if (to.destroyed) return;
        if (chunk) to.write(chunk);
        else to.end();
      }
      if (q.length && !timer) {
        timer = true;
        setTimeout(
          () => {
            timer = false;
            flush();
          },
          Math.max(1, q[0].at - Date.now()),
        );
      }
    };
    const push = (chunk: Buffer | null): void => {
      const last = q.length ? q[q.length - 1].at : 0;
      q.push({ at: Math.max(last, Date.now() + this.latencyMs, this.stalledUntil), chunk });
      flush();
    };
    from.on('data', (chunk: Buffer) => push(chunk));
    from.on('end', () => push(null));
  }

  async stop(): Promise<void> {
    this.resetAll();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}
