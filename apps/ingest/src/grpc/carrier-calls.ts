export type CallKind = 'stream' | 'unary';

/** A taken call slot (release it when the call ends; idempotent), or which limit refused it. */
export type CallSlot = { release: () => void } | { refused: CallKind | 'connection'; limit: number };

interface CarrierOpen {
  stream: number;
  unary: number;
  /** calls in progress per connection (the peer address and port name one HTTP/2 connection) */
  peers: Map<string, number>;
}

/**
 * Open calls per carrier, so one carrier (or one stolen key) cannot hold every connection slot and
 * starve the others: at most `maxStreams` StreamCallEvents calls and `maxUnary` SubmitCallEvents
 * calls in progress per carrier at once, spread over at most `maxConnections` connections. A
 * connection counts while one of the carrier's calls is open on it (grpc-js shows a server no
 * connection before its first call, and credentials come with calls, not connections); idle ones
 * are closed by `grpc.max_connection_idle_ms` and aged out by `grpc.max_connection_age_ms`.
 */
export class CarrierCalls {
  private readonly open = new Map<string, CarrierOpen>();

  constructor(
    private readonly maxStreams: number,
    private readonly maxUnary: number,
    private readonly maxConnections: number,
  ) {}

  limit(kind: CallKind | 'connection'): number {
    return kind === 'stream' ? this.maxStreams : kind === 'unary' ? this.maxUnary : this.maxConnections;
  }

  /** Takes a slot for a call of `carrierId` on connection `peer`. */
  acquire(carrierId: string, kind: CallKind, peer: string): CallSlot {
    const c = this.open.get(carrierId) ?? { stream: 0, unary: 0, peers: new Map<string, number>() };
    if (c[kind] >= this.limit(kind)) return { refused: kind, limit: this.limit(kind) };
    const onPeer = c.peers.get(peer) ?? 0;
    if (!onPeer && c.peers.size >= this.maxConnections)
      return { refused: 'connection', limit: this.maxConnections };
    c[kind]++;
    c.peers.set(peer, onPeer + 1);
    this.open.set(carrierId, c);
    let released = false;
    return {
      release: () => {
        if (released) return;
        released = true;
        c[kind]--;
        const left = (c.peers.get(peer) ?? 1) - 1;
        if (left > 0) c.peers.set(peer, left);
        else c.peers.delete(peer);
        if (!c.stream && !c.unary) this.open.delete(carrierId);
      },
    };
  }

  count(carrierId: string, kind: CallKind | 'connection'): number {
    const c = this.open.get(carrierId);
    if (!c) return 0;
    return kind === 'connection' ? c.peers.size : c[kind];
  }
}

/** The refusal a carrier reads (RESOURCE_EXHAUSTED). */
export function refusalDetails(carrierId: string, refused: CallKind | 'connection', limit: number): string {
  const what =
    refused === 'stream'
      ? 'open streams'
      : refused === 'unary'
        ? 'calls in progress'
        : 'connections with calls in progress';
  return `carrier ${carrierId} already has ${limit} ${what}; close one or retry later`;
}
