import { ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync, rmSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { BeforeApplicationShutdown, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { Pool } from 'pg';
import type { BacktestReport } from '@eagle-eye/contracts';
import { CandidateChange } from '@eagle-eye/rules';
import { Comparison } from './backtest-compare';

/** How many missed / new / severity-changed alerts a stored report lists (the counts are whole). */
export const REPORT_LIST_MAX = 200;
/** A running backtest whose runner has not written for this long is failed (its process died). */
export const STALE_AFTER_S = 600;

export interface BacktestRunnerOptions {
  /** how often to look for a queued backtest; 0: never by itself (tick() only) */
  pollMs?: number;
  /**
   * The command that runs `npm run backtest` (the arguments are appended): by default this Node
   * with this process's flags (the path registration) and the built backtest.cli.js beside this file.
   */
  command?: string[];
  /** a backtest still running after this long is stopped and failed */
  maxRunMs?: number;
}

interface Claimed {
  id: string;
  requested_by: string;
  carriers: string[];
  period_from: Date;
  period_to: Date;
  changes: CandidateChange[];
}

/**
 * Runs the backtests supervisors ask for in the console (table `backtests`, migration 097): claims
 * the oldest queued one (FOR UPDATE SKIP LOCKED; the partial unique index lets one run at a time
 * across replicas), runs `npm run backtest --handoff` on it in a child process, writes its progress
 * while it runs, then the report and its counts, or why it failed. Off the hot path: the replay
 * runs in a process of its own (its own event loop, PostgreSQL pool, Redis connection and keyspace;
 * the hand-off streams are read only), so neither its CPU nor its detector metrics and logs mix
 * with the live detector's.
 */
export class BacktestRunner implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger('BacktestRunner');
  private readonly name = `${hostname()}:${process.pid}`;
  private readonly pollMs: number;
  private readonly command: string[];
  private readonly maxRunMs: number;
  private timer?: NodeJS.Timeout;
  private running: Promise<boolean> | null = null;
  private child: ChildProcess | null = null;
  private stopped = false;

  constructor(
    private readonly pool: Pool,
    private readonly env: NodeJS.ProcessEnv,
    options: BacktestRunnerOptions = {},
  ) {
    this.pollMs = options.pollMs ?? 5000;
    this.command = options.command ?? [
      process.execPath,
      ...process.execArgv,
      join(__dirname, 'backtest.cli.js'),
    ];
    this.maxRunMs = options.maxRunMs ?? 4 * 3600_000;
  }

  onApplicationBootstrap(): void {
    if (this.pollMs <= 0) return;
    this.timer = setInterval(() => {
      if (this.stopped || this.running) return;
      this.tick().catch((e: Error) => this.logger.warn(`backtest runner: ${e.message}`));
    }, this.pollMs);
    this.timer.unref();
  }

  async beforeApplicationShutdown(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    // a backtest under way stops with the detector (failed, "stopped by signal"); ask again later
    this.child?.kill('SIGTERM');
    await this.running?.catch(() => undefined);
  }

  /** Runs the oldest queued backtest, if any and none is running. Whether it ran one. */
  tick(): Promise<boolean> {
    if (this.running) return Promise.resolve(false);
    this.running = this.runOne().finally(() => (this.running = null));
    return this.running;
  }

  private async runOne(): Promise<boolean> {
    await this.pool.query(
      `UPDATE backtests SET status = 'failed', finished_at = now(),
              error = 'the runner stopped while running it (no progress for ' || $1::int || ' s); ask again'
        WHERE status = 'running' AND heartbeat_at < now() - make_interval(secs => $1::int)`,
      [STALE_AFTER_S],
    );
    let claimed: Claimed | undefined;
    try {
      const { rows } = await this.pool.query<Claimed>(
        `UPDATE backtests SET status = 'running', started_at = now(), heartbeat_at = now(), runner = $1,
                progress = 'starting'
          WHERE id = (SELECT id FROM backtests WHERE status = 'queued' ORDER BY id LIMIT 1
                         FOR UPDATE SKIP LOCKED)
          RETURNING id, requested_by, carriers, period_from, period_to, changes`,
        [this.name],
      );
      claimed = rows[0];
    } catch (e) {
      // another replica's runner holds the one running slot (backtests_one_running)
      if ((e as { code?: string }).code === '23505') return false;
      throw e;
    }
    if (!claimed) return false;
    await this.run(claimed);
    return true;
  }

  private async run(b: Claimed): Promise<void> {
    const json = join(tmpdir(), `ee-backtest-${b.id}-${randomBytes(4).toString('hex')}.json`);
    let out = '';
    let err = '';
    let writes = Promise.resolve();
    const progress = (line: string): void => {
      writes = writes
        .then(() =>
          this.pool.query(
            `UPDATE backtests SET progress = $2, heartbeat_at = now() WHERE id = $1 AND status = 'running'`,
            [b.id, line.slice(0, 500)],
          ),
        )
        .then(() => undefined)
        .catch((e: Error) => this.logger.warn(`backtest ${b.id}: progress not written: ${e.message}`));
    };
    const args = [
      '--handoff',
      '--from',
      b.period_from.toISOString(),
      '--to',
      b.period_to.toISOString(),
      ...b.carriers.flatMap((c) => ['--carrier', c]),
      '--rules',
      JSON.stringify(b.changes),
      '--json',
      json,
      '--list',
      '0',
      '--actor',
      b.requested_by,
    ];
    this.logger.log(`backtest ${b.id} of ${b.requested_by}: running`);
    const { code, signal } = await new Promise<{ code: number | null; signal: string | null }>((resolve) => {
      const child = spawn(this.command[0], [...this.command.slice(1), ...args], {
        env: this.env,
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      this.child = child;
      const limit = setTimeout(() => child.kill('SIGTERM'), this.maxRunMs);
      // alive while the child is, progress line or not (a long read of the streams prints none)
      const beat = setInterval(() => {
        this.pool
          .query(`UPDATE backtests SET heartbeat_at = now() WHERE id = $1 AND status = 'running'`, [b.id])
          .catch(() => undefined);
      }, 60_000);
      child.stdout.setEncoding('utf8').on('data', (t: string) => (out += t));
      child.stderr.setEncoding('utf8').on('data', (t: string) => {
        err += t;
        for (const l of t.split('\n')) if (l.trim()) progress(l.replace(/^backtest: /, ''));
      });
      child.on('error', (e) => {
        err += `backtest: cannot start ${this.command.join(' ')}: ${e.message}\n`;
      });
      child.on('close', (c, sig) => {
        clearTimeout(limit);
        clearInterval(beat);
        this.child = null;
        resolve({ code: c, signal: sig });
      });
    });
    if (signal)
      err = `backtest: stopped by ${signal} (the detector stopping, or longer than ${this.maxRunMs / 60_000} min)\n${err}`;
    await writes;
    try {
      if (code !== 0) {
        // the command's message, without its progress lines and usage text
        const reason =
          err
            .trim()
            .split('\n\n')[0]
            .split('\n')
            .filter((l) => !/^backtest: (replaying |\d+ events )/.test(l))
            .map((l) => l.replace(/^backtest: /, ''))
            .join('\n')
            .slice(0, 2000) || 'failed';
        await this.pool.query(
          `UPDATE backtests SET status = 'failed', finished_at = now(), heartbeat_at = now(), error = $2
            WHERE id = $1`,
          [b.id, reason],
        );
        this.logger.warn(`backtest ${b.id}: failed: ${reason.split('\n')[0]}`);
        return;
      }
      const full = JSON.parse(readFileSync(json, 'utf8')) as Comparison & {
        from: number;
        to: number;
        carriers: string[];
        changes: CandidateChange[];
      };
      const report: BacktestReport = {
        from: new Date(full.from).toISOString(),
        to: new Date(full.to).toISOString(),
        carriers: full.carriers,
        changes: full.changes,
        counts: full.counts,
        missed: full.missed.slice(0, REPORT_LIST_MAX),
        added: full.added.slice(0, REPORT_LIST_MAX),
        severityChanged: full.severityChanged.slice(0, REPORT_LIST_MAX),
        text: out,
      };
      await this.pool.query(
        `UPDATE backtests SET status = 'done', finished_at = now(), heartbeat_at = now(), progress = NULL,
                counts = $2, report = $3
          WHERE id = $1`,
        [b.id, JSON.stringify(full.counts), JSON.stringify(report)],
      );
      this.logger.log(
        `backtest ${b.id}: done, matched ${full.counts.matched}, missed ${full.counts.missed}, new ${full.counts.new}`,
      );
    } finally {
      rmSync(json, { force: true });
    }
  }
}
