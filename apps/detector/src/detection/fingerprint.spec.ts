import { fnv1a32 } from '@eagle-eye/contracts';
import { callFp, numberFp } from './fingerprint';

// The definitions the fingerprints stored in Redis were made with: the fast ones must not move them.
const hash64 = (s: string) => fnv1a32(s).toString(36) + '.' + fnv1a32(`${s}\u0000`).toString(36);
const referenceNumberFp = (token: string) => {
  const m = /^p1\.[A-Za-z0-9_-]{1,16}\.([A-Za-z0-9_-]{22})$/.exec(token);
  return m ? m[1].slice(-11) : hash64(token);
};

describe('fingerprints', () => {
  const digest = 'Ab-_09zZyYxXwWvVuUtT12';

  it.each([
    `p1.k1.${digest}`,
    `p1.${'k'.repeat(16)}.${digest}`,
    `p1.a-_B9.${digest}`,
    // not tokens: hashed
    `p1.${'k'.repeat(17)}.${digest}`,
    `p1..${digest}`,
    `p1.k1.${digest}x`,
    `p1.k1.${digest.slice(1)}`,
    `p1.k.1.${digest}`,
    `p2.k1.${digest}`,
    `p1.k1.${digest.slice(0, 21)}=`,
    `p1.k!.${digest}`,
    '+8613800138000',
    '',
    '成都',
  ])('numberFp(%s) is what it was', (token) => {
    expect(numberFp(token)).toBe(referenceNumberFp(token));
  });

  it.each([
    ['carrier-a', 'b1'],
    ['carrier-a', ''],
    ['', 'x/y'],
    ['运营商', 'call-😀-7'],
    ['c'.repeat(300), 'd'.repeat(300)],
  ])('callFp(%s, %s) is what it was', (carrier, call) => {
    expect(callFp(carrier, call)).toBe(hash64(`${carrier}/${call}`));
  });

  it('gives every one of 20,000 call ids and tokens the fingerprint it had', () => {
    for (let i = 0; i < 20_000; i++) {
      expect(callFp('carrier-a', `c${i}`)).toBe(hash64(`carrier-a/c${i}`));
      const other = `+86${i}`;
      expect(numberFp(other)).toBe(referenceNumberFp(other));
    }
  });
});
