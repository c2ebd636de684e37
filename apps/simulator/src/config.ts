import { baseSchema, env, z } from '@eagle-eye/config';

export const SimulatorConfigSchema = baseSchema.extend({
  SIMULATOR_HTTP_PORT: env.port(9105),
  SIMULATOR_HTTP_HOST: env.string('127.0.0.1'),
  REDIS_KEY_PREFIX: env.string('ee'),
  SIMULATOR_INGEST_URL: env.string('127.0.0.1:50051'),
});
export type SimulatorConfig = z.infer<typeof SimulatorConfigSchema>;
export const SIMULATOR_CONFIG = Symbol('SIMULATOR_CONFIG');
