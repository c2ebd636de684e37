import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Args } from './args';
import { ClusterScalingRow, runClusterScaling } from './cluster-scaling';
import { REPO_ROOT } from './processes';
import { ensureServices } from './stack';

/**
 * `npm run bench:cluster`: the detector draining a hand-off backlog on a local Redis Cluster of 1
 * and of 3 masters, with 1 and 2 detector replicas, and on a single Redis without cluster mode as
 * the baseline (`--masters 0,1,3`), on its own: the measurement is cluster-scaling.ts, which
 * `npm run bench` also runs for its SCALING rows.
 * Its PostgreSQL: DATABASE_URL (the owner's) with REDIS_URL, else its own under .run/bench.
 *   --events N (200000)  --masters 0,1,3 (0: a single Redis)  --replicas 1,2  --pg-port 5465  --redis-port 6415
 *   --cluster-port 6430 (first port; a cluster of n masters uses n ports from it)  --out bench-results
 */

const log = (line: string): void => {
  process.stderr.write(`[bench:cluster ${new Date().toISOString().slice(11, 19)}] ${line}\n`);
};

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
  const rows: ClusterScalingRow[] = [];
  try {
    await runClusterScaling({
      databaseUrl: services.databaseUrl,
      events,
      masters: mastersList,
      replicas: replicasList,
      firstPort,
      runDir: services.runDir ?? join('.run', 'bench'),
      batchSize: 500,
      population: 20000,
      log,
      rows,
    });
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
