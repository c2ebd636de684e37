import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Inject, Injectable, OnModuleDestroy, ServiceUnavailableException } from '@nestjs/common';
import { Piscina } from 'piscina';
import { ConsoleConfig, CONSOLE_CONFIG } from '../config';
import { consoleLogins } from '../console.metrics';
import type { PasswordTask } from './password.worker';

/** bcrypt cost of new password hashes */
export const BCRYPT_COST = 10;

/**
 * Password hashing and checks on a small pool of worker threads (piscina), so a flood of sign-ins
 * competes for CPU but never stalls the event loop that pushes live alerts to the desks. A bounded
 * queue: past CONSOLE_PASSWORD_QUEUE waiting checks a sign-in is refused at once with 503 and
 * Retry-After rather than waiting behind the flood.
 */
@Injectable()
export class PasswordHasher implements OnModuleDestroy {
  private readonly pool: Piscina<PasswordTask, boolean | string>;

  constructor(@Inject(CONSOLE_CONFIG) config: ConsoleConfig) {
    // the build's JavaScript (the console always runs from dist); next to this file
    const filename = [join(__dirname, 'password.worker.js')].find((f) => existsSync(f));
    if (!filename) throw new Error(`password worker not found next to ${__filename}: run the build`);
    this.pool = new Piscina({
      filename,
      minThreads: 1,
      maxThreads: config.CONSOLE_PASSWORD_THREADS,
      maxQueue: config.CONSOLE_PASSWORD_QUEUE,
      idleTimeout: 60_000,
    });
  }

  async compare(password: string, hash: string): Promise<boolean> {
    return (await this.run({ op: 'compare', password, hash })) === true;
  }

  async hash(password: string): Promise<string> {
    return String(await this.run({ op: 'hash', password, cost: BCRYPT_COST }));
  }

  private async run(task: PasswordTask): Promise<boolean | string> {
    try {
      return await this.pool.run(task);
    } catch (e) {
      if (/queue is at limit/i.test((e as Error).message)) {
        consoleLogins.inc({ result: 'busy' });
        throw new ServiceUnavailableException('too many sign-ins in progress; retry in a second');
      }
      throw e;
    }
  }

  async onModuleDestroy(): Promise<void> {
    await this.pool.destroy();
  }
}
