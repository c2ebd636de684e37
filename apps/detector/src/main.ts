import { assertPostgresReachable, assertProductionDatabaseAt } from '@eagle-eye/db';
import { runService } from '@eagle-eye/observability';
import { assertQueueRedisUsable, assertRedisReachable, redisTarget } from '@eagle-eye/redis';
import { DetectorConfigSchema } from './config';
import { DetectorModule } from './detector.module';

void runService({
  name: 'detector',
  schema: DetectorConfigSchema,
  module: (config) => DetectorModule.forRoot(config),
  httpPort: (config) => config.DETECTOR_HTTP_PORT,
  httpHost: (config) => config.DETECTOR_HTTP_HOST,
  preflight: async (config) => {
    await assertRedisReachable(redisTarget(config));
    await assertQueueRedisUsable(config);
    await assertPostgresReachable(config.DATABASE_URL);
    // NODE_ENV=production: no start with demo credentials or a connection that could erase the audit trail
    await assertProductionDatabaseAt(config.DATABASE_URL, { ...process.env, NODE_ENV: config.NODE_ENV });
  },
});
