import {
  DynamicModule,
  Global,
  Inject,
  Injectable,
  Logger,
  Module,
  OnApplicationShutdown,
} from '@nestjs/common';
import { ReadinessRegistry } from '@eagle-eye/observability';
import { RedisKeys } from './keys';
import { createRedisClient, describeTarget, isCluster, RedisClient, RedisTarget } from './redis';

export const REDIS = Symbol('REDIS');

export interface RedisModuleOptions {
  url: string;
  /** REDIS_CLUSTER_NODES: a Redis Cluster client instead of one Redis (see RedisTarget) */
  clusterNodes?: string;
  keyPrefix?: string;
  /** REDIS_KEY_GROUPS (see RedisKeys.keyGroup) */
  keyGroups?: number;
}

@Injectable()
class RedisLifecycle implements OnApplicationShutdown {
  private readonly logger = new Logger('Redis');
  constructor(
    @Inject(REDIS) private readonly redis: RedisClient,
    readiness: ReadinessRegistry,
    @Inject('REDIS_TARGET') target: RedisTarget,
  ) {
    readiness.register('redis', async () => {
      if (!isCluster(this.redis)) return void (await this.redis.ping());
      // a cluster is ready when it serves every slot
      const info = (await this.redis.cluster('INFO')) as string;
      const state = /cluster_state:(\w+)/.exec(info)?.[1];
      if (state !== 'ok') throw new Error(`cluster_state is ${state ?? 'unknown'}`);
    });
    // Log state changes once each, not every retry.
    let down = false;
    redis.on('error', (e: Error) => {
      if (!down) this.logger.error(`${describeTarget(target)} unavailable: ${e.message}; retrying`);
      down = true;
    });
    redis.on('ready', () => {
      if (down) this.logger.log('Redis connection restored');
      down = false;
    });
  }
  async onApplicationShutdown(): Promise<void> {
    await this.redis.quit().catch(() => this.redis.disconnect());
  }
}

@Global()
@Module({})
export class RedisModule {
  static forRoot(options: RedisModuleOptions): DynamicModule {
    const target: RedisTarget = options.clusterNodes
      ? { url: options.url, clusterNodes: options.clusterNodes }
      : { url: options.url };
    const keys = new RedisKeys(options.keyPrefix ?? 'ee', options.keyGroups);
    keys.cluster = !!target.clusterNodes;
    return {
      module: RedisModule,
      providers: [
        { provide: 'REDIS_TARGET', useValue: target },
        { provide: REDIS, useFactory: () => createRedisClient(target) },
        { provide: RedisKeys, useValue: keys },
        RedisLifecycle,
      ],
      exports: [REDIS, RedisKeys],
    };
  }
}
