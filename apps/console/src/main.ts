import { assertPostgresReachable, assertProductionDatabaseAt } from '@eagle-eye/db';
import { runService } from '@eagle-eye/observability';
import { assertQueueRedisUsable, assertRedisReachable, redisTarget } from '@eagle-eye/redis';
import { ConsoleConfigSchema } from './config';
import { ConsoleModule } from './console.module';
import { buildOpenApi } from './openapi';
import { assertOpsTokenInProduction } from './ops-guard';
import { ConsoleIoAdapter } from './socket-send-limit';

void runService({
  name: 'console',
  schema: ConsoleConfigSchema,
  module: (config) => ConsoleModule.forRoot(config),
  httpPort: (config) => config.CONSOLE_HTTP_PORT,
  httpHost: (config) => config.CONSOLE_HTTP_HOST,
  preflight: async (config) => {
    assertOpsTokenInProduction(config);
    await assertRedisReachable(redisTarget(config));
    await assertQueueRedisUsable(config);
    await assertPostgresReachable(config.DATABASE_URL);
    // NODE_ENV=production: no start while the published demo users or keys work in this database,
    // or while the connection could erase the audit trail
    await assertProductionDatabaseAt(config.DATABASE_URL, { ...process.env, NODE_ENV: config.NODE_ENV });
  },
  beforeListen: (app, config) => {
    app.useWebSocketAdapter(new ConsoleIoAdapter(app, config.CONSOLE_SOCKET_MAX_BUFFER_BYTES));
  },
  afterListen: (app) => {
    buildOpenApi(app);
    return Promise.resolve();
  },
});
