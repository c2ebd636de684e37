import { DynamicModule, Module } from '@nestjs/common';
import { DbModule } from '@eagle-eye/db';
import { ObservabilityModule } from '@eagle-eye/observability';
import { RedisModule } from '@eagle-eye/redis';
import { IngestConfig, INGEST_CONFIG } from './config';

@Module({})
export class IngestModule {
  static forRoot(config: IngestConfig): DynamicModule {
    return {
      module: IngestModule,
      imports: [
        ObservabilityModule,
        RedisModule.forRoot({ url: config.REDIS_URL, keyPrefix: config.REDIS_KEY_PREFIX }),
        DbModule.forRoot({ url: config.DATABASE_URL }),
      ],
      providers: [{ provide: INGEST_CONFIG, useValue: config }],
    };
  }
}
