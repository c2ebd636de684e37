import { Inject, Injectable, Logger, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { AlertRepository } from './alert.repository';
import { AlertPublisher } from './alert.publisher';
import {
  alertEscalations,
  alertEscalationSweepSeconds,
  alertEscalationSweeps,
  alertsPersisted,
} from './alert-worker.metrics';
import { ALERT_WORKER_CONFIG, AlertWorkerConfig } from './config';

/** The most alerts one sweep statement escalates; a sweep repeats the statement while it is full. */
export const ESCALATION_SWEEP_LIMIT = 500;

/**
 * The escalation timer: every ALERT_ESCALATION_SWEEP_MS, one statement (migration 100) routes to
 * the police of their region the alerts still open ALERT_ESCALATE_AFTER_S after they were raised,
 * and each is published as any change is. An alert is escalated at most one sweep interval late.
 *
 * It replaces a delayed BullMQ job per alert, whose adding, promotion and processing cost Redis
 * several round trips per alert, each a write and so an fsync of the append-only file. Several
 * worker replicas may sweep at once: the statement takes the change-sequence lock before any row,
 * so the second finds what the first escalated no longer open. A failed sweep (PostgreSQL away) is
 * logged and counted, and the next one catches up: nothing due is lost, only late.
 */
@Injectable()
export class EscalationSweep implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger('EscalationSweep');
  private timer?: NodeJS.Timeout;
  private running?: Promise<number>;
  private stopped = false;

  constructor(
    private readonly repo: AlertRepository,
    private readonly publisher: AlertPublisher,
    @Inject(ALERT_WORKER_CONFIG) private readonly config: AlertWorkerConfig,
  ) {}

  onApplicationBootstrap(): void {
    const schedule = () => {
      if (this.stopped) return;
      this.timer = setTimeout(() => {
        this.running = this.runOnce().finally(schedule);
      }, this.config.ALERT_ESCALATION_SWEEP_MS);
      this.timer.unref();
    };
    schedule();
  }

  /** Before the pool closes: no new sweep, the one in progress finished. */
  async onModuleDestroy(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
  }

  /** One sweep: escalates and publishes every alert due; returns how many. Never throws. */
  async runOnce(): Promise<number> {
    const end = alertEscalationSweepSeconds.startTimer();
    let escalated = 0;
    try {
      for (;;) {
        const changes = await this.repo.escalateDue(
          this.config.ALERT_ESCALATE_AFTER_S,
          ESCALATION_SWEEP_LIMIT,
        );
        for (const ch of changes) {
          alertsPersisted.inc({ change: 'updated' });
          alertEscalations.inc();
          // the alert keeps the trace that raised it (the view's traceId)
          this.publisher.publish({ view: ch.view, created: false });
          this.logger.log(
            `alert ${ch.alertId} unclaimed after ${this.config.ALERT_ESCALATE_AFTER_S} s: routed to police`,
          );
        }
        escalated += changes.length;
        if (changes.length < ESCALATION_SWEEP_LIMIT || this.stopped) break;
      }
      alertEscalationSweeps.inc({ result: 'ok' });
    } catch (e) {
      alertEscalationSweeps.inc({ result: 'error' });
      this.logger.error(`escalation sweep failed (the next one catches up): ${(e as Error).message}`);
    } finally {
      end();
    }
    return escalated;
  }
}
