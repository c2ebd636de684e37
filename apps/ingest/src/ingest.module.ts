import { DynamicModule, Module } from '@nestjs/common';
import { DbModule } from '@eagle-eye/db';
import { ObservabilityModule } from '@eagle-eye/observability';
import { RedisModule } from '@eagle-eye/redis';
import { CarrierAuthenticator } from './auth/carrier.authenticator';
import { CarrierCredentialsRepository } from './auth/carrier-credentials.repository';
import { IngestConfig, INGEST_CONFIG } from './config';
import { IngestGrpcServer } from './grpc/ingest.grpc-server';
import { BacklogMonitor } from './handoff/backlog.monitor';
import { HandoffRepository } from './handoff/handoff.repository';
import { IngestService } from './ingest.service';

@Module({})
export class IngestModule {
  static forRoot(config: IngestConfig): DynamicModule {
    return {
      module: IngestModule,
      imports: [
        ObservabilityModule,
        RedisModule.forRoot({
          url: config.REDIS_URL,
          clusterNodes: config.REDIS_CLUSTER_NODES,
          keyPrefix: config.REDIS_KEY_PREFIX,
          keyGroups: config.REDIS_KEY_GROUPS,
        }),
        DbModule.forRoot({ url: config.DATABASE_URL }),
      ],
      providers: [
        { provide: INGEST_CONFIG, useValue: config },
        CarrierCredentialsRepository,
        CarrierAuthenticator,
        HandoffRepository,
        BacklogMonitor,
        IngestService,
        IngestGrpcServer,
      ],
      exports: [IngestGrpcServer],
    };
  }
}
