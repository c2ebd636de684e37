import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import Redis from 'ioredis';
import { REPO_ROOT } from '../processes';
import type { BenchStack, Services } from '../stack';
import type { FaultProxy } from './fault-proxy';

const run = promisify(execFile);

/** What a fault may touch: the stack's apps, and Redis/PostgreSQL when this run owns them. */
export interface FaultContext {
  stack: BenchStack;
  services: Services;
  /** the proxy between the apps and Redis or PostgreSQL, when the scenario has one */
  proxy?: FaultProxy;
  log: (s: string) => void;
}

export interface Fault {
  /** seconds after the load starts */
  atS: number;
  name: string;
  /** injects the fault and repairs it (restart); resolves once the repair is done */
  run(ctx: FaultContext): Promise<void>;
  /** needs Redis and PostgreSQL of this run's own (it kills or stops them) */
  ownServices?: boolean;
}

/** kill -9 of one app, then the same app started again on its ports. */
export function killApp(app: string, atS: number, downS = 1): Fault {
  return {
    atS,
    name: `kill -9 ${app}`,
    async run({ stack, log }) {
      await stack.kill(app);
      log(`${app} SIGKILLed`);
      await sleep(downS * 1000);
      await stack.restart(app);
    },
  };
}

function proxyOf(ctx: FaultContext): FaultProxy {
  if (!ctx.proxy) throw new Error('this fault needs the scenario to route the apps through a proxy');
  return ctx.proxy;
}

/** Every byte between the apps and the proxied server delayed by `ms` for `forS`. */
export function latency(atS: number, ms: number, forS: number): Fault {
  return {
    atS,
    name: `${ms} ms latency for ${forS} s`,
    async run(ctx) {
      proxyOf(ctx).setLatency(ms);
      await sleep(forS * 1000);
      proxyOf(ctx).setLatency(0);
    },
  };
}

/** Nothing passes for `forS` (connections stay open), then everything held is delivered. */
export function stall(atS: number, forS: number): Fault {
  return {
    atS,
    name: `${forS} s stall`,
    async run(ctx) {
      proxyOf(ctx).stall(forS * 1000);
      await sleep(forS * 1000);
    },
  };
}

/** Every open connection reset, `times` times, `everyS` apart. */
export function resets(atS: number, times: number, everyS: number): Fault {
  return {
    atS,
    name: `connection resets x${times}`,
    async run(ctx) {
      for (let i = 0; i < times; i++) {
        if (i) await sleep(everyS * 1000);
        proxyOf(ctx).resetAll();
      }
    },
  };
}

function ownServices(s: Services): { runDir: string; env: NodeJS.ProcessEnv } {
  if (!s.private || !s.runDir || !s.env) {
    throw new Error(
      'this fault kills Redis or PostgreSQL: run it on services of its own (without REDIS_URL/DATABASE_URL)',
    );
  }
  return { runDir: s.runDir, env: s.env };
}

async function servicesUp(s: Services): Promise<void> {
  const { env } = ownServices(s);
  await run('bash', ['scripts/services.sh', 'up'], { cwd: REPO_ROOT, env, timeout: 180000 });
}

/** Redis's AOF fsync policy now (`no` reads as everysec: the suite compares the other two). */
export async function getAppendFsync(redisUrl: string): Promise<'everysec' | 'always'> {
  const r = new Redis(redisUrl, { maxRetriesPerRequest: 2 });
  try {
    const [, v] = (await r.config('GET', 'appendfsync')) as [string, string];
    return v === 'always' ? 'always' : 'everysec';
  } finally {
    r.disconnect();
  }
}

/** Sets Redis's AOF fsync policy (a restart reads deploy/redis/redis.conf). */
export async function setAppendFsync(redisUrl: string, policy: 'everysec' | 'always'): Promise<void> {
  const r = new Redis(redisUrl, { maxRetriesPerRequest: 2 });
  try {
    await r.config('SET', 'appendfsync', policy);
  } finally {
    r.disconnect();
  }
}

/** kill -9 of redis-server (the one this run started), restarted from its AOF after `downS`. */
export function killRedis(atS: number, fsync: 'everysec' | 'always', downS = 2): Fault {
  return {
    atS,
    name: `kill -9 redis-server (appendfsync ${fsync})`,
    ownServices: true,
    async run({ services, log }) {
      const { runDir } = ownServices(services);
      const pid = Number(readFileSync(join(REPO_ROOT, runDir, 'redis', 'redis.pid'), 'utf8').trim());
      process.kill(pid, 'SIGKILL');
      while (alive(pid)) await sleep(20);
      log(`redis-server ${pid} SIGKILLed`);
      await sleep(downS * 1000);
      await servicesUp(services);
      await setAppendFsync(services.redisUrl, fsync);
    },
  };
}

/** PostgreSQL `pg_ctl stop -m immediate` (no checkpoint: crash recovery at start), restarted after `downS`. */
export function pgImmediate(atS: number, downS = 3): Fault {
  return {
    atS,
    name: 'PostgreSQL immediate shutdown',
    ownServices: true,
    async run({ services, log }) {
      const { runDir, env } = ownServices(services);
      const { stdout } = await run('bash', ['-c', 'source scripts/lib.sh && ee_pg_bindir'], {
        cwd: REPO_ROOT,
        env,
      });
      const data = join(REPO_ROOT, runDir, 'pg', 'data');
      const asPg = process.getuid?.() === 0 ? ['runuser', '-u', 'postgres', '--'] : [];
      const cmd = [...asPg, join(stdout.trim(), 'pg_ctl'), '-D', data, '-m', 'immediate', '-w', 'stop'];
      await run(cmd[0], cmd.slice(1), { cwd: '/', timeout: 60000 });
      log('PostgreSQL stopped (immediate)');
      await sleep(downS * 1000);
      await servicesUp(services);
    },
  };
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
