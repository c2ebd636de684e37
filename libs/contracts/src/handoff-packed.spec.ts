import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import ts from 'typescript';
import { decodeHandoffEntry, handoffEntryEventCount, HandoffEvent } from './handoff';
import { packEvents, unpackEvents } from './handoff-packed';

const base: HandoffEvent = {
  id: 'e-1',
  call: 'c-1',
  type: 'ATTEMPT',
  t: 1_764_576_000_123,
  caller: 'p1.k1.AAAAAAAAAAAAAAAAAAAAAA',
  callee: 'p1.k1.BBBBBBBBBBBBBBBBBBBBBB',
  cls: 'VIRTUAL_OPERATOR',
  country: 'CN',
  att: 'UNVERIFIED',
  mis: true,
  region: '510100',
  age: '65_PLUS',
  rx: 1_764_576_000_456,
};

describe('packed hand-off events', () => {
  it('round-trips every enum value and optional field, an absent one as undefined (one shape for all)', () => {
    const events: HandoffEvent[] = [
      base,
      {
        ...base,
        id: 'e-2',
        type: 'ANSWERED',
        cls: 'MOBILE',
        att: 'A',
        mis: false,
        age: 'UNDER_18',
        cell: 'c:1.2',
      },
      {
        ...base,
        id: 'e-3',
        type: 'ENDED',
        cls: 'INTERNATIONAL',
        att: 'C',
        age: '18_28',
        device: 'p1.k1.DDDDDDDDDDDDDDDDDDDDDD',
        talk: 0,
      },
      {
        ...base,
        id: 'e-4',
        type: 'ENDED',
        cls: 'SERVICE',
        att: 'B',
        age: '46_64',
        talk: 371,
        cause: 'NORMAL_16',
      },
      { ...base, id: 'e-5', cls: 'FIXED', age: '29_45' },
      { ...base, id: 'e-6', cls: 'UNKNOWN', age: 'UNKNOWN' },
    ];
    const back = unpackEvents(packEvents(events));
    expect(back).toEqual(events);
    back.forEach((e, i) => {
      for (const k of ['cell', 'device', 'talk', 'cause'] as const) expect(e[k]).toBe(events[i][k]);
      expect(Object.keys(e)).toEqual(Object.keys(back[0]));
    });
    expect(unpackEvents(packEvents([]))).toEqual([]);
  });

  it('is about half the bytes of the JSON array', () => {
    const events = Array.from({ length: 100 }, (_, i) => ({ ...base, id: `e-${i}`, call: `c-${i}` }));
    expect(packEvents(events).length).toBeLessThan(0.6 * JSON.stringify(events).length);
  });

  it('refuses a line with a missing field or an unknown code', () => {
    const line = packEvents([base]);
    expect(() => unpackEvents(line.slice(0, line.lastIndexOf('\t')))).toThrow(/fields/);
    expect(() => unpackEvents(line.replace('\tA\t', '\tX\t'))).toThrow(/enum/);
  });

  it('decodes packed entries and the JSON entries of an earlier ingest alike', () => {
    const packed = ['c', 'carrier-a', 'p', packEvents([base, { ...base, id: 'e-2' }])];
    const json = ['c', 'carrier-a', 'e', JSON.stringify([base, { ...base, id: 'e-2' }])];
    expect(decodeHandoffEntry(packed)).toEqual(decodeHandoffEntry(json));
    expect(handoffEntryEventCount(packed)).toBe(2);
    expect(handoffEntryEventCount(json)).toBe(2);
    expect(() => decodeHandoffEntry(['c', 'carrier-a'])).toThrow(/lacks field p/);
  });

  it('carries the trace context once per entry; entries without it decode as before', () => {
    const tp = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
    const p = packEvents([base, { ...base, id: 'e-2' }]);
    const traced = decodeHandoffEntry(['c', 'carrier-a', 'p', p, 't', tp]);
    expect(traced.trace).toBe(tp);
    expect(traced.events).toHaveLength(2);
    expect(traced.events.every((e) => !('trace' in e))).toBe(true);
    const old = decodeHandoffEntry(['c', 'carrier-a', 'p', p]);
    expect(old).toEqual({ carrierId: 'carrier-a', events: traced.events });
    expect('trace' in old).toBe(false);
    // a malformed trace context loses the trace, never the events
    const bad = decodeHandoffEntry(['c', 'carrier-a', 'p', p, 't', 'not-a-traceparent']);
    expect(bad.trace).toBeUndefined();
    expect(bad.events).toHaveLength(2);
    expect(handoffEntryEventCount(['c', 'carrier-a', 'p', p, 't', tp])).toBe(2);
  });

  it("gives the numbers' tokens strings of their own, which do not keep their entry's payload alive", () => {
    // In a small Node process of its own (a heap snapshot of this test runner takes a minute): this
    // module compiled alone, 100 payloads unpacked, two tokens of each kept, the rest dropped; a
    // heap snapshot then holds a payload still alive, found by the marker in its events' ids.
    const dir = mkdtempSync(join(tmpdir(), 'ee-packed-'));
    try {
      const source = readFileSync(join(__dirname, 'handoff-packed.ts'), 'utf8');
      const js = ts.transpileModule(source, { compilerOptions: { module: ts.ModuleKind.CommonJS } });
      writeFileSync(join(dir, 'packed.js'), js.outputText);
      const script = `
        const { packEvents, unpackEvents } = require(${JSON.stringify(join(dir, 'packed.js'))});
        const base = ${JSON.stringify(base)};
        const marker = 'retained' + '-marker-';
        const kept = [];
        for (let e = 0; e < 100; e++) {
          const events = [];
          for (let i = 0; i < 20; i++)
            events.push({ ...base, id: marker + e + '-' + i, caller: 'p1.k1.' + String(e * 20 + i).padStart(22, 'A'),
              callee: 'p1.k1.' + String(e * 20 + i).padStart(22, 'B') });
          const evs = unpackEvents(packEvents(events));
          kept.push(evs[3].caller, evs[7].callee);
        }
        const text = require('node:fs').readFileSync(require('node:v8').writeHeapSnapshot(${JSON.stringify(join(dir, 'h.heapsnapshot'))}), 'latin1');
        let found = 0;
        for (let i = text.indexOf(marker); i >= 0; i = text.indexOf(marker, i + 1)) found++;
        process.stdout.write(JSON.stringify({ kept: kept.length, first: kept[0], found }));`;
      const out = JSON.parse(execFileSync(process.execPath, ['-e', script], { encoding: 'utf8' })) as {
        kept: number;
        first: string;
        found: number;
      };
      expect(out.kept).toBe(200);
      expect(out.first).toBe(`p1.k1.${'3'.padStart(22, 'A')}`);
      // (the marker's own strings may be there; not 100 payloads)
      expect(out.found).toBeLessThan(10);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 30_000);
});
