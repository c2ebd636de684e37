/**
 * Open calls per carrier, so one carrier (or one stolen key) cannot hold every connection slot and
 * starve the others: at most `maxStreams` StreamCallEvents calls and `maxUnary` SubmitCallEvents
 * calls in progress per carrier at once.
 */
export class CarrierCalls {
  private readonly open = new Map<string, { stream: number; unary: number }>();

  constructor(
    private readonly maxStreams: number,
    private readonly maxUnary: number,
  ) {}

  limit(kind: 'stream' | 'unary'): number {
    return kind === 'stream' ? this.maxStreams : this.maxUnary;
  }

  /** Takes a slot: returns its release (idempotent), or null when the carrier is at its limit. */
  acquire(carrierId: string, kind: 'stream' | 'unary'): (() => void) | null {
    const c = this.open.get(carrierId) ?? { stream: 0, unary: 0 };
    if (c[kind] >= this.limit(kind)) return null;
    c[kind]++;
    this.open.set(carrierId, c);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      c[kind]--;
      if (!c.stream && !c.unary) this.open.delete(carrierId);
    };
  }

  count(carrierId: string, kind: 'stream' | 'unary'): number {
    return this.open.get(carrierId)?.[kind] ?? 0;
  }
}
