import { ChildProcess, spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { join } from 'node:path';

export const REPO_ROOT = join(__dirname, '..', '..', '..');

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

export interface RunningApp {
  name: string;
  proc: ChildProcess;
  output: () => string;
  /** sends SIGTERM and resolves with the exit code */
  stop(signal?: NodeJS.Signals, timeoutMs?: number): Promise<number | null>;
  exited: Promise<number | null>;
}

/**
 * Starts a built app (dist/apps/<name>) as a child process, as the stack does; from the checkout,
 * or from another folder holding a build (a production install).
 */
export function spawnApp(name: string, env: Record<string, string>, root = REPO_ROOT): RunningApp {
  const proc = spawn(
    process.execPath,
    ['-r', join(root, 'scripts/register-paths.js'), join(root, `dist/apps/${name}/src/main.js`)],
    { cwd: root, env: { ...process.env, LOG_LEVEL: 'warn', ...env }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let out = '';
  proc.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  proc.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((resolve) => proc.on('exit', (code) => resolve(code)));
  return {
    name,
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

/** Polls a URL until it answers 200 (or the app exits, or time runs out). */
export async function waitForHttp(url: string, app?: RunningApp, timeoutMs = 60000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (app && app.proc.exitCode !== null) {
      throw new Error(`${app.name} exited with ${app.proc.exitCode}: ${app.output().slice(-2000)}`);
    }
    try {
      const res = await fetch(url);
      if (res.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${url} not ready after ${timeoutMs} ms${app ? ': ' + app.output().slice(-2000) : ''}`);
}
