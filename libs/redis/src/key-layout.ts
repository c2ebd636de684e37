import type { Cluster } from 'ioredis';
import Redis from 'ioredis';
import { RedisKeys } from './keys';
import { perNodePipeline } from './pipelines';
import { readyMasters, RedisClient } from './redis';

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
 * `<prefix>:{d:<token>}:s`) and from another group count (`<prefix>:{g<j>}:...`). Keys are moved
 * a scan page at a time, each step one pipeline per master for the whole page: DUMP and PTTL,
 * RESTORE under the new name (its TTL kept; works across slots on Redis Cluster too), DEL of
 * what was copied. When the new key exists already (written since the upgrade, or a second old
 * key of the same number), a hash's fields are merged into it without overwriting, a HyperLogLog
 * is PFMERGEd and any other string keeps the newer copy. The layout is recorded under
 * `<prefix>:{meta}:key-layout`, so later starts check one key. One migrator at a time: a lease
 * of `leaseMs`, renewed after every page, so a migration cut short holds later starts back for
 * one lease at most; a second caller waits for it. Safe to run again after a crash: a key is
 * deleted only after its copy exists. `progress` hears a line at most every `progressMs`.
 */
export async function migrateKeyLayout(
  redis: Redis | Cluster,
  keys: RedisKeys,
  progress: (line: string) => void = () => undefined,
  { leaseMs = 30_000, progressMs = 2_000 }: { leaseMs?: number; progressMs?: number } = {},
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
  let waitingSince = 0;
  while ((await redis.set(lock, owner, 'PX', leaseMs, 'NX')) !== 'OK') {
    if ((await redis.get(marker)) === layout) return report({ current: true });
    if (Date.now() - waitingSince >= progressMs) {
      if (waitingSince)
        progress(`key layout ${layout}: waiting for another process's migration (lease ${lock})`);
      waitingSince = Date.now();
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  try {
    const n = { scanned: 0, moved: 0, merged: 0 };
    let said = Date.now();
    const escaped = keys.prefix.replace(/[*?[\]\\]/g, (c) => `\\${c}`);
    // one pass over each master's keys with a hash tag: target() picks the per-number and
    // per-handset keys of any layout (`{n:`, `{d:`, `{g<j>}`) and leaves the rest
    for (const node of await readyMasters(redis)) {
      let cursor = '0';
      do {
        const [next, found] = await node.scan(cursor, 'MATCH', `${escaped}:{*`, 'COUNT', 1000);
        cursor = next;
        n.scanned += found.length;
        const moves: Move[] = [];
        for (const from of found) {
          const to = target(keys, from);
          if (to && to !== from) moves.push({ from, to });
        }
        if (moves.length) {
          const r = await movePage(redis, moves);
          n.moved += r.moved;
          n.merged += r.merged;
        }
        if ((await redis.eval(RENEW, 1, lock, owner, leaseMs)) !== 1)
          throw new Error(
            `key layout ${layout}: lost the migration lease ${lock} (paused longer than ${leaseMs} ms?)`,
          );
        if (Date.now() - said >= progressMs) {
          said = Date.now();
          // counts with thousands separators: the log redaction takes 7 digits in a row for a phone number
          const f = (x: number) => x.toLocaleString('en-US');
          progress(
            `key layout ${layout}: ${f(n.scanned)} keys scanned, ${f(n.moved)} moved, ${f(n.merged)} merged (${f(Math.round(n.scanned / ((said - t0) / 1000)))} keys/s)`,
          );
        }
      } while (cursor !== '0');
    }
    await redis.set(marker, layout);
    return report(n);
  } finally {
    await redis.eval(RELEASE, 1, lock, owner);
  }
}

// the lease is extended or given up only by the process that holds it
const RENEW = `if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('PEXPIRE', KEYS[1], ARGV[2]) return 1 end return 0`;
const RELEASE = `if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('DEL', KEYS[1]) end return 0`;

interface Move {
  from: string;
  to: string;
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

/**
 * Moves a page of keys: three pipelines (per master) for the whole page, and for each key whose
 * new name exists already a merge of its own. A key gone meanwhile (expired) is skipped.
 */
async function movePage(redis: RedisClient, moves: Move[]): Promise<{ moved: number; merged: number }> {
  const read = perNodePipeline(redis);
  for (const { from } of moves) {
    read.commands.push({ key: from, name: 'DUMP', args: [from], buffer: true });
    read.call(from, 'PTTL', from);
  }
  const got = await read.exec();
  const restore = perNodePipeline(redis);
  const live: { move: Move; dump: Buffer; keep: number }[] = [];
  moves.forEach((move, i) => {
    const [dumpErr, dump] = got[2 * i];
    const [ttlErr, ttl] = got[2 * i + 1];
    if (dumpErr || ttlErr) throw dumpErr ?? ttlErr;
    if (dump === null) return; // expired or moved meanwhile
    const keep = (ttl as number) > 0 ? (ttl as number) : 0;
    live.push({ move, dump: dump as Buffer, keep });
    restore.call(move.to, 'RESTORE', move.to, keep, dump as Buffer);
  });
  const restored = await restore.exec();
  let merged = 0;
  const del = perNodePipeline(redis);
  for (let i = 0; i < live.length; i++) {
    const [err] = restored[i];
    if (err) {
      // the new key exists: written since, or an earlier key of this page had the same target
      if (!/^BUSYKEY/.test(err.message)) throw err;
      await merge(redis, live[i].move, live[i].dump, live[i].keep);
      merged++;
    }
    del.call(live[i].move.from, 'DEL', live[i].move.from);
  }
  for (const [err] of await del.exec()) if (err) throw err;
  return { moved: live.length - merged, merged };
}

/** Merges `from` (its DUMP) into the existing `to` without losing what `to` holds. */
async function merge(redis: RedisClient, { from, to }: Move, dump: Buffer, keep: number): Promise<void> {
  const type = await redis.type(from);
  if (type === 'hash') {
    const fields = await redis.hgetallBuffer(from);
    const p = redis.multi();
    for (const [f, v] of Object.entries(fields)) p.hsetnx(to, f, v);
    // one slot for the transaction on Cluster: `to` only
    await p.exec();
  } else if (type === 'string' && (await redis.getrange(to, 0, 3)) === 'HYLL') {
    // a HyperLogLog: PFMERGE needs both keys in one slot, so merge through a temporary copy
    const tmp = `${to}:migrating`;
    await redis.restore(tmp, 60_000, dump, 'REPLACE');
    await redis.pfmerge(to, to, tmp);
    await redis.del(tmp);
  }
  // any other string (a caller's windows state) keeps the copy under the new name: the newer one
  if (keep > 0 && (await redis.pttl(to)) < keep) await redis.pexpire(to, keep);
}
