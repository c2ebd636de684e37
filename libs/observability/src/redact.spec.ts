import { JsonLogger } from './json-logger';
import { redactPhoneNumbers } from './redact';

describe('redactPhoneNumbers', () => {
  it.each([
    ['call from +8613812345678 rejected', 'call from [redacted-number] rejected'],
    ['callee 13812345678', 'callee [redacted-number]'],
    ['intl 0085512345678', 'intl [redacted-number]'],
    ['+44 20 7946 0958', '[redacted-number]'],
  ])('redacts %s', (input, expected) => {
    expect(redactPhoneNumbers(input)).toBe(expected);
  });

  it('keeps region codes, counters and tokens', () => {
    // a valid token never holds six digits in a row (libs/pseudonym classifyPseudonym)
    const s = 'region 510104 batch 42 token p1.k1.AbC12345xyz_-QwErTy';
    expect(redactPhoneNumbers(s)).toBe(s);
  });
});

describe('JsonLogger', () => {
  it('writes one JSON line, redacted, with the context', () => {
    const lines: string[] = [];
    const logger = new JsonLogger('ingest', 'info', 'json', (l) => lines.push(l));
    logger.log('looked up 13812345678', 'Lookup');
    logger.debug('hidden');
    expect(lines).toHaveLength(1);
    const entry = JSON.parse(lines[0]) as Record<string, string>;
    expect(entry).toMatchObject({ level: 'info', service: 'ingest', context: 'Lookup' });
    expect(entry.msg).toBe('looked up [redacted-number]');
  });
});
