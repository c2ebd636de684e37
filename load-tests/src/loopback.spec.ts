import { assertLoopbackUrl, isLoopbackHost, loopbackTarget } from './loopback';

describe('loopback-only targets', () => {
  it.each(['127.0.0.1', '127.3.4.5', 'localhost', '::1', '[::1]'])('accepts %s', (h) => {
    expect(isLoopbackHost(h)).toBe(true);
  });

  it.each(['10.0.0.1', '0.0.0.0', '192.168.1.2', 'example.com', '::', '128.0.0.1', 'localhost.evil.com'])(
    'refuses %s',
    (h) => {
      expect(isLoopbackHost(h)).toBe(false);
    },
  );

  it('parses host:port and says why it refuses', () => {
    expect(loopbackTarget('127.0.0.1:50051')).toEqual({
      host: '127.0.0.1',
      port: 50051,
      address: '127.0.0.1:50051',
    });
    expect(loopbackTarget('[::1]:9').port).toBe(9);
    expect(() => loopbackTarget('ingest.carrier.example:443')).toThrow(/not a loopback address/);
    expect(() => loopbackTarget('127.0.0.1')).toThrow(/host:port/);
    expect(() => loopbackTarget('127.0.0.1:70000')).toThrow(/out of range/);
    expect(() => assertLoopbackUrl('http://10.1.2.3:8080/metrics')).toThrow(/not a loopback address/);
  });
});
