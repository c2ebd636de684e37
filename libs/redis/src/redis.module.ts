import {
  DynamicModule,
  Global,
  Inject,
  Injectable,
  Logger,
  Module,
  OnApplicationShutdown,
} from '@nestjs/common';
import Redis from 'ioredis';
import { ReadinessRegistry } from '@eagle-eye/observability';
import { RedisKeys } from './keys';
import { createRedis, safeUrl } from './redis';

export const REDIS = Symbol('REDIS');

export interface RedisModuleOptions {
  url: string;
  keyPrefix?: string;
}

@Injectable()
class RedisLifecycle implements OnApplicationShutdown {
  private readonly logger = new Logger('Redis');
  constructor(
    @Inject(REDIS) private readonly redis: Redis,
    readiness: ReadinessRegistry,
    @Inject('REDIS_URL') url: string,
  ) {
    readiness.register('redis', async () => {
      await this.redis.ping();
    });
    // Log state changes once each, not every retry.
    let down = false;
    redis.on('error', (e: Error) => {
      if (!down) this.logger.error(`Redis at ${safeUrl(url)} unavailable: ${e.message}; retrying`);
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
    return {
      module: RedisModule,
      providers: [
        { provide: 'REDIS_URL', useValue: options.url },
        { provide: REDIS, useFactory: () => createRedis(options.url) },
        { provide: RedisKeys, useValue: new RedisKeys(options.keyPrefix ?? 'ee') },
        RedisLifecycle,
      ],
      exports: [REDIS, RedisKeys],
    };
  }
}
