import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Cluster, Pipeline } from 'ioredis';
import {
  execPerNode,
  isCluster,
  keySlot,
  loadScriptEverywhere,
  RedisClient,
  SlotReply,
} from '@eagle-eye/redis';
import { EncodedEvalsha } from './evalsha-command';

// From source (apps/detector/src/lua) or the build (dist/apps/detector/src/lua): tsc does not copy
// .lua files, so the build falls back to the sources.
export const LUA_DIR =
  [__dirname, join(__dirname, '..', '..', '..', '..', '..', 'apps', 'detector', 'src', 'lua')].find((d) =>
    existsSync(join(d, 'caller-batch-1.lua')),
  ) ?? __dirname;

export type ScriptName =
  | 'caller-batch'
  | 'callee-batch'
  | 'alert-claim'
  | 'due-claim'
  | 'caller-state-read'
  | 'caller-state-write'
  | 'caller-notes';

export interface LuaScript {
  name: ScriptName;
  file: string;
  numKeys: number;
  source: string;
  sha: string;
}

export function loadScripts(dir = LUA_DIR): Map<ScriptName, LuaScript> {
  const out = new Map<ScriptName, LuaScript>();
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.lua'))) {
    const m = /^([a-z-]+)-(\d+)\.lua$/.exec(file);
    if (!m) throw new Error(`Lua script ${file} must be named <name>-<numKeys>.lua`);
    const source = readFileSync(join(dir, file), 'utf8');
    out.set(m[1] as ScriptName, {
      name: m[1] as ScriptName,
      file,
      numKeys: Number(m[2]),
      source,
      sha: createHash('sha1').update(source).digest('hex'),
    });
  }
  return out;
}

export interface ScriptCall {
  script: ScriptName;
  keys: string[];
  args: (string | number | Buffer)[];
}

export type ScriptReply = unknown;

/** Scripts whose reply is one binary string (a Buffer, never decoded as text). */
const BINARY_REPLY: ReadonlySet<ScriptName> = new Set<ScriptName>(['caller-batch', 'caller-state-read']);

/**
 * Runs detector scripts by SHA, many per round trip. A script missing from the server (Redis
 * restarted, SCRIPT FLUSH) answers NOSCRIPT without running, so the batch loads the scripts and
 * re-runs exactly those calls.
 */
export class DetectorScripts {
  readonly scripts = loadScripts();

  constructor(private readonly redis: RedisClient) {}

  get(name: ScriptName): LuaScript {
    const s = this.scripts.get(name);
    if (!s) throw new Error(`Lua script ${name} not found in ${LUA_DIR}`);
    return s;
  }

  async load(): Promise<void> {
    for (const s of this.scripts.values()) {
      const sha = await loadScriptEverywhere(this.redis, s.source);
      if (sha !== s.sha) throw new Error(`Redis computed SHA ${sha} for ${s.file}, expected ${s.sha}`);
    }
  }

  async run(calls: ScriptCall[]): Promise<ScriptReply[]> {
    if (!calls.length) return [];
    const out = await this.exec(calls);
    const missing = out.flatMap((r, i) =>
      r instanceof Error && r.message.startsWith('NOSCRIPT') ? [i] : [],
    );
    if (missing.length) {
      await this.load();
      const again = await this.exec(missing.map((i) => calls[i]));
      missing.forEach((i, j) => (out[i] = again[j]));
    }
    for (let i = 0; i < out.length; i++) {
      const r = out[i];
      if (r instanceof Error) throw new Error(`${calls[i].script} failed: ${r.message}`);
    }
    return out;
  }

  async one(call: ScriptCall): Promise<ScriptReply> {
    return (await this.run([call]))[0];
  }

  private async exec(calls: ScriptCall[]): Promise<(ScriptReply | Error)[]> {
    for (const c of calls) {
      const s = this.get(c.script);
      if (c.keys.length !== s.numKeys)
        throw new Error(`${s.file} takes ${s.numKeys} keys, got ${c.keys.length}`);
    }
    const res = isCluster(this.redis)
      ? await this.execOnCluster(this.redis, calls)
      : await this.pipeline(this.redis, calls);
    return res.map(([err, val]) => (err ? err : val));
  }

  /** The calls as one pipeline of encoded EVALSHAs (see EncodedEvalsha). */
  private async pipeline(client: RedisClient, calls: ScriptCall[]): Promise<SlotReply[]> {
    // a chainable pipeline is a Pipeline, whose sendCommand takes a prepared Command
    const p = client.pipeline() as unknown as Pipeline;
    for (const c of calls) {
      const s = this.get(c.script);
      p.sendCommand(new EncodedEvalsha(s.sha, c.keys, c.args, BINARY_REPLY.has(c.script)));
    }
    return ((await p.exec()) ?? []) as SlotReply[];
  }

  /**
   * One pipeline per master (by the slot of each call's key), all at once, replies in the calls'
   * order. A pipeline the cluster refuses (its slot map changed since) and a call answered with a
   * redirection (it ran nowhere) go again through execPerNode, which follows redirections.
   */
  private async execOnCluster(cluster: Cluster, calls: ScriptCall[]): Promise<SlotReply[]> {
    const groups = new Map<string, number[]>();
    calls.forEach((c, i) => {
      const node = cluster.slots[keySlot(c.keys[0])]?.[0] ?? `?${i}`;
      const g = groups.get(node);
      if (g) g.push(i);
      else groups.set(node, [i]);
    });
    const out = new Array<SlotReply>(calls.length);
    await Promise.all(
      [...groups.values()].map(async (idx) => {
        let replies: SlotReply[];
        try {
          replies = await this.pipeline(
            cluster,
            idx.map((i) => calls[i]),
          );
        } catch (e) {
          if (!/same slot/.test((e as Error).message)) throw e;
          replies = idx.map((): SlotReply => [new Error('MOVED regrouped'), null]);
        }
        idx.forEach((i, k) => (out[i] = replies[k]));
      }),
    );
    const again = out.flatMap(([err], i) =>
      err && /^(MOVED|ASK|TRYAGAIN|CLUSTERDOWN) /.test(err.message) ? [i] : [],
    );
    if (again.length) {
      const replies = await execPerNode(
        cluster,
        again.map((i) => {
          const c = calls[i];
          const s = this.get(c.script);
          return {
            key: c.keys[0],
            name: 'EVALSHA',
            args: [s.sha, s.numKeys, ...c.keys, ...c.args],
            buffer: BINARY_REPLY.has(c.script),
          };
        }),
      );
      again.forEach((i, k) => (out[i] = replies[k]));
    }
    return out;
  }
}
