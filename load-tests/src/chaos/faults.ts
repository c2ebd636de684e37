import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import Redis from 'ioredis';
import { REPO_ROOT } from '../processes';
import type { BenchStack, Services } from '../stack';

const run = promisify(execFile);

/** What a fault may touch: the stack's apps, and Redis/PostgreSQL when this run owns them. */
export interface FaultContext {
  stack: BenchStack;
  services: Services;
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

/** Sets Redis's AOF fsync policy (the restart reads deploy/redis/redis.conf: everysec). */
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
