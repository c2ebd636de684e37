import { randomUUID } from 'node:crypto';
import fc from 'fast-check';
import { containsClearNumber, idLooksLikeNumber, redactClearNumbers } from './clear-number';
import { classifyPseudonym, Pseudonymiser } from './pseudonym';

const FULL_WIDTH = (s: string) => s.replace(/[0-9]/g, (d) => String.fromCharCode(0xff10 + Number(d)));

describe('clear numbers', () => {
  it.each([
    '13812345678.',
    '138-1234-5678',
    '138 1234 5678',
    'id13812345678',
    '１３８１２３４５６７８',
    '+86 138 1234 5678',
    '＋８６１３８１２３４５６７８',
    '(028) 8765-4321',
    '0085512345678',
    'call back on 138.1234.5678 please',
  ])('finds %s in free text', (s) => {
    expect(containsClearNumber(s)).toBe(true);
    expect(redactClearNumbers(s)).toContain('[redacted-number]');
    expect(redactClearNumbers(s)).not.toMatch(/\d{4}/);
  });

  it.each([
    'region 510104 batch 42 of 1000',
    'called 143 different people in the last hour',
    'on 2026-12-01 at 10:30, again 2026-12-01T10:45:00',
    'token p1.k1.AbC12345xyz_-QwErTy',
    'victim answered, 3 minutes',
    'cannot reach Redis at redis://192.168.100.200:6379',
    'peer 10.20.30.40.',
  ])('leaves %s alone', (s) => {
    expect(containsClearNumber(s)).toBe(false);
    expect(redactClearNumbers(s)).toBe(s);
  });

  it.each([
    '13812345678',
    'id13812345678',
    'c-138-1234-5678',
    'sw1:+8613812345678',
    '１３８１２３４５６７８.a',
  ])('refuses the identifier %s', (id) => expect(idLooksLikeNumber(id)).toBe(true));
  it.each(['call-1', 'ev-1', 'c0a1b2c3d4e5', 'd1k2j3.a', 'cell:51010412', 'r5f3e2-1z.e'])(
    'accepts the identifier %s',
    (id) => expect(idLooksLikeNumber(id)).toBe(false),
  );

  it('accepts every random UUID, judged as a UUID and not as digits joined across its dashes', () => {
    // joined, these hold 11 digits in a row (1 in 18 random UUIDs does)
    for (const id of ['12345678-9012-4abc-8def-0123456789ab', '0ABCDEF1-2345-4678-9012-345678901234'])
      expect(idLooksLikeNumber(id)).toBe(false);
    let refused = 0;
    for (let i = 0; i < 20000; i++) if (idLooksLikeNumber(randomUUID())) refused++;
    expect(refused).toBe(0);
    // not UUIDs: all digits, a dash out of place, a character that is not hex, one too long
    for (const id of [
      '13812345-6780-1234-5678-901234567890',
      '13812345-67801-234-5678-9012345678ab',
      '13812345-6780-1234-5678-90123456789g',
      '13812345-6780-1234-5678-90123456789ab',
    ])
      expect(idLooksLikeNumber(id)).toBe(true);
  });

  // mobile numbers (CN) and landlines, in the ways people and switches write them
  const mobile = fc
    .tuple(fc.constantFrom('13', '14', '15', '16', '17', '18', '19'), fc.stringMatching(/^[0-9]{9}$/))
    .map(([a, b]) => a + b);
  const separator = fc.constantFrom('', ' ', '-', '.', '  ', ' - ', '\u3000', '\uFF0D');
  const formatted = fc
    .tuple(
      mobile,
      fc.array(separator, { minLength: 2, maxLength: 2 }),
      fc.constantFrom('', '+86', '+86 ', '0086', '＋86 '),
      fc.boolean(),
    )
    .map(([m, [s1, s2], cc, wide]) => {
      const text = `${cc}${m.slice(0, 3)}${s1}${m.slice(3, 7)}${s2}${m.slice(7)}`;
      return wide ? FULL_WIDTH(text) : text;
    });
  const context = fc.constantFrom(
    ['', ''],
    ['id', ''],
    ['', '.'],
    ['call ', ' now'],
    ['(', ')'],
    ['x', 'y'],
    ['#', ','],
  );

  it('finds every formatted mobile number in any surrounding text (property)', () => {
    fc.assert(
      fc.property(formatted, context, (num, [before, after]) => {
        const text = `${before}${num}${after}`;
        expect(containsClearNumber(text)).toBe(true);
        const out = redactClearNumbers(text);
        // nothing of the number survives: no 4 digits in a row, no digit after normalising
        expect(out.replace(/\[redacted-number\]/g, '')).not.toMatch(/\p{Nd}/u);
      }),
      { numRuns: 500 },
    );
  });

  it('refuses every formatted mobile number embedded in an identifier (property)', () => {
    fc.assert(
      fc.property(
        formatted,
        fc.constantFrom('', 'id', 'call-', 'sw1:'),
        fc.constantFrom('', '.a', '-1x'),
        (num, pre, post) => {
          expect(idLooksLikeNumber(`${pre}${num.replace(/\s/g, '')}${post}`)).toBe(true);
        },
      ),
      { numRuns: 500 },
    );
  });

  it('decides ASCII identifiers in one pass exactly as the normalised pattern does (property)', () => {
    const reference = (id: string): boolean =>
      !/^(?=.*[a-f])[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(id) &&
      /\p{Nd}{11,}|\+\p{Nd}{8,}/u.test(id.normalize('NFKC').replace(/[\s\-.()_:/\u00B7]/gu, ''));
    const chars = fc.constantFrom(
      ...'0123456789'.split(''),
      ...'0123456789'.split(''),
      '+',
      ' ',
      '\t',
      '-',
      '.',
      '(',
      ')',
      '_',
      ':',
      '/',
      'a',
      'x',
      'Z',
      '#',
      '\u00B7', // a middle dot, and full-width digits: the full way
      '\uFF11',
    );
    fc.assert(
      fc.property(fc.array(chars, { maxLength: 40 }), (cs) => {
        const id = cs.join('');
        expect(idLooksLikeNumber(id)).toBe(reference(id));
      }),
      { numRuns: 3000 },
    );
    // UUID-shaped: mostly digits (the UUIDs that hold number-like runs), now and then one character
    // put in anywhere from the set above
    const hex = fc.constantFrom(...'0123456789'.repeat(3).split(''), ...'abcdefABCDEF'.split(''));
    const uuidLike = fc
      .tuple(fc.array(hex, { minLength: 32, maxLength: 32 }), fc.option(fc.tuple(fc.nat(35), chars)))
      .map(([h, put]) => {
        const s = h.join('');
        const id = `${s.slice(0, 8)}-${s.slice(8, 12)}-${s.slice(12, 16)}-${s.slice(16, 20)}-${s.slice(20)}`;
        return put ? id.slice(0, put[0]) + put[1] + id.slice(put[0] + 1) : id;
      });
    fc.assert(
      fc.property(uuidLike, (id) => expect(idLooksLikeNumber(id)).toBe(reference(id))),
      { numRuns: 3000 },
    );
  });

  it('never flags a pseudonym token (property)', () => {
    const p = new Pseudonymiser(Buffer.alloc(32, 7), 'k1');
    fc.assert(
      fc.property(mobile, (m) => {
        const t = p.phoneToken(`+86${m}`);
        if (classifyPseudonym(t) !== 'ok') return; // ingest refuses those anyway
        expect(containsClearNumber(t)).toBe(false);
        expect(idLooksLikeNumber(t)).toBe(false);
      }),
      { numRuns: 300 },
    );
  });
});
