import { createHash, randomBytes } from 'node:crypto';
import { connect, Socket } from 'node:net';
import type { AlertView } from '@eagle-eye/contracts';
import { consoleLogin } from '../alert-listener';
import { assertLoopbackUrl } from '../loopback';
import type { AlertSeen } from './console-ledger';

const WS_GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';

/**
 * A console client that can stop reading: socket.io v5 over engine.io v4 on a raw WebSocket over
 * a TCP socket of its own (socket.io-client hides its socket), so `pause()` really stops reading
 * from the kernel. The server's sends then fill the client's receive window, the server's kernel
 * buffer, and whatever the server buffers itself. `resume()` reads again; when the connection
 * turns out closed (the server dropped the slow socket) it reconnects with the highest `seq` it
 * has as `lastSeq`, as every console client must, and records what it is replayed.
 */
export class RawConsoleClient {
  private sock?: Socket;
  private buf = Buffer.alloc(0);
  private upgraded = false;
  private token = '';
  private lastSeq = 0;
  private stopped = false;
  readonly alerts = new Map<string, AlertSeen>();
  connects = 0;
  /** when each connection was seen closed, ms since the epoch, and how */
  readonly closes: { atMs: number; how: string }[] = [];
  /** bytes read from the server over every connection */
  bytesRead = 0;
  paused = false;

  constructor(
    private readonly consoleUrl: string,
    private readonly username: string,
    private readonly password: string,
  ) {
    assertLoopbackUrl(consoleUrl);
  }

  async connect(): Promise<void> {
    this.token ||= await consoleLogin(this.consoleUrl, this.username, this.password);
    await this.open();
  }

  get connected(): boolean {
    return !!this.sock && !this.sock.destroyed && this.upgraded;
  }

  private open(): Promise<void> {
    const u = new URL(this.consoleUrl);
    const key = randomBytes(16).toString('base64');
    const accept = createHash('sha1')
      .update(key + WS_GUID)
      .digest('base64');
    this.buf = Buffer.alloc(0);
    this.upgraded = false;
    const sock = connect(Number(u.port), u.hostname);
    this.sock = sock;
    sock.setNoDelay(true);
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error('raw console socket: no namespace connect in 20 s')),
        20000,
      );
      let done = false;
      const settle = (e?: Error): void => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        if (e) reject(e);
        else resolve();
      };
      sock.on('connect', () =>
        sock.write(
          `GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\nHost: ${u.host}\r\nUpgrade: websocket\r\n` +
            `Connection: Upgrade\r\nSec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
        ),
      );
      sock.on('data', (chunk: Buffer) => {
        this.bytesRead += chunk.length;
        this.buf = Buffer.concat([this.buf, chunk]);
        try {
          if (!this.upgraded) {
            const end = this.buf.indexOf('\r\n\r\n');
            if (end < 0) return;
            const head = this.buf.subarray(0, end).toString();
            if (!/^HTTP\/1\.1 101/.test(head) || !head.includes(accept))
              throw new Error(`no WebSocket upgrade: ${head.split('\r\n')[0]}`);
            this.upgraded = true;
            this.buf = this.buf.subarray(end + 4);
          }
          for (let msg = this.frame(); msg !== null; msg = this.frame()) this.onMessage(msg, settle);
        } catch (e) {
          settle(e as Error);
          sock.destroy();
        }
      });
      sock.on('error', (e) => settle(e));
      sock.on('close', () => {
        this.closes.push({ atMs: Date.now(), how: this.upgraded ? 'closed' : 'refused' });
        settle(new Error('raw console socket closed during the handshake'));
        if (!this.stopped && !this.paused) setTimeout(() => this.reconnect(), 200);
      });
    });
  }

  private reconnect(): void {
    if (this.stopped || this.paused) return;
    this.open().catch(() => undefined); // its close handler retries
  }

  /** One complete WebSocket message from the buffer (control frames handled here), or null. */
  private frame(): string | null {
    for (;;) {
      const b = this.buf;
      if (b.length < 2) return null;
      const op = b[0] & 0x0f;
      let len = b[1] & 0x7f;
      let off = 2;
      if (len === 126) {
        if (b.length < 4) return null;
        len = b.readUInt16BE(2);
        off = 4;
      } else if (len === 127) {
        if (b.length < 10) return null;
        len = Number(b.readBigUInt64BE(2));
        off = 10;
      }
      if (b.length < off + len) return null;
      const payload = b.subarray(off, off + len);
      this.buf = b.subarray(off + len);
      if (op === 0x9) this.send(payload, 0xa);
      else if (op === 0x8) this.sock?.end();
      else if (op === 0x1) return payload.toString();
      // engine.io sends each packet in one unfragmented frame: nothing else to reassemble
    }
  }

  private onMessage(msg: string, settle: (e?: Error) => void): void {
    if (msg === '2') return this.send(Buffer.from('3'), 0x1); // engine.io ping: pong
    if (msg.startsWith('0{')) {
      const auth = JSON.stringify({ token: this.token, lastSeq: this.lastSeq });
      return this.send(Buffer.from(`40/alerts,${auth}`), 0x1);
    }
    if (msg.startsWith('40/alerts,')) {
      this.connects++;
      return settle();
    }
    if (msg.startsWith('44/alerts,')) return settle(new Error(`refused: ${msg.slice(10, 300)}`));
    if (!msg.startsWith('42/alerts,')) return;
    const [event, view] = JSON.parse(msg.slice(10)) as [string, AlertView];
    if (event !== 'alert.created' && event !== 'alert.updated') return;
    let s = this.alerts.get(view.id);
    if (!s)
      this.alerts.set(view.id, (s = { created: [], maxSeq: 0, callId: view.callId, firstMs: Date.now() }));
    if (event === 'alert.created') s.created.push(view.seq);
    s.maxSeq = Math.max(s.maxSeq, view.seq);
    this.lastSeq = Math.max(this.lastSeq, view.seq);
  }

  /** A masked client frame (RFC 6455: every client frame is masked). */
  private send(payload: Buffer, op: number): void {
    if (!this.sock || this.sock.destroyed) return;
    const mask = randomBytes(4);
    const head =
      payload.length < 126
        ? Buffer.from([0x80 | op, 0x80 | payload.length])
        : Buffer.from([0x80 | op, 0x80 | 126, payload.length >> 8, payload.length & 0xff]);
    const body = Buffer.alloc(payload.length);
    for (let i = 0; i < payload.length; i++) body[i] = payload[i] ^ mask[i % 4];
    this.sock.write(Buffer.concat([head, mask, body]));
  }

  /** Stops reading from the socket: nothing more leaves the kernel's receive buffer. */
  pause(): void {
    this.paused = true;
    this.sock?.pause();
  }

  /** Reads again; reconnects with lastSeq if the server closed the connection meanwhile. */
  resume(): void {
    this.paused = false;
    if (this.sock && !this.sock.destroyed) this.sock.resume();
    else this.reconnect();
  }

  close(): void {
    this.stopped = true;
    this.sock?.destroy();
  }
}
