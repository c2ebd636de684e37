import { appendFileSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import {
  BeforeApplicationShutdown,
  Inject,
  Injectable,
  Logger,
  OnApplicationBootstrap,
} from '@nestjs/common';
import { ingestV1 } from '@eagle-eye/contracts';
import { ReadinessRegistry } from '@eagle-eye/observability';
import { RulesRepository } from '@eagle-eye/rules';
import { carrierKeys, openStreams, progressLine } from './cli-common';
import { SimulatorConfig, SIMULATOR_CONFIG } from './config';
import { ConsoleClient } from './eval/console-client';
import { Generator } from './sim/generator';
import { GroundTruthWriter } from './sim/ground-truth';
import { scenarioByName } from './sim/scenarios';
import { seedWhitelist, whitelistTargets } from './sim/whitelist';
import { simMetrics } from './simulator.metrics';
import { IngestStream } from './stream/ingest-client';
import { RunProgress, streamRun, TimeWarp } from './stream/runner';

/**
 * Demo mode: a live city streamed through the public gRPC contract at real time (or warped), scams
 * injected early, a progress line (events/s, alerts, lag) for the terminal, metrics for Prometheus.
 *
 * Before the live part it imports history, as a real deployment would: the city's last
 * SIMULATOR_HISTORY_MINUTES of traffic (the scam numbers' own fan-out included, nobody hooked),
 * streamed as fast as ingest takes it, in event time, through the same gRPC path. The live part then
 * goes on from the same generator, so the numbers that call the scripted victims are numbers whose
 * behaviour the detector has already seen; nothing about the detector is special-cased.
 */
@Injectable()
export class SimulatorService implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger('Simulator');
  private readonly abort = new AbortController();
  private running?: Promise<void>;
  private streams = new Map<string, IngestStream>();
  private firstAck = false;
  private console?: ConsoleClient;
  private gt?: GroundTruthWriter;

  constructor(
    @Inject(SIMULATOR_CONFIG) private readonly config: SimulatorConfig,
    private readonly readiness: ReadinessRegistry,
    private readonly rules: RulesRepository,
  ) {}

  onApplicationBootstrap(): void {
    if (this.config.SIMULATOR_MODE !== 'demo') return;
    this.readiness.register('ingest-stream', () =>
      this.firstAck ? Promise.resolve() : Promise.reject(new Error('no batch acknowledged by ingest yet')),
    );
    this.running = this.runDemo().catch((e: Error) => {
      this.logger.error(`demo stopped: ${e.message}`);
      this.progress(`[simulator] demo stopped: ${e.message}`);
    });
  }

  async beforeApplicationShutdown(): Promise<void> {
    this.abort.abort();
    await this.running;
    for (const s of this.streams.values()) s.close();
    this.console?.close();
    await this.gt?.close();
  }

  private progress(line: string): void {
    const file = this.config.SIMULATOR_PROGRESS_FILE;
    if (!file) return;
    try {
      appendFileSync(file, line + '\n');
    } catch (e) {
      this.logger.warn(`cannot write the progress file: ${(e as Error).message}`);
    }
  }

  private async runDemo(): Promise<void> {
    const c = this.config;
    const scenario = scenarioByName(c.SIMULATOR_SCENARIO);
    const start = Date.now();
    if (c.SIMULATOR_GROUND_TRUTH) {
      mkdirSync(dirname(c.SIMULATOR_GROUND_TRUTH), { recursive: true });
      this.gt = new GroundTruthWriter(c.SIMULATOR_GROUND_TRUTH);
    }
    // warped demos start in the past so that no event is ahead of the servers' clocks, the history
    // included no older than 23 hours (ingest refuses events older than a day by default)
    const historyMs = c.SIMULATOR_HISTORY_MINUTES * 60_000;
    const liveFromMs = c.SIMULATOR_WARP > 1 ? start - 23 * 3_600_000 + historyMs : start;
    const gen = new Generator(
      {
        seed: c.SIMULATOR_SEED,
        runId: `d${start.toString(36)}`,
        subscribers: c.SIMULATOR_SUBSCRIBERS,
        scenario,
        startMs: liveFromMs - historyMs,
        durationMs: Infinity,
        liveFromMs,
        deferForcedHooks: true,
        // the history is the warm-up of the ground truth: nothing in it is to be alerted on
        ...(historyMs > 0 ? { measureFromMs: liveFromMs } : {}),
      },
      (r) => {
        this.gt?.write(r);
        if (r.type === 'hooked') simMetrics.hookedVictims.inc({ scenario: r.scenario });
      },
    );
    if (c.SIMULATOR_WHITELIST) {
      try {
        const { added, present } = await seedWhitelist(this.rules, whitelistTargets(gen.city));
        this.logger.log(`whitelist: ${added} verified service numbers added, ${present} already there`);
      } catch (e) {
        this.logger.warn(`could not whitelist the verified service numbers: ${(e as Error).message}`);
      }
    }
    this.watchConsole();
    this.streams = openStreams(c.SIMULATOR_INGEST_URL, carrierKeys(c.SIMULATOR_CARRIER_KEYS), (carrier) => ({
      onAck: (ack, batch) => {
        this.firstAck = true;
        simMetrics.acked.inc({ carrier, result: 'accepted' }, ack.accepted);
        simMetrics.acked.inc({ carrier, result: 'duplicate' }, ack.duplicates);
        simMetrics.acked.inc({ carrier, result: 'rejected' }, ack.rejected.length);
        for (const r of ack.rejected)
          simMetrics.rejections.inc({ carrier, reason: ingestV1.rejectionReasonToJSON(r.code) });
        simMetrics.ackLatency.observe((Date.now() - batch.firstSentAt) / 1000);
      },
      onStreamError: (e, retry) => {
        if (retry) simMetrics.reconnects.inc();
        this.logger.warn(
          `ingest stream ${carrier}: ${e.message}${retry ? ' (reconnecting, unacked batches will be resent)' : ''}`,
        );
      },
    }));
    const say = (line: string): void => {
      this.logger.log(line);
      this.progress(line);
    };
    const onProgress = (p: RunProgress): void => {
      simMetrics.lag.set(p.lagS);
      simMetrics.unacked.set(p.unackedBatches);
      const alerts =
        this.console?.connected || this.console?.created
          ? this.console.created
          : 'n/a (console not reachable yet)';
      const line = progressLine(p, alerts);
      this.progress(line);
      this.logger.log(line);
    };
    const onEvent = (carrier: string): void => simMetrics.eventsSent.inc({ carrier });
    let historyEvents = 0;
    let historyWallS = 0;
    if (historyMs > 0) {
      say(
        `[simulator] importing history: the city's last ${c.SIMULATOR_HISTORY_MINUTES} minutes of traffic ` +
          `(${c.SIMULATOR_SUBSCRIBERS} subscribers, scenario ${scenario.name}), in event time, as fast as ingest takes it`,
      );
      gen.holdFromMs = liveFromMs;
      const h = await streamRun(gen, {
        warp: new TimeWarp(gen.opts.startMs, Date.now(), 0),
        streams: this.streams,
        signal: this.abort.signal,
        progressEveryMs: c.SIMULATOR_PROGRESS_MS,
        onProgress,
        onEvent,
      });
      gen.holdFromMs = Infinity;
      if (this.abort.signal.aborted) return;
      historyEvents = h.eventsSent;
      historyWallS = (Date.now() - start) / 1000;
      say(
        `[simulator] history imported: ${h.eventsSent} events (${h.accepted} accepted, ${h.duplicates} duplicates, ` +
          `${h.rejected} rejected) in ${historyWallS.toFixed(1)} s`,
      );
    }
    // event time = wall time in a real-time demo: the live part's first seconds, if the import took
    // them, go out at once and the stream is on the clock from there; the scripted victims start
    // now, so the first is on the line `firstAtS` after the import, as announced
    const liveWall = c.SIMULATOR_WARP > 1 ? Date.now() : start;
    const liveWarp = new TimeWarp(liveFromMs, liveWall, c.SIMULATOR_WARP);
    const firstHookMs = gen.armForcedHooks(liveWarp.simAt(Date.now()));
    this.gt?.write({
      type: 'live',
      simMs: liveFromMs,
      wallMs: liveWall,
      warp: c.SIMULATOR_WARP,
      historyMinutes: c.SIMULATOR_HISTORY_MINUTES,
      historyWallS,
      historyEvents,
      ...(firstHookMs !== undefined ? { firstVictimMs: firstHookMs } : {}),
    });
    const firstIn =
      firstHookMs === undefined
        ? '?'
        : Math.max(0, Math.round((liveWarp.wallFor(firstHookMs) - Date.now()) / 1000));
    say(
      `[simulator] streaming a live city (${c.SIMULATOR_SUBSCRIBERS} subscribers, scenario ${scenario.name}, ` +
        `warp ${c.SIMULATOR_WARP}) to ${c.SIMULATOR_INGEST_URL}; first victim on the line in ~${firstIn} s`,
    );
    await streamRun(gen, {
      warp: liveWarp,
      streams: this.streams,
      signal: this.abort.signal,
      progressEveryMs: c.SIMULATOR_PROGRESS_MS,
      onProgress,
      onEvent,
    });
  }

  /** Logs in as a supervisor and counts alerts; retries until the console is up. */
  private watchConsole(): void {
    const c = this.config;
    const client = new ConsoleClient({
      baseUrl: c.SIMULATOR_CONSOLE_URL,
      username: c.SIMULATOR_CONSOLE_USER,
      password: c.SIMULATOR_CONSOLE_PASSWORD,
    });
    let counted = 0;
    client.onAlert = () => {
      if (client.created > counted) simMetrics.alertsSeen.inc(client.created - counted);
      counted = client.created;
    };
    this.console = client;
    const attempt = async (): Promise<void> => {
      while (!this.abort.signal.aborted) {
        try {
          await client.connect();
          this.logger.log(`watching alerts on ${c.SIMULATOR_CONSOLE_URL} as ${c.SIMULATOR_CONSOLE_USER}`);
          return;
        } catch (e) {
          client.close();
          this.logger.debug?.(`console not ready: ${(e as Error).message}`);
          await new Promise((r) => setTimeout(r, 3000));
        }
      }
    };
    void attempt();
  }
}
