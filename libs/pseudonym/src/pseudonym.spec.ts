import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { cdrRowToEvents, SIMBOX_COLUMNS } from './cdr-import';
import { classifyPseudonym, normaliseE164, Pseudonymiser, TOKEN_PATTERN } from './pseudonym';

const key = Buffer.alloc(32, 7);

describe('Pseudonymiser', () => {
  const p = new Pseudonymiser(key, 'k1');

  it('makes p1.<keyId>.<22 base64url chars> tokens', () => {
    const t = p.phoneToken('+86 138-1234-5678');
    expect(t).toMatch(TOKEN_PATTERN);
    expect(t.startsWith('p1.k1.')).toBe(true);
  });

  it('is stable for one key and differs across keys', () => {
    expect(p.phoneToken('+8613812345678')).toBe(p.phoneToken('008613812345678'));
    expect(new Pseudonymiser(Buffer.alloc(32, 8), 'k1').phoneToken('+8613812345678')).not.toBe(
      p.phoneToken('+8613812345678'),
    );
  });

  it('refuses short keys, numeric key ids and non-E.164 input', () => {
    expect(() => new Pseudonymiser(Buffer.alloc(8), 'k1')).toThrow(/32 bytes/);
    expect(() => new Pseudonymiser(key, '2024010101')).toThrow(/key id/);
    expect(() => normaliseE164('12345')).toThrow(/E.164/);
  });

  it('reads national formats with a default country: one number, one token, however the switch wrote it', () => {
    const e164 = p.phoneToken('+8613812345678');
    for (const raw of ['138 1234 5678', '13812345678', '138-1234-5678', '１３８１２３４５６７８'])
      expect([raw, p.phoneToken(raw, 'CN')]).toEqual([raw, e164]);
    // a fixed line with its area code and trunk prefix
    expect(p.phoneToken('(028) 8765 4321', 'CN')).toBe(p.phoneToken('+862887654321'));
    // international numbers keep their own country whatever the default
    expect(p.phoneToken('+44 20 7946 0958', 'CN')).toBe(p.phoneToken('+442079460958'));
    expect(() => normaliseE164('12345', 'CN')).toThrow(/not a valid CN number/);
    expect(() => normaliseE164('138 1234 5678')).toThrow(/national formats need a default country/);
  });

  it('classifies pseudonym fields', () => {
    expect(classifyPseudonym(p.phoneToken('+8613812345678'))).toBe('ok');
    expect(classifyPseudonym('+8613812345678')).toBe('clear_number');
    expect(classifyPseudonym('13812345678')).toBe('clear_number');
    expect(classifyPseudonym('tel-138 1234 5678')).toBe('clear_number');
    expect(classifyPseudonym('p1.k1.short')).toBe('malformed');
    expect(classifyPseudonym('')).toBe('malformed');
  });

  it('accepts every well-formed token, even when its digest holds digit runs', () => {
    for (let i = 0; i < 5000; i++) expect(classifyPseudonym(p.token(`n${i}`))).toBe('ok');
  });
});

describe('CDR import on the simbox sample', () => {
  const file = join(__dirname, '../../../../shared/data/simbox-sample/simbox_cdr_sample.csv');
  const run = existsSync(file) ? it : it.skip;
  if (!existsSync(file))
    console.warn(`simbox sample not found at ${file}: skipping the real-format import test`);

  run('turns every record into pseudonymised events without a clear number left', () => {
    const rows = parse(readFileSync(file), { columns: true, skip_empty_lines: true }) as Record<
      string,
      string
    >[];
    expect(rows.length).toBe(333);
    const p = new Pseudonymiser(key, 'carrierA');
    const opts = {
      columns: SIMBOX_COLUMNS,
      numberPlan: 'opaque' as const,
      utcOffsetMinutes: 60,
      callerCountry: 'DZ',
      defaultRegion: '000000',
    };
    const clear = new Set(rows.flatMap((r) => [r.A_Num, r.B_Num]));
    let events = 0;
    let skipped = 0;
    for (const row of rows) {
      let evs;
      try {
        evs = cdrRowToEvents(row, p, opts);
      } catch {
        skipped++;
        continue;
      }
      events += evs.length;
      const ended = evs[evs.length - 1];
      expect(ended.type).toBe('CALL_ENDED');
      expect(ended.talkDurationS).toBe(Math.round(Number(row.Call_Duration)));
      for (const e of evs) {
        expect(classifyPseudonym(e.caller)).toBe('ok');
        expect(classifyPseudonym(e.callee)).toBe('ok');
        expect(clear.has(e.caller)).toBe(false);
        expect(JSON.stringify(e)).not.toContain(`"${row.A_Num}"`);
      }
    }
    expect(skipped).toBeLessThan(rows.length / 10);
    expect(events).toBeGreaterThan(rows.length * 2);
  });
});
