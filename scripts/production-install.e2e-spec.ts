import { spawn } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import {
  createTestSchema,
  freePort,
  REPO_ROOT,
  RunningApp,
  spawnApp,
  TestSchema,
  testRedisUrl,
  waitForHttp,
} from '@eagle-eye/testing';
import { PRODUCTION_FILES } from './production-files';

/**
 * A production install runs: the build output with the runtime dependencies only (`npm install
 * --omit=dev` from the lock file) in a folder of its own, with nothing of the development checkout
 * within reach of Node's module resolution, starts an app to /readyz. The files copied here are
 * the ones the README's "Deploying" section lists and deploy/Dockerfile copies (./production-files).
 */
jest.setTimeout(300_000);

const NOT_SOURCE = (src: string): boolean => !/\.ts$/.test(src) || src.endsWith('.d.ts');

/** Runs deploy/entrypoint.sh of the install in `dir`, as the image's ENTRYPOINT does. */
function spawnEntrypoint(args: string[], env: Record<string, string>, dir: string): RunningApp {
  const proc = spawn('sh', [join(dir, 'deploy/entrypoint.sh'), ...args], {
    cwd: tmpdir(), // the entry point moves to the install's root itself
    env: { ...process.env, LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  proc.stdout.on('data', (d: Buffer) => (out += d.toString()));
  proc.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((resolve) => proc.on('exit', (code) => resolve(code)));
  return {
    name: args.join(' '),
    proc,
    output: () => out,
    exited,
    async stop(signal = 'SIGTERM', timeoutMs = 15000) {
      if (proc.exitCode !== null) return proc.exitCode;
      proc.kill(signal);
      const timer = setTimeout(() => proc.kill('SIGKILL'), timeoutMs);
      const code = await exited;
      clearTimeout(timer);
      return code;
    },
  };
}

function run(cmd: string, args: string[], cwd: string): Promise<{ code: number | null; output: string }> {
  // npm passes its own settings (npm_config_*, the checkout as local prefix) to the scripts it
  // runs; the install under test must see none of them.
  const env = Object.fromEntries(
    Object.entries(process.env).filter(([k]) => !/^npm_/i.test(k) && k !== 'NODE_PATH'),
  );
  return new Promise((resolve) => {
    const proc = spawn(cmd, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    proc.stdout.on('data', (d: Buffer) => (output += d.toString()));
    proc.stderr.on('data', (d: Buffer) => (output += d.toString()));
    proc.on('exit', (code) => resolve({ code, output }));
  });
}

describe('production install (runtime dependencies only)', () => {
  let dir: string;
  let db: TestSchema;
  let app: RunningApp | undefined;

  beforeAll(async () => {
    if (!existsSync(join(REPO_ROOT, 'dist/apps/ingest/src/main.js'))) {
      throw new Error('dist/ is missing: run the tests with `npm test`, which builds first');
    }
    dir = mkdtempSync(join(tmpdir(), 'ee-production-'));
    for (const f of PRODUCTION_FILES) {
      cpSync(join(REPO_ROOT, f), join(dir, f), { recursive: true, filter: NOT_SOURCE });
    }
    db = await createTestSchema();
  });
  afterAll(async () => {
    await app?.stop();
    await db?.drop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('installs from the lock file without dev dependencies', async () => {
    // Not `npm ci`: the registry mirror lacks some other platforms' optional binaries (buf,
    // msgpackr-extract), which npm ci counts as lock drift (see scripts/lib.sh).
    const install = await run(
      'npm',
      ['install', '--omit=dev', '--no-audit', '--no-fund', '--prefer-offline', '--loglevel=error'],
      dir,
    );
    if (install.code !== 0)
      throw new Error(`npm install exited with ${install.code}: ${install.output.slice(-3000)}`);
    const lock = JSON.parse(readFileSync(join(dir, 'package-lock.json'), 'utf8')) as {
      packages: Record<string, { dev?: boolean }>;
    };
    const devOnly = Object.entries(lock.packages)
      .filter(([path, p]) => path && p.dev)
      .map(([path]) => path);
    expect(devOnly).toEqual(expect.arrayContaining(['node_modules/jest', 'node_modules/eslint']));
    expect(devOnly.filter((p) => existsSync(join(dir, p)))).toEqual([]);
    expect(existsSync(join(dir, 'node_modules/tsconfig-paths'))).toBe(true);
  });

  it('starts the ingest and the detector from the build output to /readyz', async () => {
    // nothing of the checkout may be reachable from here (Node looks for node_modules upwards)
    expect(relative(REPO_ROOT, dir).startsWith('..')).toBe(true);
    const httpPort = await freePort();
    app = spawnApp(
      'ingest',
      {
        NODE_ENV: 'production',
        // a throw-away stack: the test database's published password, API keys without TLS
        EE_ALLOW_DEMO_IN_PRODUCTION: 'true',
        INGEST_HTTP_PORT: String(httpPort),
        INGEST_GRPC_PORT: String(await freePort()),
        REDIS_URL: testRedisUrl(),
        DATABASE_URL: db.url,
        REDIS_KEY_PREFIX: `t${httpPort}`,
      },
      dir,
    );
    await waitForHttp(`http://127.0.0.1:${httpPort}/readyz`, app, 60_000);
    expect(await app.stop('SIGTERM')).toBe(0);
    app = undefined;

    // the detector, through the image's entry point (deploy/entrypoint.sh detector, as the
    // Kubernetes Deployment runs it): its Lua scripts and bundled model come from the source tree
    const detectorPort = await freePort();
    app = spawnEntrypoint(
      ['detector'],
      {
        NODE_ENV: 'production',
        // a throw-away stack: the test database's published password, API keys without TLS
        EE_ALLOW_DEMO_IN_PRODUCTION: 'true',
        DETECTOR_HTTP_PORT: String(detectorPort),
        REDIS_URL: testRedisUrl(),
        DATABASE_URL: db.url,
        REDIS_KEY_PREFIX: `t${detectorPort}`,
      },
      dir,
    );
    await waitForHttp(`http://127.0.0.1:${detectorPort}/readyz`, app, 60_000);
    expect(await app.stop('SIGTERM')).toBe(0);
    app = undefined;
  });
});
