import { randomBytes } from 'node:crypto';
import { createServer, Server as HttpServer } from 'node:http';
import { AddressInfo, connect, Socket as NetSocket } from 'node:net';
import { Server, Socket } from 'socket.io';
import { limitSendBuffers } from './socket-send-limit';

/**
 * Found by the chaos suite (scenario slow-console): a console socket that stops reading made the
 * server hold every change published to it until its heartbeat timed out. A real socket.io server
 * and a raw WebSocket client whose TCP socket is paused (it really stops reading).
 */
jest.setTimeout(30_000);

const LIMIT = 256 * 1024;
const CHANGE = 'x'.repeat(8 * 1024);

/** Connects to the default namespace over a raw WebSocket; resolves once socket.io says connected. */
function rawClient(port: number): Promise<{ sock: NetSocket; bytes: () => number }> {
  const sock = connect(port, '127.0.0.1');
  let bytes = 0;
  let text = '';
  return new Promise((resolve, reject) => {
    sock.on('error', reject);
    sock.on('connect', () =>
      sock.write(
        `GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\n` +
          `Connection: Upgrade\r\nSec-WebSocket-Key: ${randomBytes(16).toString('base64')}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
      ),
    );
    let sentConnect = false;
    sock.on('data', (d: Buffer) => {
      bytes += d.length;
      if (sentConnect && text.includes('40{')) return;
      text += d.toString('latin1');
      if (!sentConnect && text.includes('0{')) {
        sentConnect = true;
        // "40", masked (every client frame is)
        const mask = randomBytes(4);
        const body = Buffer.from('40').map((b, i) => b ^ mask[i % 4]);
        sock.write(Buffer.concat([Buffer.from([0x81, 0x80 | body.length]), mask, body]));
      }
      if (text.includes('40{')) resolve({ sock, bytes: () => bytes });
    });
  });
}

describe('limitSendBuffers', () => {
  let http: HttpServer;
  let io: Server;
  let port: number;
  const drops: number[] = [];

  beforeEach(async () => {
    drops.length = 0;
    http = createServer();
    io = new Server(http, { transports: ['websocket'] });
    limitSendBuffers(io.engine as never, LIMIT, (_c, bytes) => drops.push(bytes));
    await new Promise<void>((r) => http.listen(0, '127.0.0.1', () => r()));
    port = (http.address() as AddressInfo).port;
  });
  afterEach(async () => {
    await io.close();
  });

  const connected = (): Promise<Socket> => new Promise((r) => io.once('connection', r));

  it('drops a client that stops reading once it holds more than the limit, at once', async () => {
    const serverSide = connected();
    const client = await rawClient(port);
    const socket = await serverSide;
    client.sock.pause();
    const gone = new Promise<string>((r) => socket.on('disconnect', r));
    const t0 = Date.now();
    // 8 MiB of changes, each published on its own tick as a console's are
    for (let i = 0; i < 1024 && socket.connected; i++) {
      socket.emit('alert.updated', { i, pad: CHANGE });
      await new Promise((r) => setImmediate(r));
    }
    // the terminated WebSocket fails its pending writes: engine.io says error or close, either way
    // the client sees its transport gone and reconnects (a server disconnect would not be retried)
    expect(['transport close', 'transport error']).toContain(await gone);
    expect(Date.now() - t0).toBeLessThan(10_000); // not the heartbeat (25 s + 20 s)
    expect(drops).toHaveLength(1);
    expect(drops[0]).toBeGreaterThan(LIMIT);
    expect(drops[0]).toBeLessThan(LIMIT + 2 * CHANGE.length);
    client.sock.destroy();
  });

  it('keeps a client that reads, whatever the volume', async () => {
    const serverSide = connected();
    const client = await rawClient(port);
    const socket = await serverSide;
    let disconnected = false;
    socket.on('disconnect', () => (disconnected = true));
    for (let i = 0; i < 1024; i++) {
      socket.emit('alert.updated', { i, pad: CHANGE });
      if (i % 8 === 7) await new Promise((r) => setTimeout(r, 2));
    }
    const deadline = Date.now() + 10_000;
    while (client.bytes() < 1024 * CHANGE.length && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 50));
    expect(client.bytes()).toBeGreaterThan(1024 * CHANGE.length);
    expect(disconnected).toBe(false);
    expect(drops).toEqual([]);
    client.sock.destroy();
  });
});
