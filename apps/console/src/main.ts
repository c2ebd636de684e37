import { assertNoDemoCredentials, assertPostgresReachable, createPool } from '@eagle-eye/db';
import { runService } from '@eagle-eye/observability';
import { assertRedisReachable } from '@eagle-eye/redis';
import { ConsoleConfigSchema } from './config';
import { ConsoleModule } from './console.module';
import { buildOpenApi } from './openapi';

void runService({
  name: 'console',
  schema: ConsoleConfigSchema,
  module: (config) => ConsoleModule.forRoot(config),
  httpPort: (config) => config.CONSOLE_HTTP_PORT,
  httpHost: (config) => config.CONSOLE_HTTP_HOST,
  preflight: async (config) => {
    await assertRedisReachable(config.REDIS_URL);
    await assertPostgresReachable(config.DATABASE_URL);
    // NODE_ENV=production: no start while the published demo users or keys work in this database
    const pool = createPool(config.DATABASE_URL, { max: 1 });
    try {
      await assertNoDemoCredentials(pool, { ...process.env, NODE_ENV: config.NODE_ENV });
    } finally {
      await pool.end();
    }
  },
  afterListen: (app) => {
    buildOpenApi(app);
    return Promise.resolve();
  },
});
