export * from './key-layout';
export * from './keys';
export * from './redis';
export * from './redis.module';
