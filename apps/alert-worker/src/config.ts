import { baseSchema, env, z } from '@eagle-eye/config';

export const AlertWorkerConfigSchema = baseSchema.extend({
  ALERT_WORKER_HTTP_PORT: env.port(9103),
  ALERT_WORKER_HTTP_HOST: env.string('127.0.0.1'),
  REDIS_KEY_PREFIX: env.string('ee'),
});
export type AlertWorkerConfig = z.infer<typeof AlertWorkerConfigSchema>;
export const ALERT_WORKER_CONFIG = Symbol('ALERT_WORKER_CONFIG');
