import { z } from 'zod';

/** Thrown when the environment does not satisfy an app's schema; the message names each variable. */
export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration: ${problems.join('; ')}`);
    this.name = 'ConfigError';
  }
}

/**
 * Reads and validates the environment once. Unknown variables are ignored; every problem is
 * reported with the variable's name so an operator can fix it without reading code.
 */
export function loadConfig<S extends z.ZodObject>(
  schema: S,
  env: NodeJS.ProcessEnv = process.env,
): z.infer<S> {
  const result = schema.safeParse(env);
  if (result.success) return result.data;
  const problems = result.error.issues.map((issue) => {
    const name = issue.path.join('.') || '(environment)';
    const value = env[name];
    const got = value === undefined ? 'is not set' : `is ${JSON.stringify(value)}`;
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
  REDIS_URL: env.url(['redis', 'rediss'], 'redis://127.0.0.1:6390'),
  DATABASE_URL: env.url(
    ['postgres', 'postgresql'],
    'postgres://eagleeye:eagleeye-dev@127.0.0.1:5440/eagleeye',
  ),
  SHUTDOWN_TIMEOUT_MS: env.int(10000, 100, 120000),
});
export type BaseConfig = z.infer<typeof baseSchema>;
