import { Logger } from '@nestjs/common';
import { Client, ClientConfig, Pool } from 'pg';
import { ResolvedRules, resolveRules, RuleSet, RulesRepository } from '@eagle-eye/rules';
import { ruleSetVersion } from '../metrics';

/**
 * The rule set this replica scores with. Reloaded when PostgreSQL announces a change
 * (LISTEN eagleeye_rules, sent by a trigger on every new rule version, so a change made through
 * the console API or by hand in SQL both count), and by a cheap version check every
 * `checkMs` in case the listening connection was down when the change happened.
 */
export class RulesCache {
  private readonly logger = new Logger('Rules');
  private set: RuleSet | null = null;
  private resolved = new Map<string, ResolvedRules>();
  private listener: Client | null = null;
  private timer: NodeJS.Timeout | null = null;
  private schema = 'public';
  private stopped = false;
  private reloading: Promise<void> | null = null;
  private again = false;

  constructor(
    private readonly repo: RulesRepository,
    private readonly pool: Pool,
    private readonly checkMs: number,
  ) {}

  get version(): number {
    return this.set?.version ?? 0;
  }

  forCarrier(carrierId: string): ResolvedRules {
    if (!this.set) throw new Error('rules not loaded yet');
    let r = this.resolved.get(carrierId);
    if (!r) {
      r = resolveRules(this.set, carrierId);
      this.resolved.set(carrierId, r);
    }
    return r;
  }

  async start(): Promise<void> {
    this.stopped = false;
    const { rows } = await this.pool.query<{ s: string }>('SELECT current_schema() AS s');
    this.schema = rows[0].s;
    await this.reload();
    await this.listen();
    this.timer = setInterval(() => void this.check(), this.checkMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    const l = this.listener;
    this.listener = null;
    await l?.end().catch(() => undefined);
  }

  /** Loads the active rules; concurrent requests coalesce into one more load. */
  reload(): Promise<void> {
    if (this.reloading) {
      this.again = true;
      return this.reloading;
    }
    this.reloading = (async () => {
      do {
        this.again = false;
        const set = await this.repo.getActiveRuleSet();
        if (!this.set || set.version !== this.set.version) {
          this.set = set;
          this.resolved = new Map();
          ruleSetVersion.set(set.version);
          this.logger.log(`rule set version ${set.version} active`);
        }
      } while (this.again);
    })().finally(() => (this.reloading = null));
    return this.reloading;
  }

  private async check(): Promise<void> {
    try {
      if ((await this.repo.currentVersion()) !== this.version) await this.reload();
      if (!this.listener && !this.stopped) await this.listen();
    } catch (e) {
      this.logger.warn(`rule version check failed: ${(e as Error).message}`);
    }
  }

  private async listen(): Promise<void> {
    const client = new Client((this.pool as unknown as { options: ClientConfig }).options);
    client.on('error', (e: Error) => {
      this.logger.warn(`rules listener lost: ${e.message}; the periodic check reconnects`);
      if (this.listener === client) this.listener = null;
      void client.end().catch(() => undefined);
    });
    client.on('notification', (n) => {
      if (n.channel === 'eagleeye_rules' && n.payload?.startsWith(`${this.schema}:`)) {
        this.reload().catch((e: Error) => this.logger.warn(`rule reload failed: ${e.message}`));
      }
    });
    await client.connect();
    await client.query('LISTEN eagleeye_rules');
    if (this.stopped) {
      await client.end();
      return;
    }
    this.listener = client;
    // a change between the first load and LISTEN would otherwise wait for the periodic check
    await this.reload();
  }
}
