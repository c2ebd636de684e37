import { isIP } from 'node:net';

/**
 * The load tools send traffic only to this machine: a mistyped address must never point a load
 * generator at somebody's production endpoint.
 */
export function isLoopbackHost(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  if (h === 'localhost' || h === 'ip6-localhost') return true;
  if (isIP(h) === 4) return h.startsWith('127.');
  if (isIP(h) === 6) return h === '::1' || h === '0:0:0:0:0:0:0:1' || /^::ffff:127\./.test(h);
  return false;
}

/** Parses `host:port` (or `[v6]:port`) and refuses anything that is not a loopback address. */
export function loopbackTarget(target: string): { host: string; port: number; address: string } {
  const m = /^(\[[^\]]+\]|[^:]+):(\d{1,5})$/.exec(target.trim());
  if (!m) throw new Error(`target ${JSON.stringify(target)} must be host:port, for example 127.0.0.1:50051`);
  const host = m[1];
  const port = Number(m[2]);
  if (port < 1 || port > 65535) throw new Error(`target port ${port} is out of range`);
  if (!isLoopbackHost(host)) {
    throw new Error(
      `target ${target} is not a loopback address: the load tools only send to 127.0.0.0/8, ::1 or localhost`,
    );
  }
  return { host, port, address: `${host}:${port}` };
}

/** The same check for URLs (console, metrics endpoints). */
export function assertLoopbackUrl(url: string): URL {
  const u = new URL(url);
  if (!isLoopbackHost(u.hostname)) {
    throw new Error(`${url} is not a loopback address: the load tools only talk to this machine`);
  }
  return u;
}
