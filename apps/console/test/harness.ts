import { randomBytes } from 'node:crypto';
import { Queue } from 'bullmq';
import Redis from 'ioredis';
import { io, Socket } from 'socket.io-client';
import {
  ALERTS_DEAD_LETTER_QUEUE,
  ALERT_BATCH_JOB,
  ALERT_JOB_OPTIONS,
  AlertBatchItem,
  AlertBatchJob,
  alertBatchJobId,
  AlertJobName,
  AlertView,
  alertJobId,
  QueueName,
  SuspectNumberJob,
  VictimOnCallJob,
} from '@eagle-eye/contracts';
import { seedDemo } from '@eagle-eye/db';
import { RedisKeys } from '@eagle-eye/redis';
import {
  createTestSchema,
  dropRedisPrefix,
  freePort,
  RunningApp,
  spawnApp,
  TestSchema,
  testRedisUrl,
  uniqueId,
  waitForHttp,
} from '@eagle-eye/testing';

export const JWT_SECRET = 'e2e-console-secret-e2e-console-secret-000';

/** A test stack: its own schema (seeded demo users), key prefix, console and alert worker. */
export class Stack {
  db!: TestSchema;
  prefix = uniqueId('e');
  redis!: Redis;
  queue!: Queue;
  /** the worker's dead-letter queue (alerts-dead-letter) */
  deadQueue!: Queue;
  console?: RunningApp;
  worker?: RunningApp;
  consolePort = 0;
  workerPort = 0;

  async start(
    opts: { worker?: boolean; workerEnv?: Record<string, string>; consoleEnv?: Record<string, string> } = {},
  ) {
    // the apps connect as the app role, as in production (owns nothing, appends to the audit log)
    this.db = await createTestSchema({ appRole: true });
    await seedDemo(this.db.pool);
    this.redis = new Redis(testRedisUrl(), { maxRetriesPerRequest: null });
    this.queue = new Queue(QueueName.Alerts, {
      connection: this.redis,
      prefix: new RedisKeys(this.prefix).bullPrefix(),
    });
    this.deadQueue = new Queue(ALERTS_DEAD_LETTER_QUEUE, {
      connection: this.redis,
      prefix: new RedisKeys(this.prefix).bullPrefix(),
    });
    this.consolePort = await freePort();
    this.console = spawnApp('console', {
      ...this.env(),
      CONSOLE_HTTP_PORT: String(this.consolePort),
      CONSOLE_JWT_SECRET: JWT_SECRET,
      CONSOLE_JWT_TTL_S: '600',
      ...opts.consoleEnv,
    });
    await waitForHttp(`${this.url}/readyz`, this.console);
    if (opts.worker !== false) await this.startWorker(opts.workerEnv);
  }

  env(): Record<string, string> {
    return {
      REDIS_URL: testRedisUrl(),
      DATABASE_URL: this.db.appUrl!,
      REDIS_KEY_PREFIX: this.prefix,
      NODE_ENV: 'test',
    };
  }

  async startWorker(extra: Record<string, string> = {}): Promise<RunningApp> {
    this.workerPort = this.workerPort || (await freePort());
    this.worker = spawnApp('alert-worker', {
      ...this.env(),
      ALERT_WORKER_HTTP_PORT: String(this.workerPort),
      ...extra,
    });
    await waitForHttp(`http://127.0.0.1:${this.workerPort}/readyz`, this.worker);
    return this.worker;
  }

  get url(): string {
    return `http://127.0.0.1:${this.consolePort}`;
  }

  async stop(): Promise<void> {
    await this.worker?.stop();
    await this.console?.stop();
    await this.queue?.close();
    await this.deadQueue?.close();
    if (this.redis) {
      await dropRedisPrefix(this.redis, this.prefix);
      this.redis.disconnect();
    }
    await this.db?.drop();
  }

  async login(username: string, password: string): Promise<string> {
    const res = await fetch(`${this.url}/api/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username, password }),
    });
    if (res.status !== 200) throw new Error(`login ${username}: ${res.status} ${await res.text()}`);
    return ((await res.json()) as { token: string }).token;
  }

  async api(
    token: string | null,
    method: string,
    path: string,
    body?: unknown,
    // eslint-disable-next-line @typescript-eslint/no-explicit-any -- tests read loosely typed JSON bodies
  ): Promise<{ status: number; body: any }> {
    const res = await fetch(`${this.url}${path}`, {
      method,
      headers: {
        ...(token ? { authorization: `Bearer ${token}` } : {}),
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      },
      body: body !== undefined ? JSON.stringify(body) : undefined,
    });
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = JSON.parse(text);
    } catch {
      // not JSON
    }
    return { status: res.status, body: parsed };
  }

  async enqueueVictim(overrides: Partial<VictimOnCallJob> = {}): Promise<VictimOnCallJob> {
    const job = victimJob(overrides);
    await this.queue.add(AlertJobName.VictimOnCall, job, {
      ...ALERT_JOB_OPTIONS,
      jobId: alertJobId(AlertJobName.VictimOnCall, job),
    });
    return job;
  }

  async enqueueSuspect(overrides: Partial<SuspectNumberJob> = {}): Promise<SuspectNumberJob> {
    const job = suspectJob(overrides);
    await this.queue.add(AlertJobName.SuspectNumber, job, {
      ...ALERT_JOB_OPTIONS,
      jobId: alertJobId(AlertJobName.SuspectNumber, job),
    });
    return job;
  }

  /** One alert-batch job carrying these items, as the detector sends a round's alerts. */
  async enqueueBatch(items: AlertBatchItem[], opts: { attempts?: number } = {}): Promise<string> {
    const data: AlertBatchJob = { items };
    const jobId = alertBatchJobId(items);
    await this.queue.add(ALERT_BATCH_JOB, data, {
      ...ALERT_JOB_OPTIONS,
      ...(opts.attempts ? { attempts: opts.attempts, backoff: { type: 'fixed', delay: 100 } } : {}),
      jobId,
    });
    return jobId;
  }

  async alertRows(
    where = 'TRUE',
    params: unknown[] = [],
  ): Promise<{ id: string; call_id: string; state: string }[]> {
    return (
      await this.db.pool.query(
        `SELECT id::text, call_id, state FROM alerts WHERE ${where} ORDER BY id`,
        params,
      )
    ).rows;
  }
}

/** A victim-on-call job of carrier-a for a new call, three minutes into it. */
export function victimJob(overrides: Partial<VictimOnCallJob> = {}): VictimOnCallJob {
  const now = Date.now();
  return {
    kind: 'victim_on_call',
    carrierId: 'carrier-a',
    callId: uniqueId('call'),
    victim: token(),
    suspect: token(),
    region: '510100',
    severity: 'warning',
    score: 70,
    reasons: [
      { rule: 'fanout', points: 30, text: 'called 143 different people in the last hour' },
      { rule: 'long_answered', points: 40, text: 'the call has lasted more than 3 minutes' },
    ],
    callAnsweredAt: now - 200_000,
    stepS: 180,
    eventTimeMs: now - 50,
    raisedAt: now,
    ...overrides,
  };
}

/** A critical suspect-number job of carrier-b. */
export function suspectJob(overrides: Partial<SuspectNumberJob> = {}): SuspectNumberJob {
  const now = Date.now();
  return {
    kind: 'suspect_number',
    carrierId: 'carrier-b',
    suspect: token(),
    region: '510700',
    severity: 'critical',
    score: 120,
    reasons: [{ rule: 'sim_farm', points: 30, text: 'handset seen with 9 SIMs this week' }],
    eventTimeMs: now,
    raisedAt: now,
    ...overrides,
  };
}

/** A well-formed pseudonym token (random digest). */
export function token(): string {
  return `p1.k1.${randomBytes(16).toString('base64url').slice(0, 22)}`;
}

/** A logged-in socket.io client that records every alert event it receives. */
export class Client {
  socket: Socket;
  events: { event: 'alert.created' | 'alert.updated'; alert: AlertView }[] = [];
  lastSeq = 0;
  /** reasons the server gave for ending the session (`session.ended`) */
  ended: string[] = [];
  /** why the socket was closed, once it was */
  disconnectReason?: string;

  constructor(url: string, tokenValue: string, lastSeq?: number) {
    if (lastSeq !== undefined) this.lastSeq = lastSeq;
    this.socket = io(`${url}/alerts`, {
      transports: ['websocket'],
      reconnection: false,
      auth: (cb) => cb(this.lastSeq ? { token: tokenValue, lastSeq: this.lastSeq } : { token: tokenValue }),
    });
    this.socket.on('session.ended', (d: { reason: string }) => this.ended.push(d.reason));
    this.socket.on('disconnect', (reason) => (this.disconnectReason = reason));
    for (const event of ['alert.created', 'alert.updated'] as const) {
      this.socket.on(event, (alert: AlertView) => {
        this.events.push({ event, alert });
        this.lastSeq = Math.max(this.lastSeq, alert.seq);
      });
    }
  }

  connected(): Promise<void> {
    return new Promise((resolve, reject) => {
      if (this.socket.connected) return resolve();
      this.socket.once('connect', () => resolve());
      this.socket.once('connect_error', reject);
    });
  }

  created(): AlertView[] {
    return this.events.filter((e) => e.event === 'alert.created').map((e) => e.alert);
  }

  close(): void {
    this.socket.disconnect();
  }
}

export async function until<T>(
  fn: () => T | Promise<T>,
  what: string,
  timeoutMs = 15000,
): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v as NonNullable<T>;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
