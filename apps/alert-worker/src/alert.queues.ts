import { Inject, Injectable, OnApplicationShutdown } from '@nestjs/common';
import { Queue } from 'bullmq';
import { ALERTS_DEAD_LETTER_QUEUE, QueueName } from '@eagle-eye/contracts';
import { createRedisClient, RedisClient, RedisKeys, redisTarget } from '@eagle-eye/redis';
import { ALERT_WORKER_CONFIG, AlertWorkerConfig } from './config';

/** The alerts queue (for the worker's own timers) and the dead-letter queue, on one connection. */
@Injectable()
export class AlertQueues implements OnApplicationShutdown {
  readonly connection: RedisClient;
  readonly alerts: Queue;
  readonly deadLetter: Queue;

  constructor(@Inject(ALERT_WORKER_CONFIG) config: AlertWorkerConfig, keys: RedisKeys) {
    // BullMQ blocks on its connections and wants commands queued, not failed, while Redis is away.
    this.connection = createRedisClient(redisTarget(config), {
      maxRetriesPerRequest: null,
      enableAutoPipelining: false,
    });
    this.connection.on('error', () => undefined);
    const prefix = keys.bullPrefix();
    this.alerts = new Queue(QueueName.Alerts, { connection: this.connection, prefix });
    this.deadLetter = new Queue(ALERTS_DEAD_LETTER_QUEUE, { connection: this.connection, prefix });
  }

  async onApplicationShutdown(): Promise<void> {
    await this.alerts.close();
    await this.deadLetter.close();
    await this.connection.quit().catch(() => this.connection.disconnect());
  }
}
