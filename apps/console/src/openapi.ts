import { Controller, Get, Header, INestApplication } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import { DocumentBuilder, OpenAPIObject, SwaggerModule } from '@nestjs/swagger';
import { Public } from './auth/auth.guard';

let document: OpenAPIObject | undefined;

/** Built once the app is up (Swagger reads the routes from the running app). */
export function buildOpenApi(app: INestApplication): void {
  document = SwaggerModule.createDocument(
    app,
    new DocumentBuilder()
      .setTitle('Eagle Eye console API')
      .setDescription(
        'Alerts, claims and outcomes for carrier fraud desks and police anti-fraud centres. ' +
          'Sign in with POST /api/auth/login and send `Authorization: Bearer <token>`. ' +
          'Live alerts: socket.io namespace /alerts, handshake auth { token, lastSeq }.',
      )
      .setVersion('1')
      .addBearerAuth()
      .build(),
  );
}

@ApiExcludeController()
@Controller('api')
export class OpenApiController {
  @Public()
  @Get('openapi.json')
  openapi(): OpenAPIObject | { error: string } {
    return document ?? { error: 'starting' };
  }

  /** A small page that renders the document with links; no third-party UI bundle is needed. */
  @Public()
  @Get('docs')
  @Header('Content-Type', 'text/html; charset=utf-8')
  docs(): string {
    const paths = Object.entries(document?.paths ?? {});
    const rows = paths
      .flatMap(([path, ops]) =>
        Object.entries(ops as Record<string, { summary?: string }>).map(
          ([method, op]) =>
            `<tr><td><code>${method.toUpperCase()}</code></td><td><code>${escape(path)}</code></td><td>${escape(op.summary ?? '')}</td></tr>`,
        ),
      )
      .join('\n');
    return `<!doctype html><html><head><meta charset="utf-8"><title>Eagle Eye console API</title>
<link rel="stylesheet" href="/style.css"></head><body class="docs"><main>
<h1>Eagle Eye console API</h1><p>Machine-readable document: <a href="/api/openapi.json">/api/openapi.json</a> (OpenAPI 3).</p>
<table class="docs-table"><thead><tr><th>method</th><th>path</th><th>what</th></tr></thead><tbody>${rows}</tbody></table>
</main></body></html>`;
  }
}

function escape(s: string): string {
  return s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c] ?? c);
}
