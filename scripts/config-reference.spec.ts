import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { commentsOf, REFERENCE_FILE, renderConfigReference } from './config-reference';

/**
 * docs/configuration.md is what scripts/config-reference.ts makes from the schemas today.
 * `npm run config:reference` (UPDATE_CONFIG_REFERENCE=1) writes it instead of comparing.
 */
async function rendered(): Promise<string> {
  return renderConfigReference(); // not reformatted: .prettierignore lists the generated file
}

describe('configuration reference (docs/configuration.md)', () => {
  it('is up to date with the zod schemas', async () => {
    const text = await rendered();
    if (process.env.UPDATE_CONFIG_REFERENCE === '1') writeFileSync(REFERENCE_FILE, text);
    expect(existsSync(REFERENCE_FILE)).toBe(true);
    const committed = readFileSync(REFERENCE_FILE, 'utf8');
    if (committed !== text) {
      throw new Error(
        'docs/configuration.md differs from the schemas: run `npm run config:reference` and commit it',
      );
    }
  });

  it('lists every variable of every app with its default and meaning', async () => {
    const text = await rendered();
    expect(text).toMatch(/\| `RETENTION_AUDIT_DAYS` \| `1095` \| integer 0–36500 \| audit entries older/);
    expect(text).toMatch(/\| `CONSOLE_JWT_SECRET` \| \*\*required\*\*/);
    expect(text).toMatch(/\| `INGEST_AUTH_MODE` \| `api_key` \| `api_key`, `mtls`/);
    expect(text).toMatch(/\| `DETECTOR_CONSUMER_NAME` \| `<host name>-\d+`/);
    // every variable has a meaning
    expect(text.split('\n').filter((l) => /^\| `[A-Z0-9_]+` \|.*\| {2}\|$/.test(l))).toEqual([]);
    expect(text).toMatch(/\| `REDIS_URL` \| `redis:\/\/127\.0\.0\.1:6390`/);
  });

  it('reads the comment above each variable', () => {
    const src = [
      '  /** how long, ms */',
      '  A_B: env.int(1),',
      '  /**',
      '   * two lines',
      '   * of text',
      '   */',
      '  C: z.string(),',
      '  D: env.int(2),',
    ].join('\n');
    expect([...commentsOf(src)]).toEqual([
      ['A_B', 'how long, ms'],
      ['C', 'two lines of text'],
    ]);
  });
});
