import { existsSync, readFileSync } from 'node:fs';
import { extname, join } from 'node:path';
import { Controller, Get, Header, Inject, NotFoundException, Param, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { Response } from 'express';
import { ConsoleConfig, CONSOLE_CONFIG } from './config';
import { UiConfig } from './ui-config';

/**
 * The web console's bundle, built from apps/console/web by Vite (`npm run build:console`, run by
 * `npm test` and `npm run stack`/`demo` through scripts/lib.sh) into dist/apps/console/web; found
 * from dist (production) or from the source tree (tests run the sources).
 */
export const WEB_DIST_DIR =
  [join(__dirname, '..', 'web'), join(__dirname, '..', '..', '..', 'dist', 'apps', 'console', 'web')].find(
    (d) => existsSync(join(d, 'index.html')),
  ) ?? null;

const TYPES: Record<string, string> = {
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.map': 'application/json; charset=utf-8',
};

// Shown instead of the console when the bundle was never built: says what to run, not a blank page.
const NOT_BUILT = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Eagle Eye console</title></head>
<body><h1>The web console is not built</h1><p>Run <code>npm run build:console</code> (part of <code>npm test</code>
and <code>npm run stack</code>), then reload. The API under <code>/api</code> works without it.</p></body></html>`;

/** Serves the built web console; hashed assets are cached for good, index.html never. */
@ApiExcludeController()
@Controller()
export class WebUiController {
  constructor(@Inject(CONSOLE_CONFIG) private readonly config: ConsoleConfig) {}

  @Get()
  @Header('Cache-Control', 'no-cache')
  index(@Res() res: Response): void {
    res.type('html');
    if (!WEB_DIST_DIR) {
      res.status(503).send(NOT_BUILT);
      return;
    }
    res.send(readFileSync(join(WEB_DIST_DIR, 'index.html'), 'utf8'));
  }

  @Get('ui-config.json')
  @Header('Cache-Control', 'no-cache')
  uiConfig(): UiConfig {
    return {
      timeZone: this.config.CONSOLE_TIME_ZONE,
      defaultLocale: this.config.CONSOLE_DEFAULT_LOCALE,
      confirmedFraudBlacklistDays: this.config.CONSOLE_CONFIRMED_FRAUD_BLACKLIST_DAYS,
    };
  }

  @Get('favicon.svg')
  favicon(@Res() res: Response): void {
    this.send(res, 'favicon.svg', 'public, max-age=86400');
  }

  @Get('favicon.ico')
  faviconIco(@Res() res: Response): void {
    this.send(res, 'favicon.svg', 'public, max-age=86400');
  }

  @Get('assets/:file')
  asset(@Param('file') file: string, @Res() res: Response): void {
    this.send(res, join('assets', file), 'public, max-age=31536000, immutable');
  }

  private send(res: Response, path: string, cache: string): void {
    // one path segment of plain characters under the bundle folder, nothing else
    const name = path.split('/').pop() ?? '';
    const type = TYPES[extname(name)];
    if (!WEB_DIST_DIR || !/^[\w.-]+$/.test(name) || !type) throw new NotFoundException();
    const full = join(WEB_DIST_DIR, path);
    if (!existsSync(full)) throw new NotFoundException();
    res.setHeader('Content-Type', type);
    res.setHeader('Cache-Control', cache);
    res.send(readFileSync(full));
  }
}
