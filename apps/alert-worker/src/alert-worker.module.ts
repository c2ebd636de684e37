import { DynamicModule, Module } from '@nestjs/common';
import { DbModule } from '@eagle-eye/db';
import { ObservabilityModule } from '@eagle-eye/observability';
import { RedisModule } from '@eagle-eye/redis';
import { AlertProcessor } from './alert.processor';
import { AlertPublisher } from './alert.publisher';
import { AlertQueues } from './alert.queues';
import { ALERT_WRITE_BATCH, AlertRepository } from './alert.repository';
import { AlertService } from './alert.service';
import { AlertWorkerConfig, ALERT_WORKER_CONFIG } from './config';
import { EscalationSweep } from './escalation.sweep';
import { RetentionService } from './retention/retention.service';

@Module({})
export class AlertWorkerModule {
  static forRoot(config: AlertWorkerConfig, opts: { dbSchema?: string } = {}): DynamicModule {
    return {
      module: AlertWorkerModule,
      imports: [
        ObservabilityModule,
        RedisModule.forRoot({
          url: config.REDIS_URL,
          clusterNodes: config.REDIS_CLUSTER_NODES,
          keyPrefix: config.REDIS_KEY_PREFIX,
          keyGroups: config.REDIS_KEY_GROUPS,
        }),
        DbModule.forRoot({ url: config.DATABASE_URL, schema: opts.dbSchema }),
      ],
      providers: [
        { provide: ALERT_WORKER_CONFIG, useValue: config },
        { provide: ALERT_WRITE_BATCH, useValue: config.ALERT_WORKER_WRITE_BATCH },
        AlertQueues,
        AlertRepository,
        AlertPublisher,
        AlertService,
        AlertProcessor,
        EscalationSweep,
        RetentionService,
      ],
    };
  }
}
