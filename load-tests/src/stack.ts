import { randomBytes } from 'node:crypto';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import Redis from 'ioredis';
import { apiKeyFor, createPool, DEMO_CARRIERS, migrate, seedDemo } from '@eagle-eye/db';
import { HANDOFF_DEFAULT_PARTITIONS } from '@eagle-eye/contracts';
import { assertLoopbackUrl } from './loopback';
import { Child, freePort, REPO_ROOT, startApp, waitForHttp } from './processes';

/**
 * The whole Eagle Eye stack for a benchmark run: ingest, detector (one or more replicas), alert
 * worker and console as built apps (the way `npm run stack` starts them), on free ports, on their
 * own Redis key prefix and PostgreSQL schema.
 */

export interface Services {
  redisUrl: string;
  /** the alerts queue's Redis when it has one of its own (QUEUE_REDIS_URL of the apps) */
  queueRedisUrl?: string;
  databaseUrl: string;
  /** the benchmark's own Redis/PostgreSQL under .run/bench (emptied at the start of a run) */
  private: boolean;
  /** true when this run started them (and stops them at the end) */
  owned: boolean;
  /** the private services' folder and scripts/services.sh environment (for a restart) */
  runDir?: string;
  env?: NodeJS.ProcessEnv;
  stop(): Promise<void>;
}

/**
 * Redis and PostgreSQL: the ones REDIS_URL/DATABASE_URL name (the smoke test's), or private ones
 * under .run/bench started with scripts/services.sh on ports of their own.
 */
export async function ensureServices(opts: {
  redisUrl?: string;
  databaseUrl?: string;
  redisPort: number;
  pgPort: number;
  /** a second Redis for the alerts queue: an existing one (with redisUrl), else a private one on this port */
  queueRedisUrl?: string;
  queueRedisPort?: number;
  /** folder of the private services, `.run/bench` unless given */
  runDir?: string;
  log: (s: string) => void;
}): Promise<Services> {
  if (opts.redisUrl && opts.databaseUrl) {
    assertLoopbackUrl(opts.redisUrl);
    assertLoopbackUrl(opts.databaseUrl);
    if (opts.queueRedisUrl) assertLoopbackUrl(opts.queueRedisUrl);
    return {
      redisUrl: opts.redisUrl,
      queueRedisUrl: opts.queueRedisUrl,
      databaseUrl: opts.databaseUrl,
      private: false,
      owned: false,
      stop: async () => undefined,
    };
  }
  const runDir = opts.runDir ?? '.run/bench';
  const env = {
    ...process.env,
    EE_RUN_DIR: runDir,
    EE_REDIS_PORT: String(opts.redisPort),
    EE_PG_PORT: String(opts.pgPort),
    EE_PG_DATABASE: 'eagleeye_bench',
    // services.sh starts (and stops) the queue's Redis too, with the same configuration
    ...(opts.queueRedisPort ? { EE_QUEUE_REDIS_PORT: String(opts.queueRedisPort) } : {}),
  };
  const run = promisify(execFile);
  const probe = new Redis(`redis://127.0.0.1:${opts.redisPort}`, {
    lazyConnect: true,
    retryStrategy: () => null,
  });
  probe.on('error', () => undefined);
  const alreadyUp = await probe.connect().then(
    () => true,
    () => false,
  );
  probe.disconnect();
  opts.log(
    `starting Redis :${opts.redisPort}${opts.queueRedisPort ? ` (and :${opts.queueRedisPort} for the alerts queue)` : ''} ` +
      `and PostgreSQL :${opts.pgPort} under ${runDir}`,
  );
  await run('bash', ['scripts/services.sh', 'up'], { cwd: REPO_ROOT, env, timeout: 180000 });
  return {
    redisUrl: `redis://127.0.0.1:${opts.redisPort}`,
    ...(opts.queueRedisPort ? { queueRedisUrl: `redis://127.0.0.1:${opts.queueRedisPort}` } : {}),
    databaseUrl: `postgres://eagleeye:eagleeye-dev@127.0.0.1:${opts.pgPort}/eagleeye_bench`,
    private: true,
    owned: !alreadyUp,
    runDir,
    env,
    stop: async () => {
      if (alreadyUp) return;
      await run('bash', ['scripts/services.sh', 'down'], { cwd: REPO_ROOT, env, timeout: 60000 });
    },
  };
}

export interface StackOptions {
  redisUrl: string;
  databaseUrl: string;
  /** Redis key prefix and PostgreSQL schema of this run */
  prefix: string;
  detectors: number;
  /** extra environment for every app */
  env?: Record<string, string>;
  log: (s: string) => void;
}

export interface AppHandle {
  app: string;
  name: string;
  child: Child;
  httpPort: number;
  /** the environment it was started with (a restart reuses it, ports included) */
  env: Record<string, string>;
}

export class BenchStack {
  readonly apps: AppHandle[] = [];
  grpcPort = 0;
  consoleUrl = '';
  readonly apiKey = apiKeyFor(DEMO_CARRIERS[0].keyId, DEMO_CARRIERS[0].secret);
  readonly carrierId: string = DEMO_CARRIERS[0].id;
  readonly partitions = HANDOFF_DEFAULT_PARTITIONS;
  private appDbUrl = '';
  private readonly jwtSecret = randomBytes(32).toString('hex');
  private detectorSeq = 0;
  /** each app's environment as first started (setEnv switches back to it) */
  private readonly startedEnv = new Map<AppHandle, Record<string, string>>();

  constructor(readonly o: StackOptions) {}

  get schema(): string {
    return this.o.prefix.toLowerCase().replace(/[^a-z0-9_]/g, '_');
  }

  async start(): Promise<void> {
    const pool = createPool(this.o.databaseUrl, { max: 1 });
    try {
      await migrate(pool, { schema: this.schema });
    } finally {
      await pool.end();
    }
    const seedPool = createPool(this.o.databaseUrl, { schema: this.schema, max: 1 });
    try {
      await seedDemo(seedPool);
    } finally {
      await seedPool.end();
    }
    const u = new URL(this.o.databaseUrl);
    u.searchParams.set('options', `-c search_path=${this.schema}`);
    this.appDbUrl = u.toString();
    this.grpcPort = await freePort();
    await this.startApp('ingest', 'ingest', 'INGEST_HTTP_PORT', { INGEST_GRPC_PORT: String(this.grpcPort) });
    for (let i = 0; i < this.o.detectors; i++) await this.addDetector();
    await this.startApp('alert-worker', 'alert-worker', 'ALERT_WORKER_HTTP_PORT', {});
    const c = await this.startApp('console', 'console', 'CONSOLE_HTTP_PORT', {});
    this.consoleUrl = `http://127.0.0.1:${c.httpPort}`;
  }

  private async startApp(
    app: string,
    name: string,
    portVar: string,
    extra: Record<string, string>,
  ): Promise<AppHandle> {
    const httpPort = await freePort();
    const env = {
      NODE_ENV: 'production',
      // a throw-away stack on the development database password and demo carriers
      EE_ALLOW_DEMO_IN_PRODUCTION: 'true',
      REDIS_URL: this.o.redisUrl,
      DATABASE_URL: this.appDbUrl,
      REDIS_KEY_PREFIX: this.o.prefix,
      CONSOLE_JWT_SECRET: this.jwtSecret,
      [portVar]: String(httpPort),
      ...this.o.env,
      ...extra,
    };
    const h: AppHandle = { app, name, child: startApp(app, name, env), httpPort, env };
    this.apps.push(h);
    await this.waitReady(h);
    return h;
  }

  private async waitReady(h: AppHandle, timeoutMs = 60000): Promise<void> {
    await waitForHttp(`http://127.0.0.1:${h.httpPort}/readyz`, h.child, timeoutMs);
    this.o.log(`${h.name} ready (pid ${h.child.proc.pid}, http :${h.httpPort})`);
  }

  app(name: string): AppHandle {
    const h = this.apps.find((a) => a.name === name);
    if (!h) throw new Error(`no app ${name} in this stack (${this.apps.map((a) => a.name).join(', ')})`);
    return h;
  }

  /** SIGKILLs an app: no shutdown hook runs, whatever it was doing is cut off. */
  async kill(name: string): Promise<void> {
    const h = this.app(name);
    h.child.proc.kill('SIGKILL');
    await h.child.exited;
  }

  /** Freezes (SIGSTOP) or thaws (SIGCONT) an app: a frozen app does nothing until thawed or killed. */
  freeze(name: string, frozen: boolean): void {
    this.app(name).child.proc.kill(frozen ? 'SIGSTOP' : 'SIGCONT');
  }

  /** Starts a stopped app again with the same environment and ports; resolves once it is ready. */
  async restart(name: string, timeoutMs?: number): Promise<void> {
    const h = this.app(name);
    h.child = startApp(h.app, h.name, h.env);
    await this.waitReady(h, timeoutMs);
  }

  /**
   * Restarts (SIGTERM, then start again, ready) the apps `vars` are for, with them set (`on`) or as
   * the apps were first started: DETECTOR_* the detectors, ALERT_* the alert worker, CONSOLE_* the
   * console, INGEST_* ingest, any other name every app. Returns the names of the apps restarted.
   */
  async setEnv(vars: Record<string, string>, on: boolean): Promise<string[]> {
    const owner: [string, string][] = [
      ['DETECTOR_', 'detector'],
      ['ALERT_', 'alert-worker'],
      ['CONSOLE_', 'console'],
      ['INGEST_', 'ingest'],
    ];
    const apps = new Set<string>();
    for (const k of Object.keys(vars)) {
      const o = owner.find(([prefix]) => k.startsWith(prefix));
      if (o) apps.add(o[1]);
      else for (const a of this.apps) apps.add(a.app);
    }
    const restarted: string[] = [];
    for (const h of this.apps.filter((a) => apps.has(a.app))) {
      const base = (this.startedEnv.get(h) ?? { ...h.env }) as Record<string, string>;
      this.startedEnv.set(h, base);
      await h.child.stop();
      h.env = on ? { ...base, ...vars } : { ...base };
      h.child = startApp(h.app, h.name, h.env);
      await this.waitReady(h);
      restarted.push(h.name);
    }
    return restarted;
  }

  /** Starts one more detector replica (same consumer group, its own consumer name). */
  async addDetector(): Promise<void> {
    const n = ++this.detectorSeq;
    await this.startApp('detector', `detector-${n}`, 'DETECTOR_HTTP_PORT', {
      DETECTOR_CONSUMER_NAME: `bench-${n}`,
    });
  }

  /** Stops every detector replica (the hand-off backlog then grows untouched). */
  async stopDetectors(): Promise<void> {
    const ds = this.apps.filter((a) => a.app === 'detector');
    await Promise.all(ds.map((d) => d.child.stop()));
    for (const d of ds) this.apps.splice(this.apps.indexOf(d), 1);
  }

  metricsUrl(h: AppHandle): string {
    return `http://127.0.0.1:${h.httpPort}/metrics`;
  }

  detectorMetricsUrls(): string[] {
    return this.apps.filter((a) => a.app === 'detector').map((a) => this.metricsUrl(a));
  }

  ingestMetricsUrls(): string[] {
    return this.apps.filter((a) => a.app === 'ingest').map((a) => this.metricsUrl(a));
  }

  /** An app that exited under load is a finding, not something to hide. */
  assertAlive(): void {
    for (const a of this.apps) {
      if (a.child.proc.exitCode !== null || a.child.proc.signalCode !== null) {
        throw new Error(
          `${a.name} exited (${a.child.proc.exitCode ?? a.child.proc.signalCode}): ${a.child.output().slice(-1500)}`,
        );
      }
    }
  }

  async stop(): Promise<void> {
    await Promise.all(this.apps.map((a) => a.child.stop()));
    this.apps.length = 0;
  }

  /** Drops the run's schema and keys (for a shared Redis/PostgreSQL). */
  async cleanup(): Promise<void> {
    const pool = createPool(this.o.databaseUrl, { max: 1 });
    try {
      await pool.query(`DROP SCHEMA IF EXISTS ${this.schema} CASCADE`);
    } finally {
      await pool.end();
    }
  }
}
