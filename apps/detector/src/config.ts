import { baseSchema, env, z } from '@eagle-eye/config';

export const DetectorConfigSchema = baseSchema.extend({
  DETECTOR_HTTP_PORT: env.port(9102),
  DETECTOR_HTTP_HOST: env.string('127.0.0.1'),
  REDIS_KEY_PREFIX: env.string('ee'),
});
export type DetectorConfig = z.infer<typeof DetectorConfigSchema>;
export const DETECTOR_CONFIG = Symbol('DETECTOR_CONFIG');
