import { assertPostgresReachable } from '@eagle-eye/db';
import { runService } from '@eagle-eye/observability';
import { assertRedisReachable, redisTarget } from '@eagle-eye/redis';
import { IngestConfigSchema } from './config';
import { IngestGrpcServer } from './grpc/ingest.grpc-server';
import { IngestModule } from './ingest.module';

void runService({
  name: 'ingest',
  schema: IngestConfigSchema,
  module: (config) => IngestModule.forRoot(config),
  httpPort: (config) => config.INGEST_HTTP_PORT,
  httpHost: (config) => config.INGEST_HTTP_HOST,
  preflight: async (config) => {
    await assertRedisReachable(redisTarget(config));
    await assertPostgresReachable(config.DATABASE_URL);
  },
  // The gRPC server starts once HTTP (health, metrics) listens; it stops first on shutdown.
  afterListen: async (app, config) => {
    try {
      await app.get(IngestGrpcServer).start();
    } catch (e) {
      process.stderr.write(
        `[ingest] cannot listen for gRPC on ${config.INGEST_GRPC_HOST}:${config.INGEST_GRPC_PORT}: ${(e as Error).message}\n`,
      );
      process.exit(4);
    }
  },
});
