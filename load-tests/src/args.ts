/** Minimal `--name value` / `--flag` parsing for the load tools (no dependency for four flags). */
export class Args {
  private readonly values = new Map<string, string>();
  private readonly flags = new Set<string>();
  private readonly used = new Set<string>();

  constructor(argv: string[], booleanFlags: string[] = []) {
    for (let i = 0; i < argv.length; i++) {
      const a = argv[i];
      if (!a.startsWith('--')) throw new Error(`unexpected argument ${a}`);
      const eq = a.indexOf('=');
      const name = eq > 0 ? a.slice(2, eq) : a.slice(2);
      if (eq > 0) this.values.set(name, a.slice(eq + 1));
      else if (booleanFlags.includes(name)) this.flags.add(name);
      else if (i + 1 < argv.length) this.values.set(name, argv[++i]);
      else throw new Error(`--${name} needs a value`);
    }
  }

  flag(name: string): boolean {
    this.used.add(name);
    return this.flags.has(name);
  }

  str(name: string, def?: string): string | undefined {
    this.used.add(name);
    return this.values.get(name) ?? def;
  }

  num(name: string, def: number, min?: number, max?: number): number;
  num(name: string, def: undefined, min?: number, max?: number): number | undefined;
  num(name: string, def: number | undefined, min = 0, max = Number.MAX_SAFE_INTEGER): number | undefined {
    this.used.add(name);
    const raw = this.values.get(name);
    if (raw === undefined) return def;
    const v = Number(raw);
    if (!Number.isFinite(v) || v < min || v > max)
      throw new Error(`--${name} must be a number in ${min}..${max}, got ${raw}`);
    return v;
  }

  /** Fails on any option nobody asked for (a typo must not silently run the default). */
  assertAllUsed(): void {
    const unknown = [...this.values.keys(), ...this.flags].filter((k) => !this.used.has(k));
    if (unknown.length)
      throw new Error(
        `unknown option${unknown.length > 1 ? 's' : ''}: ${unknown.map((u) => '--' + u).join(', ')}`,
      );
  }
}
