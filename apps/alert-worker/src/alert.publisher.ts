import { Inject, Injectable } from '@nestjs/common';
import { Emitter } from '@socket.io/redis-emitter';
import Redis from 'ioredis';
import { AlertServerEvents, roomsForAlert } from '@eagle-eye/contracts';
import { REDIS, RedisKeys } from '@eagle-eye/redis';
import { PublishableAlert } from './alert.repository';

/**
 * Publishes alert changes to the console gateway's rooms through Redis (the socket.io Redis
 * adapter of every console replica receives them), so the worker needs no connection to a console.
 */
@Injectable()
export class AlertPublisher {
  private readonly emitter: Emitter<AlertServerEvents>;

  constructor(@Inject(REDIS) redis: Redis, keys: RedisKeys) {
    this.emitter = new Emitter<AlertServerEvents>(redis, { key: keys.socketIoChannel() });
  }

  /** traceId: the trace of the job that made this change (AlertView.traceId on the event) */
  publish(alert: PublishableAlert, traceId?: string): void {
    const event = alert.created ? 'alert.created' : 'alert.updated';
    const view = traceId ? { ...alert.view, traceId } : alert.view;
    this.emitter.of('/alerts').to(roomsForAlert(view)).emit(event, view);
  }
}
