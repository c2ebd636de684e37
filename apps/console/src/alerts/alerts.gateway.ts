import { Inject, Logger, OnApplicationShutdown } from '@nestjs/common';
import {
  OnGatewayConnection,
  OnGatewayDisconnect,
  OnGatewayInit,
  WebSocketGateway,
} from '@nestjs/websockets';
import { createAdapter } from '@socket.io/redis-adapter';
import Redis from 'ioredis';
import type { Namespace, Socket } from 'socket.io';
import {
  AlertReplayDone,
  AlertRooms,
  AlertServerEvents,
  AlertView,
  roomsForAlert,
} from '@eagle-eye/contracts';
import { createRedis, RedisKeys } from '@eagle-eye/redis';
import { AuditRepository } from '../audit/audit.repository';
import { AuthService } from '../auth/auth.service';
import { Principal } from '../auth/principal';
import { CONSOLE_CONFIG, ConsoleConfig } from '../config';
import { consoleConnected, consoleHandshakesRefused, consoleReplayed } from '../console.metrics';
import { AlertsRepository } from './alerts.repository';

interface SocketData {
  principal: Principal;
}
type AlertSocket = Socket<
  Record<string, never>,
  AlertServerEvents & { 'alerts.replayed': (d: AlertReplayDone) => void },
  Record<string, never>,
  SocketData
>;

/** The rooms a user's socket joins: its carrier, its regions (police), or everything. */
export function roomsForPrincipal(p: Principal): string[] {
  switch (p.role) {
    case 'carrier_operator':
      return p.carrierId ? [AlertRooms.carrier(p.carrierId)] : [];
    case 'police_officer':
      return p.regions.map((r) => AlertRooms.region(r));
    case 'supervisor':
    case 'admin':
      return [AlertRooms.all];
    default: {
      const never: never = p.role;
      throw new Error(`unknown role ${String(never)}`);
    }
  }
}

/**
 * socket.io namespace `/alerts`. The handshake carries `auth: { token, lastSeq? }`; a socket
 * without a valid token is refused in middleware (Nest guards do not run on connections) with a
 * `connect_error` saying why. A connected socket first gets every change in its scope after
 * `lastSeq`, in seq order, then `alerts.replayed`, and joins its rooms. The Redis adapter shares
 * rooms between console replicas and receives the alert worker's publications.
 */
@WebSocketGateway({ namespace: '/alerts', cors: { origin: false } })
export class AlertsGateway
  implements OnGatewayInit, OnGatewayConnection, OnGatewayDisconnect, OnApplicationShutdown
{
  private readonly logger = new Logger('AlertsGateway');
  private nsp?: Namespace;
  private readonly pub: Redis;
  private readonly sub: Redis;

  constructor(
    private readonly auth: AuthService,
    private readonly alerts: AlertsRepository,
    private readonly audit: AuditRepository,
    private readonly keys: RedisKeys,
    @Inject(CONSOLE_CONFIG) private readonly config: ConsoleConfig,
  ) {
    this.pub = createRedis(config.REDIS_URL, { enableAutoPipelining: false });
    this.sub = this.pub.duplicate();
    for (const c of [this.pub, this.sub]) c.on('error', () => undefined);
  }

  afterInit(nsp: Namespace): void {
    this.nsp = nsp;
    nsp.server.adapter(createAdapter(this.pub, this.sub, { key: this.keys.socketIoChannel() }));
    nsp.use((socket, next) => {
      const token = (socket.handshake.auth as { token?: unknown }).token;
      this.auth.verify(typeof token === 'string' ? token : undefined).then(
        (principal) => {
          (socket.data as SocketData).principal = principal;
          next();
        },
        (e: Error) => {
          consoleHandshakesRefused.inc();
          const err = new Error(`unauthorized: ${e.message}`) as Error & { data?: unknown };
          err.data = { status: 401, reason: e.message };
          next(err);
        },
      );
    });
  }

  async handleConnection(socket: AlertSocket): Promise<void> {
    const p = socket.data.principal;
    consoleConnected.inc({ role: p.role });
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
    const p = socket.data.principal as Principal | undefined;
    if (p) consoleConnected.dec({ role: p.role });
  }

  /** Pushes a change made in this console to every replica's sockets in the alert's rooms. */
  publish(view: AlertView, created: boolean): void {
    this.nsp?.to(roomsForAlert(view)).emit(created ? 'alert.created' : 'alert.updated', view);
  }

  async onApplicationShutdown(): Promise<void> {
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
