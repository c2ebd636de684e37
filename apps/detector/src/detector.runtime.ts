import {
  BeforeApplicationShutdown,
  Inject,
  Injectable,
  Logger,
  OnApplicationBootstrap,
} from '@nestjs/common';
import Redis from 'ioredis';
import { ReadinessRegistry } from '@eagle-eye/observability';
import { masters, migrateKeyLayout, perNodePipeline, REDIS, RedisClient, RedisKeys } from '@eagle-eye/redis';
import { RulesRepository } from '@eagle-eye/rules';
import { DetectorConfig, DETECTOR_CONFIG } from './config';
import { AlertPublisher } from './detection/alert.publisher';
import { DetectionService } from './detection/detection.service';
import { HandoffConsumer } from './handoff/handoff.consumer';
import { DetectorScripts } from './lua/detector-scripts';
import { callsInProgress, redisMemory } from './metrics';
import { SWEEP_LIMIT } from './pipeline/sweep.stage';
import { RulesCache } from './rules/rules-cache';
import { ModelRegistry } from './scoring/model-registry';

/** The alert queue's own Redis connection (BullMQ blocks on it; see DetectorModule). */
export const ALERT_QUEUE_CONNECTION = Symbol('ALERT_QUEUE_CONNECTION');

/**
 * Runs the detector (DetectorModule provides its parts): loads the scripts, hot-reloaded rules
 * and models, starts the hand-off consumer, the duration-step sweep and the periodic gauges.
 * Starts after every module is ready, stops the loops before the connections close.
 */
@Injectable()
export class DetectorRuntime implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger('Detector');
  private timers: NodeJS.Timeout[] = [];
  private sweeping: Promise<void> | null = null;
  private stopped = false;

  constructor(
    @Inject(DETECTOR_CONFIG) private readonly config: DetectorConfig,
    @Inject(REDIS) private readonly redis: Redis,
    private readonly keys: RedisKeys,
    private readonly repo: RulesRepository,
    private readonly scripts: DetectorScripts,
    private readonly rules: RulesCache,
    private readonly models: ModelRegistry,
    private readonly publisher: AlertPublisher,
    @Inject(ALERT_QUEUE_CONNECTION) private readonly bullConnection: RedisClient,
    private readonly detection: DetectionService,
    private readonly consumer: HandoffConsumer,
    readiness: ReadinessRegistry,
  ) {
    readiness.register('rules', () =>
      this.rules.version > 0 ? Promise.resolve() : Promise.reject(new Error('rule set not loaded')),
    );
  }

  async onApplicationBootstrap(): Promise<void> {
    await this.scripts.load();
    // per-number keys of an earlier layout (or of another REDIS_KEY_GROUPS) move before any event
    // is applied; one replica migrates, the others wait for it
    const layout = await migrateKeyLayout(this.redis, this.keys, (l) => this.logger.log(l));
    if (!layout.current)
      this.logger.log(
        `key layout ${layout.layout}: ${layout.scanned.toLocaleString('en-US')} keys scanned, ${layout.moved.toLocaleString('en-US')} moved, ${layout.merged.toLocaleString('en-US')} merged in ${layout.seconds} s`,
      );
    try {
      await this.rules.start();
    } catch (e) {
      const msg = (e as Error).message;
      throw new Error(
        /does not exist/.test(msg)
          ? `detection rules tables missing (${msg}): apply the migrations with \`npm run migrate\``
          : `cannot load detection rules: ${msg}`,
        { cause: e },
      );
    }
    await this.models.start();
    const n = await this.repo.syncListsToRedis();
    this.logger.log(`mirrored ${n} list entries into Redis`);
    if (!this.config.DETECTOR_CONSUME) return;
    await this.consumer.start();
    this.every(this.config.DETECTOR_SWEEP_INTERVAL_MS, () => this.sweepOnce());
    this.every(5000, () => this.gauges());
    this.every(this.config.DETECTOR_LIST_RESYNC_MS, async () => {
      await this.repo.syncListsToRedis();
    });
  }

  async beforeApplicationShutdown(): Promise<void> {
    this.stopped = true;
    for (const t of this.timers) clearInterval(t);
    await this.consumer.stop();
    await this.sweeping;
    await this.rules.stop();
    await this.publisher.close().catch(() => undefined);
    await this.bullConnection.quit().catch(() => this.bullConnection.disconnect());
  }

  private every(ms: number, fn: () => Promise<void>): void {
    const t = setInterval(() => {
      if (this.stopped) return;
      fn().catch((e: Error) => this.logger.warn(`${fn.name || 'periodic task'} failed: ${e.message}`));
    }, ms);
    t.unref();
    this.timers.push(t);
  }

  private async sweepOnce(): Promise<void> {
    if (this.sweeping) return; // the previous sweep is still running
    this.sweeping = (async () => {
      while (!this.stopped && (await this.detection.sweep()) >= SWEEP_LIMIT);
    })().finally(() => (this.sweeping = null));
    await this.sweeping;
  }

  private async gauges(): Promise<void> {
    const p = perNodePipeline(this.redis);
    for (let s = 0; s < this.config.DETECTOR_DUE_SHARDS; s++) p.zcard(this.keys.detectorDue(s));
    const res = (await p.exec()) ?? [];
    callsInProgress.set(res.reduce((n, [, v]) => n + Number(v ?? 0), 0));
    // every master's, on a Redis Cluster
    const infos = await Promise.all(masters(this.redis).map((n) => n.info('memory')));
    redisMemory.set(infos.reduce((n, info) => n + Number(/used_memory:(\d+)/.exec(info)?.[1] ?? 0), 0));
    await this.consumer.updateLag();
  }
}
