import { baseSchema, env, z } from '@eagle-eye/config';

export const AlertWorkerConfigSchema = baseSchema.extend({
  ALERT_WORKER_HTTP_PORT: env.port(9103),
  ALERT_WORKER_HTTP_HOST: env.string('127.0.0.1'),
  REDIS_KEY_PREFIX: env.string('ee'),
  /** jobs processed at once; writes serialise on the change sequence, so a few are plenty */
  ALERT_WORKER_CONCURRENCY: env.int(4, 1, 64),
  /** an alert no carrier operator has claimed within this time goes to the police of its region */
  ALERT_ESCALATE_AFTER_S: env.int(300, 1, 86400),
  /** how long a job stays locked to a worker; a killed worker's jobs are retried after it */
  ALERT_WORKER_LOCK_MS: env.int(30000, 1000, 600000),
  ALERT_WORKER_STALLED_INTERVAL_MS: env.int(15000, 500, 600000),
  /** fault injection for the crash test (NODE_ENV=test only): wait this long between commit and publish */
  ALERT_WORKER_TEST_PAUSE_AFTER_COMMIT_MS: env.int(0, 0, 60000),
});
export type AlertWorkerConfig = z.infer<typeof AlertWorkerConfigSchema>;
export const ALERT_WORKER_CONFIG = Symbol('ALERT_WORKER_CONFIG');
