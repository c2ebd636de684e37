import type { Cluster } from 'ioredis';
import Redis from 'ioredis';
import { RedisKeys } from './keys';

/** How far a key-layout migration got: moved, merged into a key already written, left as they were. */
export interface KeyLayoutReport {
  layout: string;
  /** the keyspace already had this layout: nothing to do */
  current: boolean;
  scanned: number;
  moved: number;
  merged: number;
  seconds: number;
}

/**
 * Brings a keyspace's per-number and per-handset keys to the layout of `keys` (`g<groups>`):
 * from the one-hash-tag-per-number layout of earlier releases (`<prefix>:{n:<token>}:<suffix>`,
 * `<prefix>:{d:<token>}:s`) and from another group count (`<prefix>:{g<j>}:...`). Each key is
 * moved with DUMP and RESTORE (its TTL kept), which works across slots on Redis Cluster too; when
 * the new key exists already (written since the upgrade), a hash's fields are merged into it
 * without overwriting and a HyperLogLog is PFMERGEd. The layout is recorded under
 * `<prefix>:{meta}:key-layout`, so later starts check one key. One migrator at a time (a lease);
 * a second caller waits for it. Safe to run again after a crash: a key is deleted only after its
 * copy exists.
 */
export async function migrateKeyLayout(
  redis: Redis | Cluster,
  keys: RedisKeys,
  progress: (line: string) => void = () => undefined,
  leaseMs = 600_000,
): Promise<KeyLayoutReport> {
  const layout = `g${keys.groups}`;
  const marker = keys.keyLayout();
  const t0 = Date.now();
  const report = (r: Partial<KeyLayoutReport>): KeyLayoutReport => ({
    layout,
    current: false,
    scanned: 0,
    moved: 0,
    merged: 0,
    seconds: Math.round((Date.now() - t0) / 100) / 10,
    ...r,
  });
  if ((await redis.get(marker)) === layout) return report({ current: true });
  const lock = `${marker}:lock`;
  const owner = `${process.pid}.${Math.random().toString(36).slice(2)}`;
  while ((await redis.set(lock, owner, 'PX', leaseMs, 'NX')) !== 'OK') {
    if ((await redis.get(marker)) === layout) return report({ current: true });
    await new Promise((r) => setTimeout(r, 500));
  }
  try {
    let scanned = 0;
    let moved = 0;
    let merged = 0;
    const masters = 'nodes' in redis && typeof redis.nodes === 'function' ? redis.nodes('master') : [redis];
    const escaped = keys.prefix.replace(/[*?[\]\\]/g, (c) => `\\${c}`);
    for (const node of masters) {
      for (const pattern of [`${escaped}:{n:*`, `${escaped}:{d:*`, `${escaped}:{g*`]) {
        let cursor = '0';
        do {
          const [next, found] = await node.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
          cursor = next;
          for (const key of found) {
            scanned++;
            const to = target(keys, key);
            if (!to || to === key) continue;
            if (await move(redis, key, to)) merged++;
            else moved++;
          }
          if (scanned && scanned % 50_000 < 1000)
            progress(`key layout ${layout}: ${scanned} keys scanned, ${moved} moved, ${merged} merged`);
        } while (cursor !== '0');
      }
    }
    await redis.set(marker, layout);
    return report({ scanned, moved, merged });
  } finally {
    if ((await redis.get(lock)) === owner) await redis.del(lock);
  }
}

/** Where a per-number or per-handset key of any known layout belongs now; null for other keys. */
export function target(keys: RedisKeys, key: string): string | null {
  const rest = key.startsWith(`${keys.prefix}:`) ? key.slice(keys.prefix.length + 1) : null;
  if (rest === null) return null;
  // `{n:<token>}:<suffix>` / `{d:<token>}:s` (one hash tag per number, before key groups)
  let m = /^\{([nd]):([^}]+)\}:(.+)$/.exec(rest);
  if (m) return build(keys, m[1], m[2], m[3]);
  // `{g<j>}:n:<token>:<suffix>` / `{g<j>}:d:<token>:s` (key groups, perhaps another count)
  m = /^\{g\d+\}:([nd]):([^:]+):(.+)$/.exec(rest);
  if (m) return build(keys, m[1], m[2], m[3]);
  return null;
}

function build(keys: RedisKeys, kind: string, token: string, suffix: string): string {
  return `${keys.groupStem(keys.keyGroup(token))}${kind}:${token}:${suffix}`;
}

/** Moves `from` to `to`; true when `to` existed and `from` was merged into it. */
async function move(redis: Redis | Cluster, from: string, to: string): Promise<boolean> {
  const [dump, ttl] = await Promise.all([redis.dumpBuffer(from), redis.pttl(from)]);
  if (dump === null) return false; // expired or moved meanwhile
  const keep = ttl > 0 ? ttl : 0;
  let merged = false;
  if (!(await redis.exists(to))) {
    await redis.restore(to, keep, dump);
  } else {
    merged = true;
    const type = await redis.type(from);
    if (type === 'hash') {
      const fields = await redis.hgetallBuffer(from);
      const p = redis.multi();
      for (const [f, v] of Object.entries(fields)) p.hsetnx(to, f, v);
      // one slot for the transaction on Cluster: `to` only
      await p.exec();
    } else if (type === 'string') {
      // a HyperLogLog: PFMERGE needs both keys in one slot, so merge through a temporary copy
      const tmp = `${to}:migrating`;
      await redis.restore(tmp, 60_000, dump, 'REPLACE');
      await redis.pfmerge(to, to, tmp);
      await redis.del(tmp);
    }
    if (keep > 0 && (await redis.pttl(to)) < keep) await redis.pexpire(to, keep);
  }
  await redis.del(from);
  return merged;
}
