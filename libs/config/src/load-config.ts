import { z } from 'zod';
import { enforceProduction, printable, productionProblems } from './production-guard';

import { ConfigError } from './config-error';
import { loadDotEnv } from './dotenv';

export { ConfigError };

/**
 * Reads and validates the environment once. Unknown variables are ignored; every problem is
 * reported with the variable's name so an operator can fix it without reading code (secret
 * values are never printed, passwords in URLs are masked). With NODE_ENV=production a variable
 * holding a known demo value is a problem too (production-guard.ts). Reading the process's own
 * environment, a local `.env` file fills in what the environment leaves unset (dotenv.ts).
 */
export function loadConfig<S extends z.ZodObject>(
  schema: S,
  env: NodeJS.ProcessEnv = process.env,
): z.infer<S> {
  // the process's own environment first takes in a local .env (dotenv.ts); an explicit env does not
  if (env === process.env) loadDotEnv(env);
  // NODE_ENV=production: a variable holding a known demo value refuses the start (production-guard.ts)
  const result = schema.safeParse(env);
  if (result.success) {
    enforceProduction(productionProblems(result.data as Record<string, unknown>), env);
    return result.data;
  }
  const problems = result.error.issues.map((issue) => {
    const name = issue.path.join('.') || '(environment)';
    const value = env[name];
    const got = value === undefined ? 'is not set' : `is ${printable(name, value)}`;
    return `${name} ${got}: ${issue.message}`;
  });
  throw new ConfigError(problems);
}

/** Helpers for the common kinds of environment value. */
export const env = {
  port: (def: number) => z.coerce.number().int().min(1).max(65535).default(def),
  int: (def: number, min = 0, max = Number.MAX_SAFE_INTEGER) =>
    z.coerce.number().int().min(min).max(max).default(def),
  number: (def: number) => z.coerce.number().finite().default(def),
  bool: (def: boolean) =>
    z
      .enum(['true', 'false', '1', '0', 'yes', 'no'])
      .default(def ? 'true' : 'false')
      .transform((v) => v === 'true' || v === '1' || v === 'yes'),
  url: (protocols: string[], def?: string) => {
    const base = z.string().refine(
      (v) => {
        try {
          return protocols.includes(new URL(v).protocol.replace(/:$/, ''));
        } catch {
          return false;
        }
      },
      { message: `must be a URL with scheme ${protocols.join(' or ')}` },
    );
    return def === undefined ? base : base.default(def);
  },
  string: (def?: string) => (def === undefined ? z.string().min(1) : z.string().min(1).default(def)),
  secret: (minLength: number) =>
    z.string({ message: 'is required (a secret, no default)' }).min(minLength, {
      message: `must be at least ${minLength} characters`,
    }),
};

/** Variables every service shares: where Redis and Postgres are, how to log. */
export const baseSchema = z.object({
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  LOG_LEVEL: z.enum(['debug', 'info', 'warn', 'error']).default('info'),
  LOG_FORMAT: z.enum(['json', 'pretty']).default('json'),
  /**
   * OpenTelemetry collector (OTLP over HTTP, spans go to `<endpoint>/v1/traces`); unset: traces
   * are not exported (trace ids still reach the logs, hand-offs, alert jobs and alerts)
   */
  OTEL_EXPORTER_OTLP_ENDPOINT: env.url(['http', 'https']).optional(),
  REDIS_URL: env.url(['redis', 'rediss'], 'redis://127.0.0.1:6390'),
  /**
   * Redis Cluster: comma-separated host:port of some of its nodes (the client learns the rest);
   * every app then uses a cluster client, and REDIS_URL gives only the user, password and scheme
   * (rediss = TLS) of every node. Unset: the single Redis of REDIS_URL
   */
  REDIS_CLUSTER_NODES: z
    .string()
    .refine((v) => v.split(',').every((n) => /^\s*(\[[^\]]+\]|[^\s:,[\]]+):\d{1,5}\s*$/.test(n)), {
      message: 'must be a comma-separated list of host:port',
    })
    .optional(),
  /**
   * a Redis server of its own for the BullMQ alerts queue (the detector's alert jobs, the alert
   * worker and its dead letters, the console's dead-letter admin), apart from the
   * state Redis, so that queue commands do not wait behind the detector's scripts. A single server
   * only (a cluster node is refused at start); give it the AOF/fsync policy of the state Redis
   * (deploy/redis/redis.conf). Unset: the queue stays on REDIS_URL / REDIS_CLUSTER_NODES
   */
  QUEUE_REDIS_URL: env.url(['redis', 'rediss']).optional(),
  /**
   * key groups of the per-number and per-handset Redis keys (hash tags `{g<k>}`): one detector
   * script call applies a round's events of one group. The same in every app; changing it moves
   * the keys (the detector does it at start, a scan page at a time: about 20,000 keys/s on one
   * server). Every group costs each round's scripts a call of their own (16 against 64: Redis's
   * CPU per event 6-10 µs lower at 5,000 events/s); on Redis Cluster keep it several times the
   * number of masters
   */
  REDIS_KEY_GROUPS: env.int(16, 1, 16384),
  DATABASE_URL: env.url(
    ['postgres', 'postgresql'],
    'postgres://eagleeye:eagleeye-dev@127.0.0.1:5440/eagleeye',
  ),
  SHUTDOWN_TIMEOUT_MS: env.int(10000, 100, 120000),
  /**
   * V8's allocation-site pretenuring (its default): objects from a place in the code whose objects
   * have mostly outlived a young-generation collection are then made in the old generation. The
   * apps' per-batch objects live about as long as a round or a batch, so pretenured ones filled
   * the old generation with garbage (the detector's grew 17 MB a second at 5,000 events/s, against
   * 4.5 without it) and made every scavenge slower. Off unless set (docs/performance-log.md)
   */
  V8_ALLOCATION_SITE_PRETENURING: env.bool(false),
});
export type BaseConfig = z.infer<typeof baseSchema>;

/** `npm run migrate` and the demo seed: who runs the migrations, and which role the apps use. */
export const migrationSchema = baseSchema.extend({
  /**
   * connection of the schema's owner, for migrations (the apps' DATABASE_URL then names the app
   * role); unset: DATABASE_URL migrates (a single-role development database)
   */
  DATABASE_MIGRATION_URL: env.url(['postgres', 'postgresql']).optional(),
  /**
   * role granted the apps' privileges after each migration run (append-only audit log, history,
   * notes; owns nothing); unset: the user of DATABASE_URL when DATABASE_MIGRATION_URL is set, else none
   */
  DATABASE_APP_ROLE: z
    .string()
    .regex(/^[a-z_][a-z0-9_]{0,62}$/, 'must be a plain lower-case role name')
    .optional(),
});
export type MigrationConfig = z.infer<typeof migrationSchema>;

/** The migration connection and the app role to grant, from a MigrationConfig. */
export function migrationTarget(cfg: MigrationConfig): { url: string; appRole?: string } {
  const url = cfg.DATABASE_MIGRATION_URL ?? cfg.DATABASE_URL;
  let appRole = cfg.DATABASE_APP_ROLE;
  if (!appRole && cfg.DATABASE_MIGRATION_URL) {
    const user = decodeURIComponent(new URL(cfg.DATABASE_URL).username);
    if (user && user !== decodeURIComponent(new URL(url).username)) appRole = user;
  }
  return appRole ? { url, appRole } : { url };
}
