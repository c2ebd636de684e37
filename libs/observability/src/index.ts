export * from './redact';
export * from './logging';
export * from './tracing';
export * from './metrics';
export * from './readiness';
export * from './health.controller';
export * from './observability.module';
export * from './bootstrap';
