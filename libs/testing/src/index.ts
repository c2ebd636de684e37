export * from './services';
export * from './apps';
export * from './cluster';
