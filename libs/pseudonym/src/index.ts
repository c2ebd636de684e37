export * from './pseudonym';
export * from './cdr-import';
