export * from './services';
export * from './apps';
