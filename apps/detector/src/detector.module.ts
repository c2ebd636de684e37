import { DynamicModule, Module, Provider } from '@nestjs/common';
import Redis from 'ioredis';
import { DbModule, PG_POOL } from '@eagle-eye/db';
import { ObservabilityModule, ReadinessRegistry } from '@eagle-eye/observability';
import { createQueueConnection, REDIS, RedisClient, RedisKeys, RedisModule } from '@eagle-eye/redis';
import { CallerModelsRepository, RulesModule, RulesRepository } from '@eagle-eye/rules';
import { Pool } from 'pg';
import { BacktestRunner } from './backtest/backtest-runner';
import {
  callerWindows,
  detectionOptions,
  DetectorConfig,
  DETECTOR_CONFIG,
  scriptRequestArgs,
} from './config';
import { AlertPublisher } from './detection/alert.publisher';
import { DetectionService } from './detection/detection.service';
import { ALERT_QUEUE_CONNECTION, DetectorRuntime } from './detector.runtime';
import { EventClock } from './handoff/event-clock';
import { HandoffConsumer } from './handoff/handoff.consumer';
import { PartitionLeases } from './handoff/partition-leases';
import { DetectorScripts } from './lua/detector-scripts';
import { AlertJobs } from './pipeline/alert-jobs';
import { CalleeStage } from './pipeline/callee.stage';
import { CallerStage } from './pipeline/caller.stage';
import { SweepStage } from './pipeline/sweep.stage';
import { ALERT_SINK, CALLER_STATES, MODEL_SOURCE, RULE_SOURCE } from './pipeline/work';
import { RulesCache } from './rules/rules-cache';
import { ModelRegistry } from './scoring/model-registry';
import { CallerStates, createCallerStates } from './windows/caller-states';
import { WindowsRepository } from './windows/windows.repository';

/**
 * The detector's parts as providers: factories where configuration is needed, the pipeline's
 * stages by their classes (createDetection builds the same graph for what runs outside Nest).
 */
function detectorProviders(config: DetectorConfig): Provider[] {
  return [
    { provide: DETECTOR_CONFIG, useValue: config },
    {
      provide: DetectorScripts,
      useFactory: (redis: RedisClient) => new DetectorScripts(redis, scriptRequestArgs(config)),
      inject: [REDIS],
    },
    {
      provide: RulesCache,
      useFactory: (repo: RulesRepository, pool: Pool) =>
        new RulesCache(repo, pool, config.DETECTOR_RULES_CHECK_MS),
      inject: [RulesRepository, PG_POOL],
    },
    {
      provide: ModelRegistry,
      useFactory: (repo: CallerModelsRepository) =>
        new ModelRegistry(repo, config.DETECTOR_MODEL_PATH || undefined),
      inject: [CallerModelsRepository],
    },
    {
      // the alerts queue's Redis: QUEUE_REDIS_URL, else the state Redis
      provide: ALERT_QUEUE_CONNECTION,
      useFactory: (readiness: ReadinessRegistry) => createQueueConnection(config, readiness),
      inject: [ReadinessRegistry],
    },
    {
      provide: AlertPublisher,
      useFactory: (connection: RedisClient, keys: RedisKeys) =>
        new AlertPublisher(connection, keys.bullPrefix()),
      inject: [ALERT_QUEUE_CONNECTION, RedisKeys],
    },
    {
      provide: CALLER_STATES,
      useFactory: (scripts: DetectorScripts, keys: RedisKeys) =>
        createCallerStates(scripts, keys, detectionOptions(config)),
      inject: [DetectorScripts, RedisKeys],
    },
    {
      provide: WindowsRepository,
      useFactory: (
        redis: RedisClient,
        keys: RedisKeys,
        scripts: DetectorScripts,
        states: CallerStates | null,
      ) => new WindowsRepository(redis, keys, scripts, detectionOptions(config), states),
      inject: [REDIS, RedisKeys, DetectorScripts, CALLER_STATES],
    },
    {
      provide: EventClock,
      useFactory: (redis: RedisClient, keys: RedisKeys) =>
        new EventClock(redis, keys, config.HANDOFF_PARTITIONS),
      inject: [REDIS, RedisKeys],
    },
    { provide: RULE_SOURCE, useExisting: RulesCache },
    { provide: ALERT_SINK, useExisting: AlertPublisher },
    { provide: MODEL_SOURCE, useExisting: ModelRegistry },
    AlertJobs,
    CallerStage,
    CalleeStage,
    SweepStage,
    DetectionService,
    {
      provide: HandoffConsumer,
      useFactory: (redis: Redis, keys: RedisKeys, detection: DetectionService, clock: EventClock) =>
        new HandoffConsumer(
          redis,
          keys,
          detection,
          clock,
          {
            partitions: config.HANDOFF_PARTITIONS,
            consumer: config.DETECTOR_CONSUMER_NAME,
            readCount: config.DETECTOR_READ_COUNT,
            roundEvents: config.DETECTOR_ROUND_EVENTS,
            claimIdleMs: config.DETECTOR_CLAIM_IDLE_MS,
            readAhead: config.DETECTOR_READ_AHEAD,
            idlePollMs: config.DETECTOR_IDLE_POLL_MS,
            idleBlockMs: config.DETECTOR_IDLE_BLOCK_MS,
          },
          new PartitionLeases(redis, keys, {
            partitions: config.HANDOFF_PARTITIONS,
            consumer: config.DETECTOR_CONSUMER_NAME,
            leaseMs: config.DETECTOR_PARTITION_LEASE_MS,
            windows: { mode: callerWindows(config), explicit: config.DETECTOR_CALLER_WINDOWS !== undefined },
          }),
        ),
      inject: [REDIS, RedisKeys, DetectionService, EventClock],
    },
    DetectorRuntime,
  ];
}

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
        ...detectorProviders(config),
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
