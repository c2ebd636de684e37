export * from './redact';
export * from './correlation';
export * from './json-logger';
export * from './metrics';
export * from './readiness';
export * from './health.controller';
export * from './observability.module';
export * from './bootstrap';
