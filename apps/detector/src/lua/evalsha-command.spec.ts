import { Command } from 'ioredis';
import { EncodedEvalsha, encodeEvalsha } from './evalsha-command';

/** What ioredis itself writes for `evalsha(...args)`. */
function ioredisRequest(args: (string | number)[]): Buffer {
  const c = new Command('evalsha', args, { replyEncoding: 'utf8' });
  return Buffer.from(c.toWritable({}));
}

describe('encodeEvalsha', () => {
  const sha = 'a'.repeat(40);

  it('writes the request ioredis writes for the same arguments', () => {
    const args: (string | number)[] = [
      120_000,
      0,
      4095,
      4096,
      -1,
      1.5,
      1_764_000_000_000,
      'a',
      '',
      'p1.b.AAAAAAAAAAAAAAAAAAAAAA',
      // not ASCII: lengths in bytes, not characters
      '成都市',
      'région',
      '{"car":"carrier-a","rg":"510100"}',
      'x'.repeat(2000),
      Number.MAX_SAFE_INTEGER,
      0x7fffffff,
      0x80000000,
      1_000_000_000,
      1_000_000_000_000,
      1_764_000_000_007,
      999_999_999_999,
      9,
      10,
      99,
      100,
      '😀 x',
      // from NATIVE_FROM characters on: UTF-8 of Latin-1, of other scripts, of surrogate pairs
      'é'.repeat(20),
      '成都市高新区天府大道北段一千七百号',
      '😀😀😀😀😀😀😀😀',
      'p1.b.AAAAAAAAAAAAAAAAAAAAAé',
      'abcdefghijk',
      'abcdefghijkl',
    ];
    const keys = ['ee:{g7}:'];
    expect(encodeEvalsha(sha, keys, args)).toEqual(ioredisRequest([sha, keys.length, ...keys, ...args]));
  });

  it('grows its scratch buffer for a request larger than it', () => {
    const big = Array.from({ length: 40_000 }, (_, i) => `p1.b.${i}`.padEnd(27, 'A'));
    const request = encodeEvalsha(sha, ['k'], big);
    expect(request.length).toBeGreaterThan(1 << 20);
    expect(request.equals(ioredisRequest([sha, 1, 'k', ...big]))).toBe(true);
  });

  it('writes a call without keys or arguments', () => {
    expect(encodeEvalsha(sha, [], [])).toEqual(ioredisRequest([sha, 0]));
  });

  it('gives ioredis the keys (the slot of a Cluster pipeline) and writes the encoded request', () => {
    const c = new EncodedEvalsha(sha, ['ee:{g3}:'], [1, 'two'], true);
    expect(c.getKeys()).toEqual(['ee:{g3}:']);
    expect(c.toWritable()).toEqual(ioredisRequest([sha, 1, 'ee:{g3}:', 1, 'two']));
  });
});
