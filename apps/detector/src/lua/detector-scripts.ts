import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { execPerNode, loadScriptEverywhere, RedisClient } from '@eagle-eye/redis';

// From source (apps/detector/src/lua) or the build (dist/apps/detector/src/lua): tsc does not copy
// .lua files, so the build falls back to the sources.
export const LUA_DIR =
  [__dirname, join(__dirname, '..', '..', '..', '..', '..', 'apps', 'detector', 'src', 'lua')].find((d) =>
    existsSync(join(d, 'caller-batch-1.lua')),
  ) ?? __dirname;

export type ScriptName = 'caller-batch' | 'callee-batch' | 'alert-claim' | 'due-claim';

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
  args: (string | number)[];
}

export type ScriptReply = unknown;

/** Scripts whose reply is one binary string (a Buffer, never decoded as text). */
const BINARY_REPLY: ReadonlySet<ScriptName> = new Set<ScriptName>(['caller-batch']);

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
    // one pipeline per Redis Cluster master (by each call's slot), replies in the calls' order
    const res = await execPerNode(
      this.redis,
      calls.map((c) => {
        const s = this.get(c.script);
        if (c.keys.length !== s.numKeys)
          throw new Error(`${s.file} takes ${s.numKeys} keys, got ${c.keys.length}`);
        const args = [s.sha, s.numKeys, ...c.keys, ...c.args];
        return { key: c.keys[0], name: 'EVALSHA', args, buffer: BINARY_REPLY.has(c.script) };
      }),
    );
    return res.map(([err, val]) => (err ? err : val));
  }
}
