import { LoggerService } from '@nestjs/common';
import { currentCorrelationId } from './correlation';
import { redactPhoneNumbers } from './redact';

type Level = 'debug' | 'info' | 'warn' | 'error';
const ORDER: Record<Level, number> = { debug: 10, info: 20, warn: 30, error: 40 };

/**
 * One JSON object per line on stdout: time, level, service, context, correlation id, message.
 * Every message and error text is redacted of phone-number-like digit runs.
 */
export class JsonLogger implements LoggerService {
  constructor(
    private readonly service: string,
    private readonly minLevel: Level = 'info',
    private readonly format: 'json' | 'pretty' = 'json',
    private readonly out: (line: string) => void = (l) => process.stdout.write(l + '\n'),
  ) {}

  log(message: unknown, ...rest: unknown[]): void {
    this.write('info', message, rest);
  }
  error(message: unknown, ...rest: unknown[]): void {
    this.write('error', message, rest);
  }
  warn(message: unknown, ...rest: unknown[]): void {
    this.write('warn', message, rest);
  }
  debug(message: unknown, ...rest: unknown[]): void {
    this.write('debug', message, rest);
  }
  verbose(message: unknown, ...rest: unknown[]): void {
    this.write('debug', message, rest);
  }

  private write(level: Level, message: unknown, rest: unknown[]): void {
    if (ORDER[level] < ORDER[this.minLevel]) return;
    // Nest passes (message, context) or (message, stack, context).
    const context = typeof rest[rest.length - 1] === 'string' ? (rest[rest.length - 1] as string) : undefined;
    const stack = level === 'error' && rest.length > 1 && typeof rest[0] === 'string' ? rest[0] : undefined;
    const entry: Record<string, unknown> = {
      time: new Date().toISOString(),
      level,
      service: this.service,
    };
    if (context) entry.context = context;
    const cid = currentCorrelationId();
    if (cid) entry.correlationId = cid;
    if (message instanceof Error) {
      entry.msg = redactPhoneNumbers(message.message);
      entry.err = redactPhoneNumbers(message.stack ?? '');
    } else if (typeof message === 'object' && message !== null) {
      for (const [k, v] of Object.entries(message)) {
        entry[k] = typeof v === 'string' ? redactPhoneNumbers(v) : v;
      }
    } else {
      entry.msg = redactPhoneNumbers(String(message));
    }
    if (stack) entry.err = redactPhoneNumbers(stack);
    if (this.format === 'pretty') {
      const { time, level: l, service, context: c, msg, ...more } = entry;
      const extra = Object.keys(more).length ? ' ' + JSON.stringify(more) : '';
      this.out(
        `${String(time)} ${String(l).toUpperCase().padEnd(5)} [${String(service)}${c ? '/' + String(c) : ''}] ${String(msg ?? '')}${extra}`,
      );
    } else {
      this.out(JSON.stringify(entry));
    }
  }
}
