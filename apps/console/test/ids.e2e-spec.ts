import { CALL_ID, CARRIER_ID, REGION } from '@eagle-eye/contracts';
import { Client, Stack, until } from './harness';

/** One definition of shared identifiers: what ingest accepts reaches a console (here a region with `_`). */
describe('shared identifier patterns', () => {
  const stack = new Stack();
  beforeAll(async () => {
    await stack.start();
  }, 60000);
  afterAll(async () => {
    await stack.stop();
  }, 60000);

  it('an alert in a region with an underscore goes through the worker to the console and its filter', async () => {
    expect(REGION.test('cd_510100')).toBe(true);
    const sup = await stack.login('supervisor', 'demo-supervisor');
    const c = new Client(stack.url, sup);
    await c.connected();
    try {
      const job = await stack.enqueueVictim({ region: 'cd_510100' });
      const alert = await until(
        () => c.created().find((a) => a.callId === job.callId),
        'the alert on the socket',
      );
      expect(alert.region).toBe('cd_510100');
      const list = await stack.api(sup, 'GET', '/api/alerts?region=cd_510100');
      expect(list.status).toBe(200);
      expect((list.body.items as { callId: string }[]).map((a) => a.callId)).toEqual([job.callId]);
      expect(await stack.redis.llen(`${stack.prefix}:bull:alerts-dead-letter:wait`)).toBe(0);
    } finally {
      c.close();
    }
  });

  it('the patterns are the ones ingest documents', () => {
    expect(CARRIER_ID.test('carrier-a')).toBe(true);
    expect(CARRIER_ID.test('Carrier_A')).toBe(false);
    expect(CALL_ID.test('sw1:call-42.a')).toBe(true);
    expect(CALL_ID.test('x'.repeat(65))).toBe(false);
  });
});
