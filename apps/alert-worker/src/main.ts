import { assertPostgresReachable, assertProductionDatabaseAt } from '@eagle-eye/db';
import { runService } from '@eagle-eye/observability';
import { assertQueueRedisUsable, assertRedisReachable, redisTarget } from '@eagle-eye/redis';
import { AlertWorkerConfigSchema } from './config';
import { AlertWorkerModule } from './alert-worker.module';

void runService({
  name: 'alert-worker',
  schema: AlertWorkerConfigSchema,
  module: (config) => AlertWorkerModule.forRoot(config),
  httpPort: (config) => config.ALERT_WORKER_HTTP_PORT,
  httpHost: (config) => config.ALERT_WORKER_HTTP_HOST,
  preflight: async (config) => {
    await assertRedisReachable(redisTarget(config));
    await assertQueueRedisUsable(config);
    await assertPostgresReachable(config.DATABASE_URL);
    // NODE_ENV=production: no start with demo credentials or a connection that could erase the audit trail
    await assertProductionDatabaseAt(config.DATABASE_URL, { ...process.env, NODE_ENV: config.NODE_ENV });
  },
});
