import { io, Socket } from 'socket.io-client';
import type { AlertView } from '@eagle-eye/contracts';
import { assertLoopbackUrl } from './loopback';
import { nowMs } from './open-loop';

export interface AlertArrival {
  event: 'alert.created' | 'alert.updated';
  arrivedMs: number;
  alert: AlertView;
}

/** Signs in to the console over REST; returns the session token. */
export async function consoleLogin(consoleUrl: string, username: string, password: string): Promise<string> {
  const res = await fetch(`${consoleUrl}/api/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username, password }),
  });
  if (!res.ok) throw new Error(`console login as ${username} failed: ${res.status} ${await res.text()}`);
  return ((await res.json()) as { token: string }).token;
}

/**
 * A console client as an operator's browser is one: signs in over REST, listens on the socket.io
 * `/alerts` namespace, and timestamps every alert the moment it arrives.
 */
export class AlertListener {
  private socket?: Socket;
  private readonly waiters = new Map<string, (a: AlertArrival) => void>();
  /** every alert event received, awaited or not */
  received = 0;

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
      auth: { token },
      transports: ['websocket'],
      reconnection: true,
    });
    this.socket = socket;
    const on = (event: AlertArrival['event']) => (alert: AlertView) => {
      const a: AlertArrival = { event, arrivedMs: nowMs(), alert };
      this.received++;
      const w = alert.callId ? this.waiters.get(alert.callId) : undefined;
      if (w) w(a);
    };
    socket.on('alert.created', on('alert.created'));
    socket.on('alert.updated', on('alert.updated'));
    await new Promise<void>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error('socket.io /alerts did not connect within 10 s')), 10000);
      socket.once('connect', () => {
        clearTimeout(t);
        resolve();
      });
      socket.once('connect_error', (e: Error) => {
        clearTimeout(t);
        reject(new Error(`socket.io /alerts refused the connection: ${e.message}`));
      });
    });
  }

  /** Calls `fn` with the first `alert.created` of call `callId` (or nothing if none comes). */
  expect(callId: string, fn: (a: AlertArrival) => void): void {
    this.waiters.set(callId, (a) => {
      if (a.event !== 'alert.created') return;
      this.waiters.delete(callId);
      fn(a);
    });
  }

  forget(callId: string): void {
    this.waiters.delete(callId);
  }

  get waiting(): number {
    return this.waiters.size;
  }

  close(): void {
    this.socket?.disconnect();
  }
}
