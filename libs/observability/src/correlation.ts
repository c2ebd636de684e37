import { AsyncLocalStorage } from 'node:async_hooks';
import { randomUUID } from 'node:crypto';

const storage = new AsyncLocalStorage<{ correlationId: string }>();

/** Runs fn with a correlation id that every log line written inside it carries. */
export function withCorrelationId<T>(id: string | undefined, fn: () => T): T {
  return storage.run({ correlationId: id ?? randomUUID() }, fn);
}

export function currentCorrelationId(): string | undefined {
  return storage.getStore()?.correlationId;
}
