import { INestApplicationContext, Logger } from '@nestjs/common';
import { IoAdapter } from '@nestjs/platform-socket.io';
import { consoleSlowSocketsDropped } from './console.metrics';

/** What this module reads of an engine.io packet (engine.io's own type is not exported to us). */
interface EnginePacket {
  type: string;
  data?: unknown;
}

/** The part of an engine.io connection (`Server.engine`'s sockets) the limit uses. */
interface EngineConnection {
  id: string;
  readyState: string;
  transport: { name: string; socket?: { bufferedAmount?: number; terminate?: () => void } };
  on(event: 'packetCreate', fn: (p: EnginePacket) => void): unknown;
  on(event: 'flush', fn: () => void): unknown;
  close(discard?: boolean): unknown;
}

interface EngineServer {
  on(event: 'connection', fn: (conn: EngineConnection) => void): unknown;
}

function packetBytes(p: EnginePacket): number {
  const d = p.data;
  if (typeof d === 'string') return Buffer.byteLength(d);
  if (d instanceof ArrayBuffer || ArrayBuffer.isView(d)) return d.byteLength;
  return 1;
}

/**
 * Bounds what the server holds for one client that does not read (a frozen tab, a phone in a
 * tunnel, a broken proxy): engine.io queues every packet for a connection whose transport is busy
 * and never refuses one, so without a bound a slow socket holds every alert change published until
 * its heartbeat times out (pingInterval + pingTimeout, 45 s by default), however many that is.
 * Counted per connection: packets queued in engine.io since its last flush plus what the WebSocket
 * has not yet handed to the kernel. Past `maxBytes` the transport is torn down at once (a
 * WebSocket is terminated: its buffers go with it; a polling transport is closed, discarding its
 * queue), so the client sees a transport close, reconnects and is replayed from its lastSeq.
 */
export function limitSendBuffers(
  engine: EngineServer,
  maxBytes: number,
  onDrop: (conn: EngineConnection, bytes: number) => void = () => undefined,
): void {
  engine.on('connection', (conn) => {
    let queued = 0;
    let dropped = false;
    conn.on('flush', () => {
      queued = 0;
    });
    conn.on('packetCreate', (p) => {
      if (dropped) return;
      queued += packetBytes(p);
      const held = queued + (conn.transport.socket?.bufferedAmount ?? 0);
      if (held <= maxBytes) return;
      dropped = true;
      onDrop(conn, held);
      const ws = conn.transport.socket;
      if (typeof ws?.terminate === 'function') ws.terminate();
      else conn.close(true);
    });
  });
}

/** Nest's socket.io adapter with the console's per-connection send limit on its server. */
export class ConsoleIoAdapter extends IoAdapter {
  private readonly log = new Logger('ConsoleIoAdapter');

  constructor(
    app: INestApplicationContext,
    private readonly maxBytes: number,
  ) {
    super(app);
  }

  // Nest's own socket.io copy: its types, not the top-level package's
  override createIOServer(
    port: number,
    options?: Parameters<IoAdapter['createIOServer']>[1],
  ): ReturnType<IoAdapter['createIOServer']> {
    const server = super.createIOServer(port, options) as ReturnType<IoAdapter['createIOServer']>;
    limitSendBuffers(server.engine as unknown as EngineServer, this.maxBytes, (conn, bytes) => {
      consoleSlowSocketsDropped.inc();
      this.log.warn(
        `dropped connection ${conn.id} (${conn.transport.name}): ${bytes} bytes not read by the client ` +
          `(CONSOLE_SOCKET_MAX_BUFFER_BYTES ${this.maxBytes}); it resumes from its lastSeq`,
      );
    });
    return server;
  }
}
