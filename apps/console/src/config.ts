import { baseSchema, env, z } from '@eagle-eye/config';

export const ConsoleConfigSchema = baseSchema.extend({
  CONSOLE_HTTP_PORT: env.port(8080),
  CONSOLE_HTTP_HOST: env.string('127.0.0.1'),
  REDIS_KEY_PREFIX: env.string('ee'),
  CONSOLE_JWT_SECRET: env.secret(32),
  CONSOLE_JWT_TTL_S: env.int(28800, 60, 7 * 86400),
  /** how many missed alert changes one reconnect replays at most (then the client reloads the list) */
  CONSOLE_REPLAY_LIMIT: env.int(5000, 100, 100000),
  /** days a number added to the blacklist by a confirmed-fraud outcome stays there */
  CONSOLE_CONFIRMED_FRAUD_BLACKLIST_DAYS: env.int(90, 1, 3650),
});
export type ConsoleConfig = z.infer<typeof ConsoleConfigSchema>;
export const CONSOLE_CONFIG = Symbol('CONSOLE_CONFIG');

export const JWT_ISSUER = 'eagle-eye-console';
export const JWT_AUDIENCE = 'eagle-eye-console-users';
