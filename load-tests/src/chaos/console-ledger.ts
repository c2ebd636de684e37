import { io, Socket } from 'socket.io-client';
import type { AlertView } from '@eagle-eye/contracts';
import { consoleLogin } from '../alert-listener';
import { assertLoopbackUrl } from '../loopback';
import { nowMs } from '../open-loop';

export interface AlertSeen {
  /** seq of every `alert.created` received for the alert (a repeat of one seq is allowed) */
  created: number[];
  /** highest seq received for the alert, created or updated */
  maxSeq: number;
  callId: string | null;
  firstMs: number;
}

/**
 * An operator's console as the README tells clients to behave: signs in, listens on `/alerts`,
 * keeps the highest seq it has seen and sends it as `lastSeq` on every reconnect. Records every
 * change it receives, for the ledger.
 */
export class ConsoleLedger {
  private socket?: Socket;
  private lastSeq = 0;
  readonly alerts = new Map<string, AlertSeen>();
  connects = 0;
  disconnects = 0;
  readonly disconnectReasons: string[] = [];
  events = 0;
  /** called on each alert.created (recovery time) */
  onCreated?: (a: AlertView, atMs: number) => void;

  constructor(
    private readonly consoleUrl: string,
    private readonly username: string,
    private readonly password: string,
  ) {
    assertLoopbackUrl(consoleUrl);
  }

  async connect(): Promise<void> {
    const token = await consoleLogin(this.consoleUrl, this.username, this.password);
    const socket = io(`${this.consoleUrl}/alerts`, {
      auth: (cb) => cb({ token, lastSeq: this.lastSeq }),
      transports: ['websocket'],
      reconnection: true,
      reconnectionDelay: 200,
      reconnectionDelayMax: 1000,
    });
    this.socket = socket;
    socket.on('connect', () => this.connects++);
    socket.on('disconnect', (reason) => {
      this.disconnects++;
      this.disconnectReasons.push(reason);
    });
    socket.on('alert.created', (a: AlertView) => this.record(a, true));
    socket.on('alert.updated', (a: AlertView) => this.record(a, false));
    await new Promise<void>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error('socket.io /alerts did not connect within 20 s')), 20000);
      socket.once('connect', () => {
        clearTimeout(t);
        resolve();
      });
    });
  }

  private record(a: AlertView, created: boolean): void {
    this.events++;
    const at = nowMs();
    let s = this.alerts.get(a.id);
    if (!s) this.alerts.set(a.id, (s = { created: [], maxSeq: 0, callId: a.callId, firstMs: at }));
    if (created) s.created.push(a.seq);
    s.maxSeq = Math.max(s.maxSeq, a.seq);
    this.lastSeq = Math.max(this.lastSeq, a.seq);
    if (created) this.onCreated?.(a, at);
  }

  get connected(): boolean {
    return this.socket?.connected ?? false;
  }

  close(): void {
    this.socket?.disconnect();
  }
}
