export * from './pseudonym';
export * from './cdr-import';
export * from './clear-number';
