import { RedisObserver } from '../observe';
import { runLoadgenChild } from '../processes';
import { BenchStack, Services } from '../stack';
import { randomTag } from '../traffic';
import { setAppendFsync } from './faults';

export interface FsyncCost {
  policy: 'everysec' | 'always';
  /** events/s ingest acknowledged into the hand-off, closed loop, detector stopped */
  ingestEventsPerS: number;
  ackP99Ms: number;
  /** events/s one detector applied draining that backlog */
  detectorEventsPerS: number;
}

/**
 * What `appendfsync always` costs, each side alone on one stack: ingest pushing `events` into the
 * hand-off as fast as it acks them (detector stopped), then one detector draining them; under
 * everysec, always, and everysec again (the spread of the two everysec rows is the noise).
 */
export async function measureFsyncCost(
  services: Services,
  events: number,
  restore: 'everysec' | 'always',
  log: (s: string) => void,
): Promise<FsyncCost[]> {
  if (!services.private)
    throw new Error('fsync-cost changes Redis configuration: run it on services of its own');
  const tag = randomTag(4);
  const prefix = `chaosfs${tag}`;
  const stack = new BenchStack({
    redisUrl: services.redisUrl,
    databaseUrl: services.databaseUrl,
    prefix,
    detectors: 0,
    log,
  });
  const observer = new RedisObserver(services.redisUrl, prefix, stack.partitions);
  const out: FsyncCost[] = [];
  try {
    await stack.start();
    for (const policy of ['everysec', 'always', 'everysec'] as const) {
      await setAppendFsync(services.redisUrl, policy);
      const batchSize = 500;
      const res = await runLoadgenChild({
        target: `127.0.0.1:${stack.grpcPort}`,
        apiKey: stack.apiKey,
        mode: 'max',
        batchSize,
        streams: 2,
        maxInFlightPerStream: 4,
        maxBatches: Math.ceil(events / batchSize),
        durationS: 120,
        traffic: {
          mode: 'fresh-pairs',
          populationSpace: `${tag}F${policy[0]}`,
          runTag: randomTag(4),
          population: 0,
        },
      });
      const backlog = await observer.backlogEvents(1_000_000);
      const t0 = Date.now();
      await stack.addDetector();
      const drained = await observer.waitDrained(300_000);
      const s = (Date.now() - t0) / 1000;
      await stack.stopDetectors();
      const row: FsyncCost = {
        policy,
        ingestEventsPerS: res.achievedEventsPerS,
        ackP99Ms: Math.round(res.ackLatency.p99Ms),
        detectorEventsPerS: drained ? Math.round(backlog / s) : 0,
      };
      log(`appendfsync ${policy}: ${JSON.stringify(row)}`);
      out.push(row);
    }
  } finally {
    observer.close();
    await setAppendFsync(services.redisUrl, restore);
    await stack.stop();
    await stack.cleanup();
  }
  return out;
}

export function formatFsyncCost(rows: FsyncCost[]): string {
  const lines = ['appendfsync  ingest acked events/s  ack p99 ms  detector drain events/s'];
  for (const r of rows) {
    lines.push(
      `${r.policy.padEnd(11)}  ${String(r.ingestEventsPerS).padStart(21)}  ${String(r.ackP99Ms).padStart(10)}  ${String(r.detectorEventsPerS).padStart(23)}`,
    );
  }
  return lines.join('\n');
}
