import { Inject, Injectable, OnApplicationShutdown } from '@nestjs/common';
import { Queue } from 'bullmq';
import { ALERTS_DEAD_LETTER_QUEUE, QueueName } from '@eagle-eye/contracts';
import { ReadinessRegistry } from '@eagle-eye/observability';
import { createQueueConnection, RedisClient, RedisKeys } from '@eagle-eye/redis';
import { ALERT_WORKER_CONFIG, AlertWorkerConfig } from './config';

/**
 * The alerts queue (for the worker's own timers) and the dead-letter queue, on one connection to the
 * queue Redis (QUEUE_REDIS_URL, else the state Redis).
 */
@Injectable()
export class AlertQueues implements OnApplicationShutdown {
  readonly connection: RedisClient;
  readonly alerts: Queue;
  readonly deadLetter: Queue;

  constructor(
    @Inject(ALERT_WORKER_CONFIG) config: AlertWorkerConfig,
    keys: RedisKeys,
    readiness: ReadinessRegistry,
  ) {
    // the queue Redis (QUEUE_REDIS_URL, else the state Redis); the worker duplicates this connection
    this.connection = createQueueConnection(config, readiness);
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
