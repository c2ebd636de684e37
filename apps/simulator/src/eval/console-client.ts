import { io, Socket } from 'socket.io-client';
import type { AlertView } from '@eagle-eye/contracts';

export interface ConsoleClientOptions {
  /** http://host:port of the console */
  baseUrl: string;
  username: string;
  password: string;
  /** REST path listing alerts (paged) */
  alertsPath?: string;
}

export interface SeenAlert {
  view: AlertView;
  firstSeenWallMs: number;
}

/**
 * Watches alerts the way an operator's console does: logs in over REST, listens on the socket.io
 * `/alerts` namespace, and can list alerts over REST to pick up anything the socket missed.
 */
export class ConsoleClient {
  private token?: string;
  private socket?: Socket;
  readonly alerts = new Map<string, SeenAlert>();
  private lastSeq = 0;
  /** `alert.created` events received (updates of older alerts are not counted) */
  created = 0;
  connected = false;
  lastError?: string;
  onAlert?: (a: SeenAlert, created: boolean) => void;

  constructor(private readonly o: ConsoleClientOptions) {}

  async login(): Promise<string> {
    const res = await fetch(new URL('/api/auth/login', this.o.baseUrl), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: this.o.username, password: this.o.password }),
    });
    if (!res.ok) throw new Error(`console login as ${this.o.username} failed: HTTP ${res.status}`);
    const body = (await res.json()) as { token?: string };
    if (!body.token) throw new Error('console login answered without a token');
    this.token = body.token;
    return body.token;
  }

  /** Connects the socket; resolves on the first successful connect, rejects on a refused one. */
  async connect(timeoutMs = 10_000): Promise<void> {
    if (!this.token) await this.login();
    const socket = io(new URL('/alerts', this.o.baseUrl).toString(), {
      // resume from the last change seen after a reconnect; the first connect wants live alerts only
      auth: (cb) =>
        cb(this.lastSeq > 0 ? { token: this.token, lastSeq: this.lastSeq } : { token: this.token }),
      transports: ['websocket'],
      reconnectionDelayMax: 2000,
    });
    this.socket = socket;
    socket.on('alert.created', (a: AlertView) => {
      this.created++;
      this.seen(a);
    });
    socket.on('alert.updated', (a: AlertView) => this.seen(a));
    socket.on('disconnect', () => (this.connected = false));
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`no socket.io connection to ${this.o.baseUrl} /alerts`)),
        timeoutMs,
      );
      socket.once('connect', () => {
        clearTimeout(timer);
        this.connected = true;
        socket.on('connect', () => (this.connected = true));
        resolve();
      });
      socket.once('connect_error', (e: Error) => {
        this.lastError = e.message;
        if (!socket.active) {
          clearTimeout(timer);
          reject(new Error(`console refused the socket: ${e.message}`));
        }
      });
    });
  }

  private seen(a: AlertView): void {
    if (!a || typeof a.id !== 'string') return;
    if (typeof a.seq === 'number') this.lastSeq = Math.max(this.lastSeq, a.seq);
    const prev = this.alerts.get(a.id);
    if (prev) {
      if ((a.seq ?? 0) >= (prev.view.seq ?? 0)) prev.view = a;
      this.onAlert?.(prev, false);
      return;
    }
    const s = { view: a, firstSeenWallMs: Date.now() };
    this.alerts.set(a.id, s);
    this.onAlert?.(s, true);
  }

  /**
   * Lists alerts over REST (`GET /api/alerts`, every page of `{ items, total }`) and adds the ones
   * the socket did not deliver; those get their raise time as the time first seen.
   */
  async sweep(maxAlerts = 100_000): Promise<number> {
    if (!this.token) await this.login();
    const path = this.o.alertsPath ?? '/api/alerts';
    const pageSize = 200;
    let added = 0;
    for (let offset = 0; offset < maxAlerts; offset += pageSize) {
      const url = new URL(path, this.o.baseUrl);
      url.searchParams.set('limit', String(pageSize));
      url.searchParams.set('offset', String(offset));
      const res = await fetch(url, { headers: { authorization: `Bearer ${this.token}` } });
      if (!res.ok) throw new Error(`GET ${url.pathname} answered HTTP ${res.status}`);
      const page = (await res.json()) as { items?: AlertView[]; total?: number };
      const items = page.items ?? [];
      for (const a of items) {
        if (!this.alerts.has(a.id)) {
          const raised = Date.parse(a.raisedAt);
          this.alerts.set(a.id, { view: a, firstSeenWallMs: Number.isFinite(raised) ? raised : Date.now() });
          added++;
        } else this.seen(a);
      }
      if (items.length < pageSize || (page.total !== undefined && offset + pageSize >= page.total)) break;
    }
    return added;
  }

  close(): void {
    this.socket?.close();
    this.socket = undefined;
    this.connected = false;
  }
}
