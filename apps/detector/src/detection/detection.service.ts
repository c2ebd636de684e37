import { Injectable } from '@nestjs/common';
import { HandoffEntry } from '@eagle-eye/contracts';
import { RedisClient, RedisKeys } from '@eagle-eye/redis';
import { EventClock } from '../handoff/event-clock';
import { DetectorScripts } from '../lua/detector-scripts';
import { AlertJobs } from '../pipeline/alert-jobs';
import { CalleeStage } from '../pipeline/callee.stage';
import { CallerStage } from '../pipeline/caller.stage';
import { SWEEP_LIMIT, SweepStage } from '../pipeline/sweep.stage';
import { AlertSink, BatchStats, DetectionOptions, RuleSource, Staged } from '../pipeline/work';
import type { ModelSource } from '../scoring/model-registry';
import { createCallerStates } from '../windows/caller-states';
import { WindowsRepository } from '../windows/windows.repository';

/**
 * Applies hand-off events to the Redis windows and raises alerts, in the pipeline's stages: a
 * round goes through at most three pipelined round trips, the caller stage (caller and device
 * scripts for every event), then the callee stage (callee scripts for the answered and ended
 * calls, then alert claims and due-time updates); the sweep runs the duration-step checks of calls
 * in progress. Scores are computed in TypeScript from what the scripts return.
 */
@Injectable()
export class DetectionService {
  constructor(
    private readonly callers: CallerStage,
    private readonly callees: CalleeStage,
    private readonly sweeper: SweepStage,
  ) {}

  async process(entries: HandoffEntry[]): Promise<BatchStats> {
    return this.finish(await this.applyCallers(entries));
  }

  /**
   * First stage of a round (CallerStage). The consumer runs it for the next round while the
   * previous round is in its second stage (`finish`); both keep round order.
   */
  applyCallers(entries: HandoffEntry[]): Promise<Staged> {
    return this.callers.apply(entries);
  }

  /** Second stage of a round (CalleeStage): callee scripts, alert claims and due checks, alert jobs. */
  finish(staged: Staged): Promise<BatchStats> {
    return this.callees.finish(staged);
  }

  /**
   * Whether the hand-off entries of a round (its Staged.round) may be acknowledged: what its caller
   * stage changed is in Redis (caller windows writes may be deferred, DETECTOR_WINDOWS_WRITE_DELAY_MS).
   */
  durable(round: number | undefined): boolean {
    return this.callers.durable(round);
  }

  /** Whether deferred caller windows are due to be written (all of them: any waiting). */
  windowsDue(all: boolean): boolean {
    return this.callers.windowsDue(all);
  }

  /** Writes the deferred caller windows that are due (all: every one waiting). */
  flushWindows(all: boolean): Promise<number> {
    return this.callers.flushWindows(all);
  }

  /** Forgets the caller windows held that wait for no write: partitions were taken over from another replica. */
  forgetHeld(): Promise<void> {
    return this.callers.forgetHeld();
  }

  /** Duration-step checks due at `now` (event time; the event clock's now when not given). */
  sweep(now?: number, limit = SWEEP_LIMIT): Promise<number> {
    return this.sweeper.sweep(now, limit);
  }
}

/** What the detection pipeline is built from outside Nest (backtest, benchmarks, tests). */
export interface DetectionDeps {
  redis: RedisClient;
  keys: RedisKeys;
  scripts: DetectorScripts;
  rules: RuleSource;
  alerts: AlertSink;
  options: DetectionOptions;
  /** wall clock of the alerts' raisedAt and of the event clock (a replay's clock in backtests) */
  clock?: () => number;
  models?: ModelSource;
  /** the event clock the hand-off consumer keeps (a new one when the sweep is always given `now`) */
  eventClock?: EventClock;
}

/**
 * The detection pipeline as plain objects: the graph DetectorModule provides, for what runs
 * outside Nest (backtest, benchmarks, the test harness).
 */
export function createDetection(d: DetectionDeps): DetectionService {
  const clock = d.clock ?? Date.now;
  const states = createCallerStates(d.scripts, d.keys, d.options);
  const windows = new WindowsRepository(d.redis, d.keys, d.scripts, d.options, states);
  const alerts = new AlertJobs(d.alerts, clock);
  const eventClock = d.eventClock ?? new EventClock(d.redis, d.keys, d.options.partitions, clock);
  return new DetectionService(
    new CallerStage(windows, d.rules, alerts, d.models, states ?? undefined),
    new CalleeStage(windows, alerts),
    new SweepStage(windows, d.rules, alerts, eventClock, d.models),
  );
}
