import { ChildProcess, fork, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import type { LoadgenOptions, LoadgenProgress, LoadgenResult } from './open-loop';
import type { ProbeSend } from './traffic';

/** The repository root, from the sources (load-tests/src) or from the build (dist/load-tests/src). */
export const REPO_ROOT = [join(__dirname, '..', '..'), join(__dirname, '..', '..', '..')].find((d) =>
  existsSync(join(d, 'package.json')),
) as string;

const REGISTER = join(REPO_ROOT, 'scripts/register-paths.js');

/** A compiled file under dist/, checked so a missing build fails with a plain message. */
export function distFile(rel: string): string {
  const f = join(REPO_ROOT, 'dist', rel);
  if (!existsSync(f)) throw new Error(`${f} does not exist: run \`npm run build\` first`);
  return f;
}

/**
 * A free loopback port: one the OS picks, or, with EE_BENCH_PORTS=<from>-<to> (engineers sharing a
 * machine each keep to a range of their own), the next free one of that range, from a random start
 * (a port is only reserved once the app binds it: two runs in one range at once should give each
 * run a range of its own).
 */
export async function freePort(): Promise<number> {
  const range = /^(\d+)-(\d+)$/.exec(process.env.EE_BENCH_PORTS ?? '');
  if (!range) return listenOn(0);
  const [from, to] = [Number(range[1]), Number(range[2])];
  for (let i = 0; i <= to - from; i++) {
    const port = from + ((portCursor + i) % (to - from + 1));
    const ok = await listenOn(port).catch(() => 0);
    if (ok) {
      portCursor = port - from + 1;
      return ok;
    }
  }
  throw new Error(`no free port in EE_BENCH_PORTS=${process.env.EE_BENCH_PORTS}`);
}

let portCursor = Math.floor(Math.random() * 1e6);

/**
 * `n` consecutive free ports whose cluster bus ports (each + 10000) are free too: the first one
 * found from `freePort()` (a Redis Cluster node listens on both).
 */
export async function freeClusterPorts(n: number): Promise<number[]> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const first = await freePort();
    const ports = Array.from({ length: n }, (_, i) => first + i);
    if (ports[n - 1] + 10000 > 65535) continue;
    let ok = true;
    for (const p of ports.flatMap((x) => [x, x + 10000])) {
      if (!(await listenOn(p).catch(() => 0))) {
        ok = false;
        break;
      }
    }
    if (ok) return ports;
  }
  throw new Error(`no ${n} consecutive free ports (with their bus ports + 10000) found`);
}

function listenOn(port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(port, '127.0.0.1', () => {
      const addr = srv.address();
      const p = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(p));
    });
  });
}

export interface Child {
  name: string;
  proc: ChildProcess;
  output(): string;
  exited: Promise<number | null>;
  stop(timeoutMs?: number): Promise<number | null>;
}

function wrap(name: string, proc: ChildProcess): Child {
  let out = '';
  const keep = (d: Buffer): void => {
    out += d.toString();
    if (out.length > 200000) out = out.slice(-100000);
  };
  proc.stdout?.on('data', keep);
  proc.stderr?.on('data', keep);
  const exited = new Promise<number | null>((resolve) => proc.on('exit', (code) => resolve(code)));
  return {
    name,
    proc,
    output: () => out,
    exited,
    async stop(timeoutMs = 15000) {
      if (proc.exitCode !== null || proc.signalCode !== null) return proc.exitCode;
      proc.kill('SIGTERM');
      const timer = setTimeout(() => proc.kill('SIGKILL'), timeoutMs);
      const code = await exited;
      clearTimeout(timer);
      return code;
    },
  };
}

/**
 * Starts a built app (dist/apps/<app>/src/main.js) the way `npm run stack` does. BENCH_NODE_ARGS
 * adds node arguments to the apps named in BENCH_NODE_ARGS_APPS (comma-separated; all when unset),
 * for example `BENCH_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof" BENCH_NODE_ARGS_APPS=detector`
 * to profile the detector (node refuses --cpu-prof in NODE_OPTIONS).
 */
export function startApp(app: string, name: string, env: Record<string, string>): Child {
  const main = distFile(`apps/${app}/src/main.js`);
  const only = process.env.BENCH_NODE_ARGS_APPS?.split(',').map((a) => a.trim());
  const extra =
    !only || only.includes(app) ? (process.env.BENCH_NODE_ARGS ?? '').split(' ').filter(Boolean) : [];
  const proc = spawn(process.execPath, [...extra, '-r', REGISTER, main], {
    cwd: REPO_ROOT,
    env: { ...process.env, LOG_LEVEL: 'warn', LOG_FORMAT: 'json', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return wrap(name, proc);
}

/** Starts one of the load-test tools (dist/load-tests/src/<file>.js) as a child process. */
export function startTool(file: string, args: string[] = [], ipc = false): Child {
  const main = distFile(`load-tests/src/${file}.js`);
  const proc = ipc
    ? fork(main, args, {
        cwd: REPO_ROOT,
        execArgv: ['-r', REGISTER],
        stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
      })
    : spawn(process.execPath, ['-r', REGISTER, main, ...args], {
        cwd: REPO_ROOT,
        stdio: ['ignore', 'pipe', 'pipe'],
      });
  return wrap(file, proc);
}

/** Polls a URL until it answers 200, the process exits, or time runs out. */
export async function waitForHttp(url: string, child?: Child, timeoutMs = 30000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child && (child.proc.exitCode !== null || child.proc.signalCode !== null)) {
      throw new Error(
        `${child.name} exited (${child.proc.exitCode ?? child.proc.signalCode}): ${child.output().slice(-1500)}`,
      );
    }
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(2000) });
      if (res.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 150));
  }
  throw new Error(`${url} not ready after ${timeoutMs} ms${child ? ': ' + child.output().slice(-1500) : ''}`);
}

/** Waits until a child prints a line matching `re`; returns the match. */
export async function waitForLine(child: Child, re: RegExp, timeoutMs = 15000): Promise<RegExpExecArray> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const m = re.exec(child.output());
    if (m) return m;
    if (child.proc.exitCode !== null) throw new Error(`${child.name} exited: ${child.output().slice(-1500)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`${child.name} did not print ${re} within ${timeoutMs} ms: ${child.output().slice(-1500)}`);
}

export type LoadgenMessage =
  | { type: 'probe'; probe: ProbeSend }
  | { type: 'progress'; progress: LoadgenProgress }
  | { type: 'result'; result: LoadgenResult }
  | { type: 'error'; message: string };

/**
 * Runs the load generator in its own process (its own core: the generator must not share a thread
 * with the bookkeeping of the benchmark, or its schedule slips), relaying probes and progress.
 */
export async function runLoadgenChild(
  options: LoadgenOptions,
  hooks: { onProbe?: (p: ProbeSend) => void; onProgress?: (p: LoadgenProgress) => void } = {},
): Promise<LoadgenResult> {
  const child = startTool('loadgen.cli', ['--ipc'], true);
  return new Promise<LoadgenResult>((resolve, reject) => {
    let settled = false;
    child.proc.on('message', (m: LoadgenMessage) => {
      switch (m.type) {
        case 'probe':
          hooks.onProbe?.(m.probe);
          break;
        case 'progress':
          hooks.onProgress?.(m.progress);
          break;
        case 'result':
          settled = true;
          resolve(m.result);
          break;
        case 'error':
          settled = true;
          reject(new Error(`load generator: ${m.message}`));
          break;
      }
    });
    void child.exited.then((code) => {
      if (!settled) reject(new Error(`load generator exited with ${code}: ${child.output().slice(-1500)}`));
    });
    child.proc.send({ type: 'run', options });
  });
}
