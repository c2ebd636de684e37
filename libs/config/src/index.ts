export * from './load-config';
export * from './production-guard';
export { z } from 'zod';
