import { assertPostgresReachable } from '@eagle-eye/db';
import { runService } from '@eagle-eye/observability';
import { assertRedisReachable, redisTarget } from '@eagle-eye/redis';
import { SimulatorConfigSchema } from './config';
import { SimulatorModule } from './simulator.module';

void runService({
  name: 'simulator',
  schema: SimulatorConfigSchema,
  module: (config) => SimulatorModule.forRoot(config),
  httpPort: (config) => config.SIMULATOR_HTTP_PORT,
  httpHost: (config) => config.SIMULATOR_HTTP_HOST,
  preflight: async (config) => {
    await assertRedisReachable(redisTarget(config));
    await assertPostgresReachable(config.DATABASE_URL);
  },
});
