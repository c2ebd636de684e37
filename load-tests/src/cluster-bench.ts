import { execFile } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { createRedisClient, masters, perNodePipeline, RedisClient, RedisKeys } from '@eagle-eye/redis';
import { Args } from './args';
import { scrape, sum } from './observe';
import { nowMs } from './open-loop';
import { REPO_ROOT, runLoadgenChild } from './processes';
import { BenchStack, ensureServices } from './stack';
import { randomTag } from './traffic';

/**
 * `npm run bench:cluster`: the detector draining a hand-off backlog on a local Redis Cluster of 1
 * and of 3 masters (scripts/redis-cluster.sh, no replicas), with 1 and 2 detector replicas, and on a
 * single Redis without cluster mode as the baseline (`--masters 0,1,3`). The
 * whole stack runs on each cluster (REDIS_CLUSTER_NODES); ingest is filled to a backlog first with
 * the detectors stopped, then the replicas start and the drain is timed from the detectors' own
 * event counters (from the first applied event to the empty backlog: start-up excluded). Redis CPU
 * is the sum of the masters' own counters (INFO cpu) over the same span, divided by those events
 * (it includes what the other apps do in Redis meanwhile: polling, gauges).
 * Its PostgreSQL: DATABASE_URL (the owner's) with REDIS_URL, else its own under .run/bench.
 *   --events N (200000)  --masters 0,1,3 (0: a single Redis)  --replicas 1,2  --pg-port 5465  --redis-port 6415
 *   --cluster-port 6430 (first port; a cluster of n masters uses n ports from it)  --out bench-results
 */

interface Row {
  masters: number;
  replicas: number;
  backlogEvents: number;
  eventsPerS: number;
  redisCpuUsPerEvent: number;
  /** the deployment's keys on each master after the drain */
  keysPerMaster: number[];
}

const run = promisify(execFile);
const log = (line: string): void => {
  process.stderr.write(`[bench:cluster ${new Date().toISOString().slice(11, 19)}] ${line}\n`);
};

/** 0 masters: a single Redis (no cluster) on the first port, the baseline. */
async function single(action: 'up' | 'clean', port: number): Promise<string> {
  const dir = join(REPO_ROOT, '.run', 'bench', 'single');
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
      break;
    await new Promise((r) => setTimeout(r, 100));
  }
  return `single Redis on 127.0.0.1:${port}`;
}

async function cluster(action: 'up' | 'clean', ports: number[]): Promise<string> {
  if (ports.length === 0) return '';
  const env = {
    ...process.env,
    EE_RUN_DIR: join(REPO_ROOT, '.run', 'bench', `cluster-${ports.length}`),
    EE_REDIS_CLUSTER_PORTS: ports.join(','),
  };
  const { stdout } = await run('bash', ['scripts/redis-cluster.sh', action], { cwd: REPO_ROOT, env });
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

/** Events the detectors applied, of those that answer /metrics (a replica still starting does not). */
async function appliedEvents(urls: string[]): Promise<number> {
  const counts = await Promise.all(
    urls.map((u) =>
      scrape(u).then(
        (ps) => sum(ps, 'eagleeye_detector_events_total'),
        () => 0,
      ),
    ),
  );
  return counts.reduce((a, b) => a + b, 0);
}

async function backlogEntries(client: RedisClient, keys: RedisKeys, partitions: number): Promise<number> {
  const p = perNodePipeline(client);
  for (let i = 0; i < partitions; i++) p.xlen(keys.handoffStream(i));
  return (await p.exec()).reduce((n, [err, v]) => n + (err ? 0 : Number(v)), 0);
}

async function main(): Promise<void> {
  const a = new Args(process.argv.slice(2));
  const events = a.num('events', 200_000, 1000);
  const mastersList = (a.str('masters', '0,1,3') as string).split(',').map(Number);
  const replicasList = (a.str('replicas', '1,2') as string).split(',').map(Number);
  const firstPort = a.num('cluster-port', 6430, 1, 55000);
  const outDir = a.str('out', 'bench-results') as string;
  const services = await ensureServices({
    // REDIS_URL and DATABASE_URL both set: their PostgreSQL (as the schema's owner) is used
    redisUrl: process.env.REDIS_URL,
    databaseUrl: process.env.DATABASE_URL,
    redisPort: a.num('redis-port', 6415, 1, 65535),
    pgPort: a.num('pg-port', 5465, 1, 65535),
    log,
  });
  const rows: Row[] = [];
  try {
    for (const m of mastersList) {
      const ports = Array.from({ length: m }, (_, i) => firstPort + i);
      await (m ? cluster('clean', ports) : single('clean', firstPort));
      log((await (m ? cluster('up', ports) : single('up', firstPort))).trim());
      const nodes = ports.map((p) => `127.0.0.1:${p}`).join(',');
      const url = `redis://127.0.0.1:${firstPort}`;
      const prefix = `eec${m}${randomTag(4).toLowerCase()}`;
      const keys = new RedisKeys(prefix);
      const stack = new BenchStack({
        redisUrl: url,
        databaseUrl: services.databaseUrl,
        prefix,
        detectors: 0,
        env: m ? { REDIS_CLUSTER_NODES: nodes } : {},
        log,
      });
      const client = createRedisClient(m ? { url, clusterNodes: nodes } : { url });
      try {
        await stack.start();
        const population = `Cl${randomTag(4)}`;
        for (const replicas of replicasList) {
          await stack.stopDetectors();
          const fill = await runLoadgenChild({
            target: `127.0.0.1:${stack.grpcPort}`,
            apiKey: stack.apiKey,
            mode: 'max',
            batchSize: 500,
            streams: 2,
            maxBatches: Math.ceil(events / 500),
            durationS: 600,
            maxInFlightPerStream: 8,
            drainTimeoutMs: 30000,
            traffic: {
              mode: 'background',
              populationSpace: population,
              runTag: randomTag(4),
              population: 20000,
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
          for (;;) {
            if (startFailure) throw startFailure;
            if (nowMs() - began > 900_000) throw new Error('the backlog did not drain within 15 minutes');
            const n = await appliedEvents(stack.detectorMetricsUrls());
            if (n > 0) samples.push({ t: nowMs(), n, cpu: await redisCpuS(client) });
            if (samples.length && (await backlogEntries(client, keys, stack.partitions)) === 0) break;
            await new Promise((r) => setTimeout(r, 100));
          }
          await starting;
          if (startFailure) throw startFailure;
          const [first, last] = [samples[0], samples[samples.length - 1]];
          // from the first event a replica applied to the last sample (start-up excluded)
          const applied = last.n - first.n;
          const eventsPerS = last.t > first.t ? Math.round(applied / ((last.t - first.t) / 1000)) : 0;
          const keysPerMaster = await Promise.all(masters(client).map((n) => n.dbsize()));
          const row = {
            masters: m,
            replicas,
            backlogEvents: backlog,
            eventsPerS,
            redisCpuUsPerEvent: Math.round(((last.cpu - first.cpu) * 1e6) / Math.max(1, applied)),
            keysPerMaster,
          };
          rows.push(row);
          log(
            `${m} master(s), ${replicas} detector replica(s): ${eventsPerS} events/s draining ${backlog} ` +
              `events (${applied} between the first and last sample), Redis ${row.redisCpuUsPerEvent} us CPU per event, ` +
              `keys per master ${keysPerMaster.join('/')}`,
          );
        }
      } finally {
        client.disconnect();
        await stack.stop();
        await stack.cleanup().catch(() => undefined);
        await (m ? cluster('clean', ports) : single('clean', firstPort)).catch(() => '');
      }
    }
  } finally {
    if (services.owned) await services.stop();
  }
  const lines = [
    '| masters | detector replicas | backlog events | events/s | Redis CPU us/event | keys per master |',
    '|---|---|---|---|---|---|',
    ...rows.map(
      (r) =>
        `| ${r.masters} | ${r.replicas} | ${r.backlogEvents} | ${r.eventsPerS} | ${r.redisCpuUsPerEvent} | ${r.keysPerMaster.join(' / ')} |`,
    ),
  ];
  process.stdout.write(lines.join('\n') + '\n');
  const dir = resolve(REPO_ROOT, outDir);
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `bench-cluster-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
  writeFileSync(file, JSON.stringify({ events, rows }, null, 2) + '\n');
  log(`JSON: ${file}`);
}

if (require.main === module) {
  main().catch((e: Error) => {
    process.stderr.write(`bench:cluster: ${e.stack ?? e.message}\n`);
    process.exit(2);
  });
}
