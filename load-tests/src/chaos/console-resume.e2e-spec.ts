import { testRedisUrl } from '@eagle-eye/testing';
import { Stack, until } from '../../../apps/console/test/harness';
import { ConsoleLedger } from './console-ledger';
import { FaultProxy } from './fault-proxy';

/**
 * Found by the chaos suite (scenario redis-reset): Redis pub/sub drops what is published while a
 * subscriber reconnects, so a console whose Redis connections were reset lost a change for a
 * socket that stayed connected. The console now drops the transport of its sockets once its
 * subscriber is back, and the clients resume from lastSeq.
 */
jest.setTimeout(180_000);

describe('console after a reset of its Redis connections', () => {
  const direct = new URL(testRedisUrl());
  const proxy = new FaultProxy(direct.hostname, Number(direct.port));
  const stack = new Stack();

  beforeAll(async () => {
    const via = new URL(direct);
    via.port = String(await proxy.start());
    await stack.start({ consoleEnv: { REDIS_URL: via.toString() } });
  });
  afterAll(async () => {
    await stack.stop();
    await proxy.stop();
  });

  it('makes its connected sockets resume from their lastSeq, so no change is lost', async () => {
    const ledger = new ConsoleLedger(stack.url, 'supervisor', 'demo-supervisor');
    await ledger.connect();
    try {
      const calls = (): (string | null)[] => [...ledger.alerts.values()].map((a) => a.callId);
      const first = await stack.enqueueVictim();
      await until(() => calls().includes(first.callId), 'the first alert at the console', 30000);
      proxy.resetAll();
      await until(() => ledger.connects >= 2 && ledger.connected, 'the socket to resume', 30000);
      const second = await stack.enqueueVictim();
      await until(() => calls().includes(second.callId), 'the second alert at the console', 30000);
    } finally {
      ledger.close();
    }
  });
});
