export * from './key-layout';
export * from './keys';
export * from './pipelines';
export * from './redis';
export * from './redis.module';
export * from './queue-redis';
