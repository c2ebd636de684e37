import { assertPostgresReachable } from '@eagle-eye/db';
import { runService } from '@eagle-eye/observability';
import { assertRedisReachable } from '@eagle-eye/redis';
import { IngestConfigSchema } from './config';
import { IngestModule } from './ingest.module';

void runService({
  name: 'ingest',
  schema: IngestConfigSchema,
  module: (config) => IngestModule.forRoot(config),
  httpPort: (config) => config.INGEST_HTTP_PORT,
  httpHost: (config) => config.INGEST_HTTP_HOST,
  preflight: async (config) => {
    await assertRedisReachable(config.REDIS_URL);
    await assertPostgresReachable(config.DATABASE_URL);
  },
});
