import { DynamicModule, Global, Inject, Injectable, OnApplicationShutdown } from '@nestjs/common';
import { Module } from '@nestjs/common';
import { Pool } from 'pg';
import { ReadinessRegistry } from '@eagle-eye/observability';
import { createPool } from './db';

export const PG_POOL = Symbol('PG_POOL');

@Injectable()
class DbLifecycle implements OnApplicationShutdown {
  constructor(
    @Inject(PG_POOL) private readonly pool: Pool,
    readiness: ReadinessRegistry,
  ) {
    readiness.register('postgres', async () => {
      await this.pool.query('SELECT 1');
    });
    // An idle client losing its connection must not crash the process; the next query reconnects.
    pool.on('error', () => undefined);
  }
  async onApplicationShutdown(): Promise<void> {
    await this.pool.end();
  }
}

@Global()
@Module({})
export class DbModule {
  static forRoot(options: { url: string; schema?: string; max?: number }): DynamicModule {
    return {
      module: DbModule,
      providers: [{ provide: PG_POOL, useFactory: () => createPool(options.url, options) }, DbLifecycle],
      exports: [PG_POOL],
    };
  }
}
