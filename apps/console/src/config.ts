import { baseSchema, env, z } from '@eagle-eye/config';

export const ConsoleConfigSchema = baseSchema.extend({
  CONSOLE_HTTP_PORT: env.port(8080),
  CONSOLE_HTTP_HOST: env.string('127.0.0.1'),
  REDIS_KEY_PREFIX: env.string('ee'),
  CONSOLE_JWT_SECRET: env.secret(32),
  CONSOLE_JWT_TTL_S: env.int(28800, 60, 7 * 86400),
});
export type ConsoleConfig = z.infer<typeof ConsoleConfigSchema>;
export const CONSOLE_CONFIG = Symbol('CONSOLE_CONFIG');
