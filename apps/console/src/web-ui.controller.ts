import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Controller, Get, Header } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';

// The web UI's files stay in apps/console/public (no build step); found from source or from dist.
export const PUBLIC_DIR =
  [
    join(__dirname, '..', 'public'),
    join(__dirname, '..', '..', '..', '..', 'apps', 'console', 'public'),
  ].find((d) => existsSync(d)) ?? join(__dirname, '..', 'public');

const TYPES: Record<string, string> = {
  'index.html': 'text/html; charset=utf-8',
  'app.js': 'text/javascript; charset=utf-8',
  'style.css': 'text/css; charset=utf-8',
};

/** Serves the three files of the web console; the socket.io client comes from socket.io itself. */
@ApiExcludeController()
@Controller()
export class WebUiController {
  @Get()
  @Header('Content-Type', TYPES['index.html'])
  @Header('Cache-Control', 'no-cache')
  index(): string {
    return readFileSync(join(PUBLIC_DIR, 'index.html'), 'utf8');
  }

  @Get('app.js')
  @Header('Content-Type', TYPES['app.js'])
  @Header('Cache-Control', 'no-cache')
  app(): string {
    return readFileSync(join(PUBLIC_DIR, 'app.js'), 'utf8');
  }

  @Get('style.css')
  @Header('Content-Type', TYPES['style.css'])
  @Header('Cache-Control', 'no-cache')
  style(): string {
    return readFileSync(join(PUBLIC_DIR, 'style.css'), 'utf8');
  }
}
