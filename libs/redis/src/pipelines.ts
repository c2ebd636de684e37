import type { Cluster } from 'ioredis';
import { isCluster, RedisClient } from './redis';

/** One command of a per-node pipeline. */
export interface SlotCommand {
  /** a key of the command; every key of one command must share its slot (one hash tag) */
  key: string;
  /** the command's name, as Redis knows it (EVALSHA, ZADD, XACK, ...) */
  name: string;
  args: (string | number | Buffer)[];
  /** the reply as Buffers rather than strings */
  buffer?: boolean;
}

/** [error, reply] per command, as ioredis pipelines answer. */
export type SlotReply = [Error | null, unknown];

// CRC16/XMODEM, the hash of Redis Cluster's key slots (CLUSTER KEYSLOT)
const CRC16 = new Uint16Array(256);
for (let i = 0; i < 256; i++) {
  let c = i << 8;
  for (let b = 0; b < 8; b++) c = c & 0x8000 ? (c << 1) ^ 0x1021 : c << 1;
  CRC16[i] = c & 0xffff;
}

/** The cluster slot of a key: of its hash tag (the first non-empty `{...}`) when it has one. */
export function keySlot(key: string): number {
  const open = key.indexOf('{');
  if (open >= 0) {
    const close = key.indexOf('}', open + 1);
    if (close > open + 1) key = key.slice(open + 1, close);
  }
  const bytes = Buffer.from(key, 'utf8');
  let crc = 0;
  for (const byte of bytes) crc = ((crc << 8) & 0xffff) ^ CRC16[((crc >> 8) ^ byte) & 0xff];
  return crc % 16384;
}

/** A reply that says the command ran nowhere and must be sent again (slot moved, cluster busy). */
function redirected(e: Error | null): boolean {
  return !!e && /^(MOVED|ASK|TRYAGAIN|CLUSTERDOWN) /.test(e.message);
}

type Method = (...args: SlotCommand['args']) => unknown;

/**
 * Queues or sends a command by its named method where ioredis has one (`xreadgroup`,
 * `evalshaBuffer`): that method maps the reply to the shape the code expects (`call` answers the
 * server's RESP3 reply as it came: a map for XREADGROUP, not the usual list of streams).
 */
function issue(target: object, c: SlotCommand): unknown {
  const name = c.name.toLowerCase();
  const method = (target as Record<string, Method | undefined>)[c.buffer ? `${name}Buffer` : name];
  if (typeof method === 'function') return method.apply(target, c.args);
  const t = target as RedisClient;
  return c.buffer ? t.callBuffer(c.name, ...c.args) : t.call(c.name, ...c.args);
}

function send(client: RedisClient, c: SlotCommand): Promise<unknown> {
  return issue(client, c) as Promise<unknown>;
}

async function pipelineOf(client: RedisClient, commands: SlotCommand[]): Promise<SlotReply[]> {
  const p = client.pipeline();
  for (const c of commands) issue(p, c);
  return ((await p.exec()) ?? []) as SlotReply[];
}

/**
 * Runs an ordered list of commands (scripts included: EVALSHA) in as few round trips as it can
 * and answers in the same order. On a single Redis: one pipeline. On a Redis Cluster, where one
 * pipeline may only address one node: one pipeline per master, by the slot of each command's key,
 * all at once; a command answered MOVED/ASK/TRYAGAIN/CLUSTERDOWN (a slot that moved since the
 * client last read the slot map; such a command did not run) is sent again through the cluster
 * client, which follows the redirection, in the list's order. Commands of one slot run in the
 * list's order; commands of different nodes have no order between them.
 */
export async function execPerNode(client: RedisClient, commands: SlotCommand[]): Promise<SlotReply[]> {
  if (!commands.length) return [];
  if (!isCluster(client)) return pipelineOf(client, commands);
  const out: SlotReply[] = new Array<SlotReply>(commands.length);
  const groups = groupByNode(client, commands);
  await Promise.all(
    [...groups.values()].map(async (idx) => {
      let replies: SlotReply[];
      try {
        replies = await pipelineOf(
          client,
          idx.map((i) => commands[i]),
        );
      } catch (e) {
        // the slot map changed between grouping and sending: nothing of this pipeline was sent
        if (!/same slot/.test((e as Error).message)) throw e;
        replies = idx.map((): SlotReply => [new Error('MOVED regrouped'), null]);
      }
      idx.forEach((i, k) => (out[i] = replies[k]));
    }),
  );
  for (let i = 0; i < out.length; i++) {
    if (!redirected(out[i][0])) continue;
    try {
      out[i] = [null, await send(client, commands[i])];
    } catch (e) {
      out[i] = [e as Error, null];
    }
  }
  return out;
}

/** Command indices by the master that serves their slot (unknown slots each on their own). */
function groupByNode(cluster: Cluster, commands: SlotCommand[]): Map<string, number[]> {
  const groups = new Map<string, number[]>();
  commands.forEach((c, i) => {
    const node = cluster.slots[keySlot(c.key)]?.[0] ?? `?${i}`;
    const g = groups.get(node);
    if (g) g.push(i);
    else groups.set(node, [i]);
  });
  return groups;
}

/** execPerNode, throwing the first error instead of answering it. */
export async function execPerNodeOrThrow(client: RedisClient, commands: SlotCommand[]): Promise<unknown[]> {
  const replies = await execPerNode(client, commands);
  return replies.map(([err, val]) => {
    if (err) throw err;
    return val;
  });
}

type Arg = string | number | Buffer;

/**
 * A pipeline that may span slots: commands are collected in order and exec() runs them with
 * execPerNode (one pipeline per Redis Cluster master, one pipeline on a single Redis). For the
 * places that queue many keys' commands at once (due sets, hand-off partitions, watermarks).
 */
export class PerNodePipeline {
  readonly commands: SlotCommand[] = [];

  constructor(private readonly client: RedisClient) {}

  get length(): number {
    return this.commands.length;
  }

  /** Any command: `key` decides the node, `args` are all of its arguments. */
  call(key: string, name: string, ...args: Arg[]): this {
    this.commands.push({ key, name, args });
    return this;
  }

  /** A command whose first argument is its key. */
  private keyed(name: string, key: string, args: Arg[]): this {
    return this.call(key, name, key, ...args);
  }

  get(key: string): this {
    return this.keyed('GET', key, []);
  }
  set(key: string, ...args: Arg[]): this {
    return this.keyed('SET', key, args);
  }
  hset(key: string, ...fieldsAndValues: Arg[]): this {
    return this.keyed('HSET', key, fieldsAndValues);
  }
  pexpire(key: string, ...args: Arg[]): this {
    return this.keyed('PEXPIRE', key, args);
  }
  zadd(key: string, ...args: Arg[]): this {
    return this.keyed('ZADD', key, args);
  }
  zrem(key: string, ...members: Arg[]): this {
    return this.keyed('ZREM', key, members);
  }
  zcard(key: string): this {
    return this.keyed('ZCARD', key, []);
  }
  xack(key: string, group: string, ...ids: string[]): this {
    return this.keyed('XACK', key, [group, ...ids]);
  }
  xdel(key: string, ...ids: string[]): this {
    return this.keyed('XDEL', key, ids);
  }
  xlen(key: string): this {
    return this.keyed('XLEN', key, []);
  }

  /** Runs the commands; [error, reply] per command, in their order. */
  exec(): Promise<SlotReply[]> {
    return execPerNode(this.client, this.commands);
  }
}

/** A pipeline over any slots of the client (see PerNodePipeline). */
export function perNodePipeline(client: RedisClient): PerNodePipeline {
  return new PerNodePipeline(client);
}
