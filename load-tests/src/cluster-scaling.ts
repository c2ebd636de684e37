import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { createRedisClient, masters, RedisClient, RedisKeys } from '@eagle-eye/redis';
import { detectorsOwning, scrape, sum, unreadHandoff } from './observe';
import { nowMs } from './open-loop';
import { REPO_ROOT, runLoadgenChild } from './processes';
import { BenchStack } from './stack';
import { randomTag } from './traffic';

/**
 * The detector draining a hand-off backlog on a single Redis (masters 0, no cluster mode), on a
 * one-master and on a three-master local Redis Cluster (scripts/redis-cluster.sh, no replicas),
 * with 1 and 2 detector replicas. The whole stack runs on each (REDIS_CLUSTER_NODES); ingest fills a
 * backlog with the detectors stopped, then the replicas start and the drain is timed with the
 * detectors' own event counters (from the first moment a replica answers to the empty backlog:
 * start-up excluded). Redis CPU is the sum of the masters' own counters (INFO cpu) over the same span,
 * divided by those events (it includes what the other apps do in Redis meanwhile: polling, gauges).
 * Used by `npm run bench` (its SCALING rows) and `npm run bench:cluster`.
 */

export interface ClusterScalingRow {
  /** 0: a single Redis without cluster mode */
  masters: number;
  replicas: number;
  backlogEvents: number;
  /** events between the first and the last sample of the detectors' counters */
  timedEvents: number;
  eventsPerS: number;
  redisCpuUsPerEvent: number;
  /** the deployment's keys on each master after the drain */
  keysPerMaster: number[];
}

export interface ClusterScalingOptions {
  databaseUrl: string;
  /** events in each backlog */
  events: number;
  masters: number[];
  replicas: number[];
  /** first port: a cluster of n masters uses n ports from it (and each port + 10000 as its bus) */
  firstPort: number;
  /** folder for the Redis data (a subfolder per port and size) */
  runDir: string;
  batchSize: number;
  /** subscribers of the fill's background traffic */
  population: number;
  log: (line: string) => void;
  /** rows are pushed here as they are measured (a later failure keeps the earlier rows) */
  rows?: ClusterScalingRow[];
}

const run = promisify(execFile);

/** 0 masters: a single Redis (no cluster) on the first port, the baseline. */
async function single(action: 'up' | 'clean', port: number, runDir: string): Promise<string> {
  const dir = join(REPO_ROOT, runDir, `single-${port}`);
  if (action === 'clean') {
    await run('redis-cli', ['-p', String(port), 'shutdown', 'nosave']).catch(() => undefined);
    await run('rm', ['-rf', dir]);
    return '';
  }
  await run('mkdir', ['-p', dir]);
  const conf = join(REPO_ROOT, 'deploy', 'redis', 'redis.conf');
  await run('redis-server', [
    conf,
    '--port',
    String(port),
    '--dir',
    dir,
    '--appendfsync',
    'everysec',
    '--daemonize',
    'yes',
  ]);
  for (let i = 0; i < 50; i++) {
    if (
      await run('redis-cli', ['-p', String(port), 'ping']).then(
        () => true,
        () => false,
      )
    )
      return `single Redis on 127.0.0.1:${port}`;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`the single Redis on ${port} did not answer PING`);
}

async function cluster(action: 'up' | 'clean', ports: number[], runDir: string): Promise<string> {
  const dir = join(REPO_ROOT, runDir, `cluster-${ports[0]}-${ports.length}`);
  const env = { ...process.env, EE_RUN_DIR: dir, EE_REDIS_CLUSTER_PORTS: ports.join(',') };
  const { stdout } = await run('bash', ['scripts/redis-cluster.sh', action], { cwd: REPO_ROOT, env });
  // the script deletes its data folder; the run folder around it is this run's alone
  if (action === 'clean') await run('rm', ['-rf', dir]);
  return stdout;
}

async function redisCpuS(client: RedisClient): Promise<number> {
  let s = 0;
  for (const node of masters(client)) {
    const info = await node.info('cpu');
    for (const k of ['used_cpu_user', 'used_cpu_sys'])
      s += Number(new RegExp(`${k}:([\\d.]+)`).exec(info)?.[1] ?? 0);
  }
  return s;
}

/**
 * Events the detectors applied, of those that answer /metrics (a replica still starting does not);
 * null while none answers.
 */
async function appliedEvents(urls: string[]): Promise<number | null> {
  const counts = await Promise.all(
    urls.map((u) =>
      scrape(u).then(
        (ps) => sum(ps, 'eagleeye_detector_events_total'),
        () => null,
      ),
    ),
  );
  const answered = counts.filter((c): c is number => c !== null);
  return answered.length ? answered.reduce((a, b) => a + b, 0) : null;
}

/** Entries in the hand-off streams: read and not yet acknowledged ones too (0: all written). */
async function handoffLength(client: RedisClient, keys: RedisKeys, partitions: number): Promise<number> {
  let n = 0;
  for (let i = 0; i < partitions; i++) n += await client.xlen(keys.handoffStream(i));
  return n;
}

export async function runClusterScaling(o: ClusterScalingOptions): Promise<ClusterScalingRow[]> {
  const rows = o.rows ?? [];
  for (const m of o.masters) {
    const ports = Array.from({ length: m }, (_, i) => o.firstPort + i);
    const up = (): Promise<string> =>
      m ? cluster('up', ports, o.runDir) : single('up', o.firstPort, o.runDir);
    const clean = (): Promise<string> =>
      m ? cluster('clean', ports, o.runDir) : single('clean', o.firstPort, o.runDir);
    await clean();
    o.log((await up()).trim());
    const nodes = ports.map((p) => `127.0.0.1:${p}`).join(',');
    const url = `redis://127.0.0.1:${o.firstPort}`;
    const prefix = `eec${m}${randomTag(4).toLowerCase()}`;
    const keys = new RedisKeys(prefix);
    const stack = new BenchStack({
      redisUrl: url,
      databaseUrl: o.databaseUrl,
      prefix,
      detectors: 0,
      env: m ? { REDIS_CLUSTER_NODES: nodes } : {},
      log: o.log,
    });
    const client = createRedisClient(m ? { url, clusterNodes: nodes } : { url });
    try {
      await stack.start();
      const population = `Cl${randomTag(4)}`;
      for (const replicas of o.replicas) {
        await stack.stopDetectors();
        const fill = await runLoadgenChild({
          target: `127.0.0.1:${stack.grpcPort}`,
          apiKey: stack.apiKey,
          mode: 'max',
          batchSize: o.batchSize,
          streams: 2,
          maxBatches: Math.ceil(o.events / o.batchSize),
          durationS: 600,
          maxInFlightPerStream: 8,
          drainTimeoutMs: 30000,
          traffic: {
            mode: 'background',
            populationSpace: population,
            runTag: randomTag(4),
            population: o.population,
          },
        });
        if (fill.errors.length) throw new Error(`the fill failed: ${fill.errors.slice(0, 3).join('; ')}`);
        const backlog = fill.events.accepted + fill.warmupEvents;
        // the replicas start; the detectors' own counters are sampled until the backlog is gone
        let startFailure: Error | undefined;
        const starting = Promise.all(Array.from({ length: replicas }, () => stack.addDetector())).catch(
          (e: Error) => void (startFailure = e),
        );
        const samples: { t: number; n: number; cpu: number }[] = [];
        const began = nowMs();
        // from when every replica reads its share of the partitions (one started after another owns
        // none until the other hands them over at its next lease renewal)
        const sample = async (drained = false): Promise<void> => {
          const urls = stack.detectorMetricsUrls();
          if (!drained && (await detectorsOwning(urls).catch(() => 0)) < replicas) return;
          const n = await appliedEvents(urls);
          if (n !== null) samples.push({ t: nowMs(), n, cpu: await redisCpuS(client) });
        };
        for (;;) {
          if (startFailure) throw startFailure;
          if (nowMs() - began > 900_000) throw new Error('the backlog did not drain within 15 minutes');
          await sample();
          // drained once every entry is read and applied (acknowledgements follow the deferred
          // windows writes, DETECTOR_WINDOWS_WRITE_DELAY_MS later when idle: not waited for)
          const last = samples[samples.length - 1];
          if (
            (samples.length || stack.detectorMetricsUrls().length === replicas) &&
            (await unreadHandoff(client, keys, stack.partitions)).entries === 0 &&
            ((last?.n ?? 0) >= backlog || (await handoffLength(client, keys, stack.partitions)) === 0)
          )
            break;
          await new Promise((r) => setTimeout(r, 100));
        }
        await sample(true); // the drained state
        await starting;
        if (startFailure) throw startFailure;
        // from the first moment a replica answered to the drained state: its start-up excluded (a
        // second replica's start partly included). Not from the first applied event: the counters
        // move a whole round at a time, and a round takes a large share of a modest backlog (with two
        // replicas, two rounds finishing together would time half the backlog over a few ms)
        if (!samples.length)
          throw new Error('no detector replica answered its metrics once the backlog was drained');
        const [first, last] = [samples[0], samples[samples.length - 1]];
        const applied = last.n - first.n;
        const eventsPerS = last.t > first.t ? Math.round(applied / ((last.t - first.t) / 1000)) : 0;
        const keysPerMaster = await Promise.all(masters(client).map((n) => n.dbsize()));
        const row: ClusterScalingRow = {
          masters: m,
          replicas,
          backlogEvents: backlog,
          timedEvents: applied,
          eventsPerS,
          redisCpuUsPerEvent: Math.round(((last.cpu - first.cpu) * 1e6) / Math.max(1, applied)),
          keysPerMaster,
        };
        rows.push(row);
        o.log(
          `${m} master(s), ${replicas} detector replica(s): ${eventsPerS} events/s draining ${backlog} ` +
            `events (${applied} between the first and last sample), Redis ${row.redisCpuUsPerEvent} us CPU per event, ` +
            `keys per master ${keysPerMaster.join('/')}`,
        );
      }
    } finally {
      client.disconnect();
      await stack.stop();
      await stack.cleanup().catch(() => undefined);
      await clean().catch(() => '');
    }
  }
  return rows;
}
