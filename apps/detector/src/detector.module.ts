import { DynamicModule, Module } from '@nestjs/common';
import { DbModule, PG_POOL } from '@eagle-eye/db';
import { ObservabilityModule } from '@eagle-eye/observability';
import { RedisModule } from '@eagle-eye/redis';
import { RulesModule } from '@eagle-eye/rules';
import { Pool } from 'pg';
import { BacktestRunner } from './backtest/backtest-runner';
import { DetectorConfig, DETECTOR_CONFIG } from './config';
import { DetectorRuntime } from './detector.runtime';

@Module({})
export class DetectorModule {
  static forRoot(config: DetectorConfig): DynamicModule {
    return {
      module: DetectorModule,
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
      providers: [
        { provide: DETECTOR_CONFIG, useValue: config },
        DetectorRuntime,
        // backtests asked for in the console: connections of their own, one at a time
        {
          provide: BacktestRunner,
          useFactory: (pool: Pool) => new BacktestRunner(pool, process.env),
          inject: [PG_POOL],
        },
      ],
      exports: [DetectorRuntime],
    };
  }
}
