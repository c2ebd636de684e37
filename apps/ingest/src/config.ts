import { baseSchema, env, z } from '@eagle-eye/config';

export const IngestConfigSchema = baseSchema.extend({
  INGEST_HTTP_PORT: env.port(9101),
  INGEST_HTTP_HOST: env.string('127.0.0.1'),
  REDIS_KEY_PREFIX: env.string('ee'),
  INGEST_GRPC_PORT: env.port(50051),
  INGEST_GRPC_HOST: env.string('127.0.0.1'),
});
export type IngestConfig = z.infer<typeof IngestConfigSchema>;
export const INGEST_CONFIG = Symbol('INGEST_CONFIG');
