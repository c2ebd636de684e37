import { DynamicModule, Module } from '@nestjs/common';
import { DbModule } from '@eagle-eye/db';
import { ObservabilityModule } from '@eagle-eye/observability';
import { RedisModule } from '@eagle-eye/redis';
import { RulesModule } from '@eagle-eye/rules';
import { SimulatorConfig, SIMULATOR_CONFIG } from './config';
import { SimulatorService } from './simulator.service';

@Module({})
export class SimulatorModule {
  static forRoot(config: SimulatorConfig): DynamicModule {
    return {
      module: SimulatorModule,
      imports: [
        ObservabilityModule,
        RedisModule.forRoot({
          url: config.REDIS_URL,
          clusterNodes: config.REDIS_CLUSTER_NODES,
          keyPrefix: config.REDIS_KEY_PREFIX,
          keyGroups: config.REDIS_KEY_GROUPS,
        }),
        DbModule.forRoot({ url: config.DATABASE_URL }),
        RulesModule,
      ],
      providers: [{ provide: SIMULATOR_CONFIG, useValue: config }, SimulatorService],
    };
  }
}
