export * from './load-config';
export * from './production-guard';
export * from './dotenv';
export { z } from 'zod';
