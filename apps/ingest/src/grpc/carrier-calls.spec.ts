import { CarrierCalls, refusalDetails } from './carrier-calls';

describe('CarrierCalls', () => {
  const slot = (s: ReturnType<CarrierCalls['acquire']>) => {
    if ('refused' in s) throw new Error(`refused: ${s.refused}`);
    return s.release;
  };

  it('caps streams and unary calls per carrier, apart from other carriers', () => {
    const calls = new CarrierCalls(2, 1, 10);
    const a1 = slot(calls.acquire('a', 'stream', 'p1'));
    slot(calls.acquire('a', 'stream', 'p1'));
    expect(calls.acquire('a', 'stream', 'p1')).toEqual({ refused: 'stream', limit: 2 });
    slot(calls.acquire('a', 'unary', 'p1'));
    expect(calls.acquire('a', 'unary', 'p2')).toEqual({ refused: 'unary', limit: 1 });
    slot(calls.acquire('b', 'stream', 'p9'));
    a1();
    a1(); // idempotent
    expect(calls.count('a', 'stream')).toBe(1);
    slot(calls.acquire('a', 'stream', 'p1'));
  });

  it('caps the connections a carrier has calls open on; more calls on a connection in use are fine', () => {
    const calls = new CarrierCalls(100, 100, 2);
    const p1 = slot(calls.acquire('a', 'stream', 'p1'));
    slot(calls.acquire('a', 'stream', 'p2'));
    slot(calls.acquire('a', 'unary', 'p2'));
    expect(calls.acquire('a', 'stream', 'p3')).toEqual({ refused: 'connection', limit: 2 });
    expect(calls.count('a', 'connection')).toBe(2);
    // another carrier has connections of its own
    slot(calls.acquire('b', 'stream', 'p3'));
    // once p1 carries no call of the carrier, a new connection may take its place
    p1();
    expect(calls.count('a', 'connection')).toBe(1);
    slot(calls.acquire('a', 'stream', 'p3'));
  });

  it('says which limit refused', () => {
    expect(refusalDetails('a', 'connection', 4)).toBe(
      'carrier a already has 4 connections with calls in progress; close one or retry later',
    );
    expect(refusalDetails('a', 'stream', 2)).toContain('already has 2 open streams');
  });
});
