import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

/**
 * Lua scripts live beside this file as `<name>-<numKeys>.lua`. The TypeScript build does not copy
 * them into dist/, so a built app finds them in the source tree it was built from.
 */
export function loadLua(file: string): string {
  let dir = __dirname;
  for (let i = 0; i < 8; i++) {
    for (const candidate of [join(dir, file), join(dir, 'apps/ingest/src/lua', file)]) {
      if (existsSync(candidate)) return readFileSync(candidate, 'utf8');
    }
    dir = dirname(dir);
  }
  throw new Error(`Lua script ${file} not found near ${__dirname}`);
}

export const HANDOFF_SCRIPT_FILE = 'handoff-n.lua';
