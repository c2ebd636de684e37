export * from './db';
export * from './db.module';
export * from './migrate';
export * from './demo-seed';
export * from './app-role';
export * from './production-db';
