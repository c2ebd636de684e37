import { timingSafeEqual } from 'node:crypto';
import type { NextFunction, Request, Response } from 'express';
import { enforceProduction } from '@eagle-eye/config';
import { ReadinessRegistry } from '@eagle-eye/observability';
import { consoleOpsRefused } from './console.metrics';

/**
 * The console is the one app whose HTTP port faces users, so what is meant for operators is
 * behind a bearer token there (CONSOLE_OPS_TOKEN): /metrics needs it (401 otherwise), and /readyz
 * answers anyone with its status and code (for load-balancer probes) but names its checks and
 * their errors only with the token. The other apps' HTTP ports are internal and stay open.
 */
export function opsGuard(token: string | undefined, readiness: ReadinessRegistry) {
  const expected = token === undefined ? undefined : Buffer.from(`Bearer ${token}`);
  const authorized = (req: Request): boolean => {
    if (!expected) return true;
    const got = Buffer.from(req.header('authorization') ?? '');
    return got.length === expected.length && timingSafeEqual(got, expected);
  };
  return (req: Request, res: Response, next: NextFunction): void => {
    // originalUrl: a middleware mounted by Nest sees req.path relative to its mount point
    const path = req.originalUrl.split('?')[0];
    if (path !== '/metrics' && path !== '/readyz') return next();
    if (authorized(req)) return next();
    if (path === '/metrics') {
      consoleOpsRefused.inc();
      res.setHeader('WWW-Authenticate', 'Bearer realm="eagle-eye-ops"');
      res.status(401).json({ statusCode: 401, message: '/metrics needs the operations token' });
      return;
    }
    readiness.run().then(
      (r) => {
        res.status(r.ready ? 200 : 503).json({ status: r.ready ? 'ready' : 'not_ready' });
      },
      (e: unknown) => next(e),
    );
  };
}

/** NODE_ENV=production refuses to start with the operations endpoints open to the world. */
export function assertOpsTokenInProduction(
  config: { NODE_ENV: string; CONSOLE_OPS_TOKEN?: string },
  env: NodeJS.ProcessEnv = process.env,
): void {
  if (config.CONSOLE_OPS_TOKEN === undefined)
    enforceProduction(
      ['CONSOLE_OPS_TOKEN is not set: /metrics and the readiness details would be open on the public port'],
      { ...env, NODE_ENV: config.NODE_ENV },
    );
}
