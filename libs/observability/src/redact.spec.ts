import { Writable } from 'node:stream';
import fc from 'fast-check';
import pino from 'pino';
import { pinoOptions } from './logging';
import { redactPhoneNumbers, redactText, redactUrl, redactValue } from './redact';
import { initTracing, shutdownTracing, startSpan, withSpan } from './tracing';

const FULL_WIDTH = (s: string) => s.replace(/[0-9]/g, (d) => String.fromCharCode(0xff10 + Number(d)));
const ARABIC_INDIC = (s: string) => s.replace(/[0-9]/g, (d) => String.fromCharCode(0x0660 + Number(d)));

/** Every way of writing a number that the shared check (libs/pseudonym clear-number.ts) knows. */
const FORMATS: [string, string][] = [
  ['plain mobile', '13812345678'],
  ['E.164', '+8613812345678'],
  ['international prefix', '0085512345678'],
  ['trailing dot', '13812345678.'],
  ['glued to a word', 'id13812345678'],
  ['dashes', '138-1234-5678'],
  ['spaces', '138 1234 5678'],
  ['dots', '138.1234.5678'],
  ['middle dots', '138·1234·5678'],
  ['country code and spaces', '+86 138 1234 5678'],
  ['landline with parentheses', '(028) 8765-4321'],
  ['UK landline', '+44 20 7946 0958'],
  ['full-width digits', FULL_WIDTH('13812345678')],
  ['full-width plus and digits', '＋' + FULL_WIDTH('8613812345678')],
  ['ideographic spaces', '138\u30001234\u30005678'],
  ['full-width hyphens', '138\uFF0D1234\uFF0D5678'],
  ['Arabic-Indic digits', ARABIC_INDIC('13812345678')],
];

/** The ASCII digits of a format: what must not appear in a line, however it is spaced. */
function digitsOf(s: string): string {
  return s
    .normalize('NFKC')
    .replace(/\p{Nd}/gu, (d) => String(Number.parseInt(d, 10) || d.charCodeAt(0) - 0x0660))
    .replace(/\D/g, '');
}

function capture(level: 'debug' | 'info' = 'debug'): { logger: pino.Logger; lines: () => string[] } {
  const out: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      out.push(...chunk.toString().split('\n').filter(Boolean));
      cb();
    },
  });
  const logger = pino(pinoOptions('ingest', level, 'json'), stream);
  return { logger, lines: () => out };
}

/** True if a line holds the number's digits in a row (separators and JSON quoting stripped). */
function leaks(line: string, digits: string): boolean {
  return line
    .normalize('NFKC')
    .replace(/[\s\-.()·+\\"]/g, '')
    .includes(digits);
}

describe('log redaction (pino, the shared clear-number check)', () => {
  it.each(FORMATS)('%s never reaches a line, wherever it is logged', (_name, num) => {
    const digits = digitsOf(num);
    expect(digits.length).toBeGreaterThanOrEqual(10);
    const { logger, lines } = capture();
    logger.info(`looked up ${num} for the desk`);
    logger.info('looked up %s for the desk', num);
    logger.warn({ query: num, nested: { list: [`caller ${num}`], deeper: { a: { b: num } } } }, 'search');
    logger.error({ err: new Error(`cannot parse ${num}`) }, 'failed');
    logger.error(new Error(`rejected ${num}`));
    logger.debug({ req: { url: `/api/search?q=${encodeURIComponent(num)}&n=${num}` } }, 'request');
    const url = redactUrl(`/api/search?q=${encodeURIComponent(num).replace(/%20/g, '+')}`);
    expect(url).toContain('/api/search?q=');
    expect(url).toContain('[redacted-number]');
    expect(url).not.toMatch(/\p{Nd}{3}/u);
    logger.child({ context: 'Lookup' }).info({ reason: `called ${num}` }, `and ${num} again`);
    const all = lines();
    expect(all.length).toBe(7);
    for (const line of all) {
      expect(line).not.toContain(num);
      expect(leaks(decodeURIComponent(line), digits)).toBe(false);
      expect(line).toContain('[redacted-number]');
    }
  });

  it('through the Nest logger (nestjs-pino calls pino with a context object)', () => {
    const { logger, lines } = capture();
    const nest = {
      log: (m: unknown, ctx: string) => logger.info({ context: ctx }, String(m)),
      error: (m: unknown, ctx: string) => logger.error({ context: ctx, err: m }),
    };
    for (const [, num] of FORMATS) {
      nest.log(`victim ${num} reached`, 'AlertService');
      nest.error(new Error(`bad ${num}`), 'AlertProcessor');
    }
    for (const line of lines()) {
      for (const [, num] of FORMATS) expect(leaks(line, digitsOf(num))).toBe(false);
    }
  });

  it('any formatted mobile number in any text (property)', () => {
    const { logger, lines } = capture();
    const sep = fc.constantFrom('', ' ', '-', '.', '\u3000', '\uFF0D', '·');
    fc.assert(
      fc.property(
        fc.stringMatching(/^1[3-9][0-9]{9}$/),
        sep,
        sep,
        fc.constantFrom('', '+86', '+86 ', '0086', '＋86 '),
        fc.boolean(),
        fc.constantFrom(['', ''], ['id', ''], ['call ', '.'], ['(', ')'], ['x', 'y']),
        (m, s1, s2, cc, wide, [before, after]) => {
          let n = `${cc}${m.slice(0, 3)}${s1}${m.slice(3, 7)}${s2}${m.slice(7)}`;
          if (wide) n = FULL_WIDTH(n);
          const text = `${before}${n}${after}`;
          const start = lines().length;
          logger.info({ field: text }, text);
          const line = lines()[start];
          expect(leaks(line, m)).toBe(false);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('keeps what is not a number: region codes, counters, times, addresses, tokens', () => {
    const s =
      'region 510104 batch 42 at 2026-12-01T10:45:00 from 10.20.30.40 token p1.k1.AbC12345xyz_-QwErTy';
    expect(redactPhoneNumbers(s)).toBe(s);
    const { logger, lines } = capture();
    logger.info({ region: '510104', batch: 42 }, s);
    const entry = JSON.parse(lines()[0]) as Record<string, unknown>;
    expect(entry).toMatchObject({ msg: s, region: '510104', batch: 42, level: 'info', service: 'ingest' });
    expect(typeof entry.time).toBe('string'); // ISO, not 13 digits of epoch ms
  });

  it('redacts secrets: authorization headers, cookies, passwords, keys, credentials in text', () => {
    const { logger, lines } = capture();
    logger.info(
      {
        req: { headers: { authorization: 'Bearer abc.def.ghi', cookie: 'sid=s3cr3t' } },
        login: { username: 'desk1', password: 'hunter2-hunter2' },
        config: { CONSOLE_JWT_SECRET: 'jwt-secret-value', PSEUDONYM_KEYS: 'k1:abc' },
        client: { apiKey: 'ak-123', accessToken: 'at-456', refresh_token: 'rt-789' },
      },
      'connecting to postgres://eagleeye:pg-pass-1@db:5432/x with Bearer tok.en.value, password=pw-in-text',
    );
    const line = lines()[0];
    for (const secret of [
      'abc.def.ghi',
      's3cr3t',
      'hunter2',
      'jwt-secret-value',
      'ak-123',
      'at-456',
      'rt-789',
      'pg-pass-1',
      'tok.en.value',
      'pw-in-text',
    ]) {
      expect(line).not.toContain(secret);
    }
    const entry = JSON.parse(line) as { login: { username: string }; msg: string };
    expect(entry.login.username).toBe('desk1');
    expect(entry.msg).toContain('postgres://eagleeye:[redacted]@db:5432/x');
  });

  it('carries the active span as trace_id and span_id', async () => {
    initTracing({ service: 'ingest' });
    try {
      const { logger, lines } = capture();
      const span = startSpan('ingest.batch');
      withSpan(span, () => logger.info('inside the batch'));
      span.end();
      logger.info('outside');
      const [inside, outside] = lines().map((l) => JSON.parse(l) as Record<string, unknown>);
      expect(inside).toMatchObject({
        trace_id: span.spanContext().traceId,
        span_id: span.spanContext().spanId,
      });
      expect(inside.trace_id).toMatch(/^[0-9a-f]{32}$/);
      expect(outside.trace_id).toBeUndefined();
    } finally {
      await shutdownTracing();
    }
  });

  it('leaves trace ids alone even when they are all digits', () => {
    const ids = { trace_id: '12345678901234567890123456789012', span_id: '1234567890123456' };
    expect(redactValue(ids)).toEqual(ids);
    expect(redactValue({ other: ids.trace_id })).toEqual({ other: '[redacted-number]' });
  });

  it('redactText leaves ordinary text alone', () => {
    expect(redactText('called 143 different people in the last hour')).toBe(
      'called 143 different people in the last hour',
    );
  });
});
