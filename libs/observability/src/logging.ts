import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { DynamicModule } from '@nestjs/common';
import { isSpanContextValid, trace, context as otelContext } from '@opentelemetry/api';
import { LoggerModule } from 'nestjs-pino';
import pino, { DestinationStream, LoggerOptions } from 'pino';
import type { Options as PinoHttpOptions } from 'pino-http';
import { redactText, redactUrl, redactValue, REDACTED_SECRET } from './redact';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
export type LogFormat = 'json' | 'pretty';

/**
 * Paths pino censors before anything else sees them (headers of HTTP requests and responses);
 * redactValue also replaces any field named like a secret at any depth.
 */
export const REDACT_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["x-api-key"]',
  'res.headers["set-cookie"]',
  'password',
  '*.password',
  'secret',
  '*.secret',
  'authorization',
  '*.authorization',
];

/** Routes whose requests are not logged one by one (scraped and probed every few seconds). */
const QUIET_ROUTES = /^\/(healthz|readyz|metrics)\b/;
const REQUEST_ID = /^[\w.-]{1,64}$/;

/**
 * The pino options of every app: ISO time, level names, the service name, the active span's
 * trace_id and span_id, and redaction of clear numbers and secrets in the message, every field,
 * errors and requests.
 */
export function pinoOptions(service: string, level: LogLevel, format: LogFormat = 'json'): LoggerOptions {
  return {
    level,
    base: { service, pid: process.pid, hostname: hostname() },
    timestamp: pino.stdTimeFunctions.isoTime,
    messageKey: 'msg',
    // pino-pretty colours numeric levels; collectors read names
    formatters: {
      ...(format === 'json' ? { level: (label: string) => ({ level: label }) } : {}),
      log: (obj: Record<string, unknown>) => redactValue(obj) as Record<string, unknown>,
    },
    redact: { paths: REDACT_PATHS, censor: REDACTED_SECRET },
    serializers: {
      err: (e: unknown) => redactValue(e),
      error: (e: unknown) => redactValue(e),
    },
    hooks: {
      // the message and its interpolation arguments (formatters.log sees neither)
      logMethod(args: unknown[], method) {
        // pino takes the message of a lone Error (or of an object's `err`) itself: give it one
        const first = args[0];
        if (first instanceof Error) {
          args = [{ err: first }, ...(args.length > 1 ? args.slice(1) : [first.message])];
        } else if (
          args.length === 1 &&
          first !== null &&
          typeof first === 'object' &&
          (first as { err?: unknown }).err instanceof Error
        ) {
          args = [first, (first as { err: Error }).err.message];
        }
        for (let i = 0; i < args.length; i++) {
          if (typeof args[i] === 'string') args[i] = redactText(args[i] as string);
        }
        return method.apply(this, args as Parameters<typeof method>);
      },
    },
    mixin() {
      const span = trace.getSpan(otelContext.active());
      if (!span) return {};
      const sc = span.spanContext();
      return isSpanContextValid(sc) ? { trace_id: sc.traceId, span_id: sc.spanId } : {};
    },
  };
}

/**
 * Where log lines go: stdout, synchronously (a line written just before process.exit is not
 * lost). LOG_FORMAT=pretty uses pino-pretty when it is installed (a development dependency: the
 * production image has none, and logs JSON).
 */
export function logDestination(format: LogFormat): { stream: DestinationStream; format: LogFormat } {
  if (format === 'pretty') {
    try {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const pretty = require('pino-pretty') as (o: Record<string, unknown>) => DestinationStream;
      return {
        stream: pretty({
          colorize: !!process.stdout.isTTY,
          translateTime: 'SYS:HH:MM:ss.l',
          ignore: 'pid,hostname,service,context',
          messageFormat: '[{service}{if context}/{context}{end}] {msg}',
          sync: true,
        }),
        format,
      };
    } catch {
      process.stderr.write('LOG_FORMAT=pretty needs pino-pretty (a dev dependency): logging JSON\n');
    }
  }
  return { stream: pino.destination({ dest: 1, sync: true }), format: 'json' };
}

/** The pino-http options of every app (request logs, request ids) on top of pinoOptions. */
export function pinoHttpOptions(service: string, level: LogLevel, format: LogFormat): PinoHttpOptions {
  return {
    ...pinoOptions(service, level, format),
    quietReqLogger: true,
    customAttributeKeys: { reqId: 'requestId' },
    genReqId: (req: IncomingMessage, res: ServerResponse) => {
      const incoming = req.headers['x-request-id'];
      const id = typeof incoming === 'string' && REQUEST_ID.test(incoming) ? incoming : randomUUID();
      res.setHeader('x-request-id', id);
      return id;
    },
    autoLogging: { ignore: (req: IncomingMessage) => QUIET_ROUTES.test(req.url ?? '') },
    customLogLevel: (_req, res, err) =>
      err || res.statusCode >= 500 ? 'error' : res.statusCode >= 400 ? 'warn' : 'info',
    wrapSerializers: false,
    serializers: {
      err: (e: unknown) => redactValue(e),
      // no headers at all: nothing of an Authorization header or a cookie can reach a line
      req: (req: IncomingMessage & { id?: unknown }) => ({
        id: req.id,
        method: req.method,
        url: redactUrl(req.url ?? ''),
      }),
      res: (res: ServerResponse) => ({ statusCode: res.statusCode }),
    },
  };
}

/** nestjs-pino for an app: the Nest logger and request logging, with the options above. */
export function loggingModule(service: string, level: LogLevel, format: LogFormat): DynamicModule {
  const dest = logDestination(format);
  return LoggerModule.forRoot({
    pinoHttp: [pinoHttpOptions(service, level, dest.format), dest.stream],
  });
}
