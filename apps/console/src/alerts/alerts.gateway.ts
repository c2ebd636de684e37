import { Inject, Logger, OnApplicationShutdown } from '@nestjs/common';
import {
  OnGatewayConnection,
  OnGatewayDisconnect,
  OnGatewayInit,
  WebSocketGateway,
} from '@nestjs/websockets';
import { createAdapter } from '@socket.io/redis-adapter';
import type { Namespace, Socket } from 'socket.io';
import { AlertReplayDone, AlertServerEvents, AlertView, roomsForAlert } from '@eagle-eye/contracts';
import { createRedisClient, duplicateClient, RedisClient, RedisKeys, redisTarget } from '@eagle-eye/redis';
import { AuditRepository } from '../audit/audit.repository';
import { AuthService } from '../auth/auth.service';
import { roomsForPrincipal, socketScopeUnchanged } from '../auth/access-policy';
import { Principal } from '../auth/principal';
import { CONSOLE_CONFIG, ConsoleConfig } from '../config';
import { consoleConnected, consoleHandshakesRefused, consoleReplayed } from '../console.metrics';
import { AlertsRepository } from './alerts.repository';

interface SocketData {
  principal: Principal;
  token: string;
  jti: string;
  exp: number;
}
type ServerEvents = AlertServerEvents & {
  'alerts.replayed': (d: AlertReplayDone) => void;
  /** sent just before the server closes the socket because its session ended or its scope changed */
  'session.ended': (d: { reason: string }) => void;
};
type AlertSocket = Socket<Record<string, never>, ServerEvents, Record<string, never>, SocketData>;

/** Rooms that address one user's or one session's sockets on every replica (for revocation). */
export const SessionRooms = {
  user: (userId: string) => `session:user:${userId}`,
  session: (jti: string) => `session:jti:${jti}`,
};

/**
 * socket.io namespace `/alerts`. The handshake carries `auth: { token, lastSeq? }`; a socket
 * without a valid token, or of a user already holding CONSOLE_MAX_SOCKETS_PER_USER sockets, is
 * refused in middleware (Nest guards do not run on connections) with a `connect_error` saying why.
 * A connected socket stays only as long as its session: it is closed at its token's expiry, when
 * a re-check (every CONSOLE_SOCKET_RECHECK_S) finds the session ended, the user disabled or the
 * scope changed, and at once when logout, a password change or an admin's change to the user is
 * published to every replica through the Redis adapter (`endSessions`). A connected socket first gets every change in its scope after
 * `lastSeq`, in seq order, then `alerts.replayed`, and joins its rooms. The Redis adapter shares
 * rooms between console replicas and receives the alert worker's publications.
 */
@WebSocketGateway({ namespace: '/alerts', cors: { origin: false } })
export class AlertsGateway
  implements OnGatewayInit, OnGatewayConnection, OnGatewayDisconnect, OnApplicationShutdown
{
  private readonly logger = new Logger('AlertsGateway');
  private nsp?: Namespace;
  private readonly pub: RedisClient;
  private readonly sub: RedisClient;
  private recheckTimer?: NodeJS.Timeout;
  private readonly expiryTimers = new Map<string, NodeJS.Timeout>();

  constructor(
    private readonly auth: AuthService,
    private readonly alerts: AlertsRepository,
    private readonly audit: AuditRepository,
    private readonly keys: RedisKeys,
    @Inject(CONSOLE_CONFIG) private readonly config: ConsoleConfig,
  ) {
    this.pub = createRedisClient(redisTarget(config), { enableAutoPipelining: false });
    this.sub = duplicateClient(this.pub);
    for (const c of [this.pub, this.sub]) c.on('error', () => undefined);
    // Redis pub/sub drops what is published while a subscriber is away: once this replica's
    // subscriber is back, every local socket must resume from its lastSeq (found by issue 15's
    // chaos suite: a connection reset cost a connected console a change for good).
    let subscribed = false;
    this.sub.on('ready', () => {
      if (subscribed) this.resumeLocalSockets();
      subscribed = true;
    });
  }

  /**
   * Closes the transport of every socket of this replica (not a socket.io disconnect, which clients
   * do not retry): each reconnects with its lastSeq and is replayed what it missed.
   */
  private resumeLocalSockets(): void {
    const sockets = [...(this.nsp?.sockets.values() ?? [])];
    if (sockets.length) this.logger.warn(`Redis subscriber reconnected: ${sockets.length} sockets resume`);
    for (const s of sockets) s.conn.close();
  }

  afterInit(nsp: Namespace): void {
    this.nsp = nsp;
    nsp.server.adapter(createAdapter(this.pub, this.sub, { key: this.keys.socketIoChannel() }));
    nsp.use((socket, next) => {
      const raw = (socket.handshake.auth as { token?: unknown }).token;
      const token = typeof raw === 'string' ? raw : undefined;
      const refuse = (status: number, message: string) => {
        consoleHandshakesRefused.inc();
        const err = new Error(message) as Error & { data?: unknown };
        err.data = { status, reason: message };
        next(err);
      };
      this.auth.verifySession(token).then(
        async (s) => {
          let open: number;
          try {
            open = (await nsp.in(SessionRooms.user(s.principal.userId)).fetchSockets()).length;
          } catch {
            return refuse(503, 'cannot count open connections; try again');
          }
          if (open >= this.config.CONSOLE_MAX_SOCKETS_PER_USER)
            return refuse(
              429,
              `too many connections: at most ${this.config.CONSOLE_MAX_SOCKETS_PER_USER} per user`,
            );
          Object.assign(socket.data as SocketData, { principal: s.principal, token, jti: s.jti, exp: s.exp });
          next();
        },
        (e: Error) => refuse(401, `unauthorized: ${e.message}`),
      );
    });
    const everyMs = Math.min(this.config.CONSOLE_SOCKET_RECHECK_S, this.config.CONSOLE_JWT_TTL_S) * 1000;
    this.recheckTimer = setInterval(() => void this.recheckAll(), everyMs);
    this.recheckTimer.unref();
  }

  /**
   * Closes the sockets of one user or one session on every console replica (the Redis adapter
   * carries the command), after telling them why.
   */
  endSessions(target: { userId: string } | { jti: string }, reason: string): void {
    if (!this.nsp) return;
    const room = 'userId' in target ? SessionRooms.user(target.userId) : SessionRooms.session(target.jti);
    this.nsp.to(room).emit('session.ended', { reason });
    this.nsp.in(room).disconnectSockets(true);
  }

  /** Re-verifies every socket of this replica: session live, user enabled, same scope. */
  private async recheckAll(): Promise<void> {
    if (!this.nsp) return;
    for (const socket of [...this.nsp.sockets.values()] as AlertSocket[]) {
      const d = socket.data as SocketData | undefined;
      if (!d?.token || !socket.connected) continue;
      try {
        const s = await this.auth.verifySession(d.token);
        if (!socketScopeUnchanged(d.principal, s.principal)) this.close(socket, 'scope changed');
        else d.principal = s.principal;
      } catch (e) {
        if (
          (e as { status?: number }).status === 401 ||
          (e as { getStatus?: () => number }).getStatus?.() === 401
        )
          this.close(socket, (e as Error).message);
        else this.logger.warn(`socket re-check failed (kept until the next one): ${(e as Error).message}`);
      }
    }
  }

  private close(socket: AlertSocket, reason: string): void {
    socket.emit('session.ended', { reason });
    socket.disconnect(true);
  }

  async handleConnection(socket: AlertSocket): Promise<void> {
    const p = socket.data.principal;
    consoleConnected.inc({ role: p.role });
    // revocation rooms first, so a logout or user change during the replay reaches this socket
    await socket.join([SessionRooms.user(p.userId), SessionRooms.session(socket.data.jti)]);
    const msLeft = socket.data.exp * 1000 - Date.now();
    this.expiryTimers.set(
      socket.id,
      setTimeout(() => this.close(socket, 'token expired'), Math.max(0, Math.min(msLeft, 2 ** 31 - 1))),
    );
    const raw = (socket.handshake.auth as { lastSeq?: unknown }).lastSeq;
    const lastSeq = Number.isSafeInteger(Number(raw)) && Number(raw) >= 0 ? Number(raw) : undefined;
    try {
      await this.audit.record(p, 'console.connect', 'socket', socket.id, { lastSeq: lastSeq ?? null });
      let seq = lastSeq ?? 0;
      let count = 0;
      if (lastSeq !== undefined) ({ seq, count } = await this.replay(socket, lastSeq));
      // join after the replay, then catch up on what committed meanwhile: a live event may then
      // repeat one already replayed (clients drop a seq they have), none is lost
      await socket.join(roomsForPrincipal(p));
      if (lastSeq !== undefined) {
        const more = await this.replay(socket, seq);
        seq = more.seq;
        count += more.count;
        socket.emit('alerts.replayed', { seq, count });
        consoleReplayed.inc(count);
        if (count)
          await this.audit.record(p, 'alerts.replay', 'alert', null, { fromSeq: lastSeq, toSeq: seq, count });
      }
    } catch (e) {
      this.logger.error(`connection set-up failed: ${(e as Error).message}`);
      socket.disconnect(true);
    }
  }

  handleDisconnect(socket: AlertSocket): void {
    clearTimeout(this.expiryTimers.get(socket.id));
    this.expiryTimers.delete(socket.id);
    const p = socket.data.principal as Principal | undefined;
    if (p) consoleConnected.dec({ role: p.role });
  }

  /** Pushes a change made in this console to every replica's sockets in the alert's rooms. */
  publish(view: AlertView, created: boolean): void {
    this.nsp?.to(roomsForAlert(view)).emit(created ? 'alert.created' : 'alert.updated', view);
  }

  async onApplicationShutdown(): Promise<void> {
    clearInterval(this.recheckTimer);
    for (const t of this.expiryTimers.values()) clearTimeout(t);
    await Promise.all([this.pub, this.sub].map((c) => c.quit().catch(() => c.disconnect())));
  }

  private async replay(socket: AlertSocket, afterSeq: number): Promise<{ seq: number; count: number }> {
    let seq = afterSeq;
    let count = 0;
    for (;;) {
      const batch = await this.alerts.changesSince(socket.data.principal, seq, 500);
      for (const { view, createdSeq } of batch) {
        socket.emit(createdSeq > afterSeq ? 'alert.created' : 'alert.updated', view);
        seq = view.seq;
      }
      count += batch.length;
      if (batch.length < 500 || count >= this.config.CONSOLE_REPLAY_LIMIT) return { seq, count };
    }
  }
}
