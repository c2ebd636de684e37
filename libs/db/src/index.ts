export * from './db';
export * from './db.module';
export * from './migrate';
export * from './demo-seed';
