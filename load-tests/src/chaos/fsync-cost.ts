import { detectorEvents } from '../observe';
import { runLoadgenChild } from '../processes';
import { BenchStack, Services } from '../stack';
import { randomTag } from '../traffic';
import { setAppendFsync } from './faults';

export interface FsyncCost {
  policy: 'everysec' | 'always';
  /** events/s ingest acknowledged, closed loop (each stream keeps a few batches in flight) */
  ingestEventsPerS: number;
  /** events/s the detector applied over the same seconds */
  detectorEventsPerS: number;
  ackP99Ms: number;
}

/**
 * What `appendfsync always` costs: the same closed-loop push through the whole stack (ingest and
 * detector writing to Redis) for `seconds` under each policy, one after the other, on one stack.
 */
export async function measureFsyncCost(
  services: Services,
  seconds: number,
  log: (s: string) => void,
): Promise<FsyncCost[]> {
  if (!services.private)
    throw new Error('fsync-cost changes Redis configuration: run it on services of its own');
  const tag = randomTag(4);
  const stack = new BenchStack({
    redisUrl: services.redisUrl,
    databaseUrl: services.databaseUrl,
    prefix: `chaosfs${tag}`,
    detectors: 1,
    log,
  });
  const out: FsyncCost[] = [];
  try {
    await stack.start();
    for (const policy of ['everysec', 'always', 'everysec'] as const) {
      await setAppendFsync(services.redisUrl, policy);
      const before = await detectorEvents(stack.detectorMetricsUrls());
      const res = await runLoadgenChild({
        target: `127.0.0.1:${stack.grpcPort}`,
        apiKey: stack.apiKey,
        mode: 'max',
        batchSize: 500,
        streams: 2,
        maxInFlightPerStream: 4,
        durationS: seconds,
        traffic: {
          mode: 'fresh-pairs',
          populationSpace: `${tag}F${policy[0]}`,
          runTag: randomTag(4),
          population: 0,
        },
      });
      const applied = (await detectorEvents(stack.detectorMetricsUrls())) - before;
      const row: FsyncCost = {
        policy,
        ingestEventsPerS: res.achievedEventsPerS,
        detectorEventsPerS: Math.round(applied / res.elapsedS),
        ackP99Ms: res.ackLatency.p99Ms,
      };
      log(`appendfsync ${policy}: ${JSON.stringify(row)}`);
      out.push(row);
    }
  } finally {
    await setAppendFsync(services.redisUrl, 'everysec');
    await stack.stop();
    await stack.cleanup();
  }
  return out;
}

export function formatFsyncCost(rows: FsyncCost[]): string {
  const lines = ['appendfsync  ingest acked events/s  detector applied events/s  ack p99 ms'];
  for (const r of rows) {
    lines.push(
      `${r.policy.padEnd(11)}  ${String(r.ingestEventsPerS).padStart(21)}  ${String(r.detectorEventsPerS).padStart(25)}  ${String(r.ackP99Ms).padStart(10)}`,
    );
  }
  return lines.join('\n');
}
