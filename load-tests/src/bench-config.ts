import { Args } from './args';

/**
 * What `npm run bench` measures and for how long. The full run takes roughly 15 + soak minutes on
 * a 2-core machine; `--smoke` runs every phase through the same code with small numbers in about a
 * minute (the smoke test in `npm test` uses it).
 */
export interface BenchConfig {
  smoke: boolean;
  /** events per batch sent to ingest */
  batchSize: number;
  /** gRPC streams (connections) of each load generator */
  streams: number;
  /** detector replicas of the stack (throughput, latency, memory, soak); the scaling rows start 1 and 2 */
  detectors: number;
  /** seconds of the transport-limit measurement */
  transportS: number;
  /** seconds of each Lua measurement */
  luaS: number;
  /** pool of the headline Lua figure (numbers, each with one earlier event) */
  luaPool: number;
  /** pools for the cost-vs-tracked-numbers curve */
  luaPools: number[];
  /** history spans (seconds) for the cost-vs-window-fill curve, on a pool of 1000 numbers */
  luaSpansS: number[];
  /** events of history per number for the span curve */
  luaHistoryEvents: number;
  /** subscribers the background traffic is among */
  population: number;
  /** seconds of each throughput-search step */
  stepS: number;
  /** open-loop verification steps of the throughput search */
  searchSteps: number;
  /** seconds of each latency level (25, 50, 75 % of the sustained maximum) */
  latencyS: number;
  /** alerting calls per second during the latency levels */
  probesPerS: number;
  /** numbers made active for the Redis memory figure */
  memoryNumbers: number;
  /** at most this many seconds of sending for the memory figure (fewer numbers if it runs out) */
  memoryFillS: number;
  /** events in the backlog each detector-scaling measurement drains */
  scalingEvents: number;
  /**
   * the cluster scaling rows: Redis Cluster masters (0: a single Redis without cluster mode) times
   * detector replicas, each draining a backlog of `clusterEvents` on a whole stack of its own;
   * no masters: skipped
   */
  clusterMasters: number[];
  clusterReplicas: number[];
  clusterEvents: number;
  /** first port of the clusters (a cluster of n masters takes n ports, each + 10000 for its bus); unset: free ones */
  clusterPort?: number;
  /** seconds of the heap soak (at 50 % of the sustained maximum) */
  soakS: number;
  /** duration-step probe calls sent at the start of the soak */
  stepProbes: number;
  /** heap sampling interval during the soak, seconds */
  heapEveryS: number;
  /** private Redis / PostgreSQL ports (when REDIS_URL / DATABASE_URL are not given) */
  redisPort: number;
  pgPort: number;
  /** folder of the private services and the clusters' data */
  runDir: string;
  /** a Redis / PostgreSQL to use instead of starting private ones (both or neither) */
  redisUrl?: string;
  databaseUrl?: string;
  /** directory of the JSON result */
  outDir: string;
  /**
   * only the latency to the console at this many events/s (`--latency-at`): no limits, throughput
   * search, memory, scaling or soak; `latencyRuns` levels in a row
   */
  latencyAt?: number;
  latencyRuns: number;
  /**
   * app environment of every other level of a `--latency-at` run (`--alt-env K=V,...`): levels
   * alternate A (the stack as started), B (the apps these variables are for restarted with them), A, ...
   */
  altEnv?: Record<string, string>;
  /**
   * the BullMQ alerts queue on a Redis of its own (`--queue-redis on|alt`, QUEUE_REDIS_URL of every
   * app): a second private Redis on `queueRedisPort` (or QUEUE_REDIS_URL with existing servers);
   * 'on' for the whole run, 'alt' (with --latency-at) only the B levels, A keeping the queue on the
   * state Redis
   */
  queueRedis?: 'on' | 'alt';
  queueRedisPort: number;
  queueRedisUrl?: string;
}

type Preset = Omit<
  BenchConfig,
  'outDir' | 'redisPort' | 'pgPort' | 'runDir' | 'latencyRuns' | 'detectors' | 'queueRedisPort'
>;

export const FULL: Preset = {
  smoke: false,
  batchSize: 500,
  streams: 2,
  transportS: 10,
  luaS: 3,
  luaPool: 100_000,
  luaPools: [1000, 100_000],
  luaSpansS: [0, 600, 3600, 86400],
  luaHistoryEvents: 24,
  // about as many subscribers as make the benchmark's calls: a real subscriber makes a few calls a
  // day, and with 200,000 the ceiling probe alone gave a thousand brand-new numbers 3 outgoing
  // calls in 10 minutes, which the model rightly scores as fraud-like (87 %): thousands of alerts
  // queued ahead of the latency probes. Tokens are computed from the index, so a large population
  // costs nothing until a number calls.
  population: 5_000_000,
  stepS: 15,
  searchSteps: 5,
  latencyS: 30,
  probesPerS: 20,
  memoryNumbers: 1_000_000,
  memoryFillS: 120,
  scalingEvents: 150_000,
  // a backlog of several detector rounds, small enough that six drains (and three stack starts)
  // add a few minutes to the run
  clusterMasters: [0, 1, 3],
  clusterReplicas: [1, 2],
  clusterEvents: 100_000,
  soakS: 600,
  stepProbes: 20,
  heapEveryS: 5,
};

export const SMOKE: Preset = {
  smoke: true,
  batchSize: 200,
  streams: 2,
  transportS: 1.5,
  luaS: 0.5,
  luaPool: 500,
  luaPools: [200, 1000],
  luaSpansS: [0, 3600],
  luaHistoryEvents: 4,
  population: 2000,
  stepS: 2,
  searchSteps: 1,
  latencyS: 4,
  probesPerS: 10,
  memoryNumbers: 2000,
  memoryFillS: 30,
  scalingEvents: 4000,
  // one small row (a one-master cluster, one replica): the code path, not a figure
  clusterMasters: [1],
  clusterReplicas: [1],
  clusterEvents: 3000,
  soakS: 4,
  stepProbes: 2,
  heapEveryS: 1,
};

export const USAGE = `npm run bench [-- options]        the full suite (about 15 minutes plus the soak)
npm run bench:smoke               every phase with small numbers (about a minute)

  --soak-s N            heap soak length in seconds (full: 600)
  --memory-numbers N    numbers made active for the Redis bytes-per-number figure (full: 1000000)
  --memory-fill-s N     at most N seconds of sending for it; fewer numbers if that runs out (full: 120)
  --step-s N            seconds per throughput-search step (full: 15)
  --search-steps N      open-loop steps of the throughput search (full: 5)
  --latency-s N         seconds per latency level (full: 30)
  --probes-per-s N      alerting calls per second in the latency levels (full: 20)
  --population N        subscribers of the background traffic (full: 5000000)
  --batch N             events per batch (full: 500)
  --detectors N         detector replicas of the stack, each leasing its share of the partitions (1)
  --cluster-masters L   Redis Cluster sizes of the scaling rows, 0 = a single Redis (full: 0,1,3; smoke: 1)
  --cluster-replicas L  detector replicas of each (full: 1,2; smoke: 1)
  --cluster-events N    events in each backlog they drain (full: 100000)
  --cluster-port N      first port of the clusters (n masters take n ports, bus ports +10000; default: free ones)
  --skip-cluster        no cluster scaling rows (saves a few minutes)
  --latency-at N        only the latency to the console, at N events/s (the stack, a warm-up, then
                        --latency-runs levels of --latency-s each; nothing else)
  --latency-runs N      levels of a --latency-at run (1; 4 with --alt-env or --queue-redis alt)
  --alt-env K=V,...     with --latency-at: every other level with these app settings (A, B, A, B: the
                        apps they are for restarted between levels), to compare two settings in the same minutes
  --queue-redis on|alt  the alerts queue on a second private Redis (QUEUE_REDIS_URL): on = the whole run,
                        alt = with --latency-at the B levels only (A: on the state Redis, as by default)
  --queue-redis-port N  its port (the Redis port + 1); with REDIS_URL/DATABASE_URL set QUEUE_REDIS_URL instead
  --redis-port N        private Redis port (6415)      --pg-port N   private PostgreSQL port (5465)
  --run-dir DIR         folder of the private services (.run/bench, .run/bench-<redis port> on other ports)
  --out DIR             where the JSON result goes (bench-results)
Set both REDIS_URL and DATABASE_URL to use existing (loopback) servers instead of private ones;
the run then works under its own key prefix and schema and removes them afterwards.
`;

/** `K=V,K2=V2` (app settings: upper-case names) as an object. */
export function parseEnvList(raw: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of raw.split(',')) {
    const m = /^([A-Z][A-Z0-9_]*)=(.*)$/.exec(part.trim());
    if (!m) throw new Error(`--alt-env: expected NAME=value[,NAME=value...], got "${part}"`);
    out[m[1]] = m[2];
  }
  return out;
}

export function parseBenchArgs(argv: string[], env: NodeJS.ProcessEnv): BenchConfig {
  const a = new Args(argv, ['smoke', 'skip-cluster']);
  const base = a.flag('smoke') ? SMOKE : FULL;
  const list = (name: string, def: number[], max: number): number[] => {
    const raw = a.str(name);
    if (raw === undefined) return def;
    const v = raw.split(',').map((x) => Number(x.trim()));
    if (!v.length || v.some((x) => !Number.isInteger(x) || x < 0 || x > max))
      throw new Error(`--${name} must be a comma-separated list of integers in 0..${max}, got ${raw}`);
    return v;
  };
  const redisPort = a.num('redis-port', 6415, 1, 65535);
  const c: BenchConfig = {
    ...base,
    soakS: a.num('soak-s', base.soakS, 1),
    memoryNumbers: a.num('memory-numbers', base.memoryNumbers, 100),
    memoryFillS: a.num('memory-fill-s', base.memoryFillS, 1),
    stepS: a.num('step-s', base.stepS, 1),
    searchSteps: a.num('search-steps', base.searchSteps, 1, 20),
    latencyS: a.num('latency-s', base.latencyS, 1),
    probesPerS: a.num('probes-per-s', base.probesPerS, 1, 1000),
    population: a.num('population', base.population, 100),
    batchSize: a.num('batch', base.batchSize, 10, 5000),
    detectors: a.num('detectors', 1, 1, 16),
    clusterMasters: list('cluster-masters', base.clusterMasters, 16),
    clusterReplicas: list('cluster-replicas', base.clusterReplicas, 8),
    clusterEvents: a.num('cluster-events', base.clusterEvents, 1000),
    clusterPort: a.num('cluster-port', undefined, 1, 55000),
    redisPort,
    pgPort: a.num('pg-port', 5465, 1, 65535),
    // two private runs on different ports must not share a data folder
    runDir: a.str('run-dir', redisPort === 6415 ? '.run/bench' : `.run/bench-${redisPort}`) as string,
    outDir: a.str('out', 'bench-results') as string,
    redisUrl: env.REDIS_URL,
    databaseUrl: env.DATABASE_URL,
    latencyAt: a.num('latency-at', undefined, 1, 10_000_000),
    latencyRuns: 1,
    queueRedisPort: redisPort + 1,
  };
  const alt = a.str('alt-env');
  if (alt !== undefined) c.altEnv = parseEnvList(alt);
  const queue = a.str('queue-redis');
  if (queue !== undefined && queue !== 'on' && queue !== 'alt')
    throw new Error(`--queue-redis: on or alt, got ${queue}`);
  c.queueRedis = queue;
  if (queue === 'alt' && c.latencyAt === undefined)
    throw new Error('--queue-redis alt goes with --latency-at');
  c.queueRedisPort = a.num('queue-redis-port', redisPort + 1, 1, 65535);
  if (queue && c.queueRedisPort === redisPort)
    throw new Error('--queue-redis-port: not the port of the state Redis');
  c.queueRedisUrl = queue ? env.QUEUE_REDIS_URL : undefined;
  c.latencyRuns = a.num('latency-runs', c.altEnv || queue === 'alt' ? 4 : 1, 1, 100);
  if ((c.altEnv || a.str('latency-runs') !== undefined) && c.latencyAt === undefined)
    throw new Error('--alt-env and --latency-runs go with --latency-at');
  if (a.flag('skip-cluster')) c.clusterMasters = [];
  if (c.clusterMasters.some((m) => m === 2))
    throw new Error('--cluster-masters: redis-cli --cluster create needs 1 or at least 3 masters, not 2');
  if (c.clusterReplicas.some((r) => r < 1)) throw new Error('--cluster-replicas: at least one replica');
  a.assertAllUsed();
  if (!c.redisUrl !== !c.databaseUrl) {
    throw new Error('set both REDIS_URL and DATABASE_URL (existing servers) or neither (private ones)');
  }
  if (c.queueRedis && c.redisUrl && !c.queueRedisUrl)
    throw new Error('--queue-redis with REDIS_URL/DATABASE_URL (existing servers): set QUEUE_REDIS_URL too');
  return c;
}
