import { redactClearNumbers } from '@eagle-eye/pseudonym';

/**
 * Log hygiene: whatever reaches a log line passes through here, so a clear phone number that slips
 * into a message (an operator's search, a rejected payload) is never written out. The check is
 * the one shared with ingest, the worker and the console (libs/pseudonym clear-number.ts):
 * NFKC-normalised, 7 or more digits with or without separators, whatever surrounds them.
 */
export function redactPhoneNumbers(text: string): string {
  return redactClearNumbers(text);
}

export const REDACTED_SECRET = '[redacted]';

/**
 * Field names whose value is a secret wherever they occur (headers, payloads, config dumps):
 * authorization and cookies, passwords, secrets, keys, access and refresh tokens, JWTs. A bare
 * `token` is not one: here it names a subscriber's pseudonym, which logs may carry.
 */
const SECRET_KEY =
  /^(authorization|proxy-authorization|cookie|set-cookie|x-api-key|api[-_]?key|jwt|password|passwd|pass|pwd)$|password|secret|private[-_]?key|access[-_]?token|refresh[-_]?token|id[-_]?token|session[-_]?token|bearer|credential/i;

/** Trace context fields are hex by construction; the number check would mangle digit runs in them. */
const TRACE_KEYS = new Set(['trace_id', 'span_id', 'traceId', 'spanId', 'traceparent', 'trace_flags']);

// credentials inside free text: `Bearer <token>`, `://user:password@host`, `password=...`
const BEARER = /\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]+/gi;
const URL_PASSWORD = /(\b[a-z][a-z0-9+.-]*:\/\/[^:/?#@\s]*:)[^@/?#\s]+@/gi;
const KEY_VALUE_SECRET =
  /\b(password|passwd|pwd|secret|api[-_]?key|access[-_]?token|refresh[-_]?token)=([^&\s]+)/gi;

const PERCENT = /%[0-9A-Fa-f]{2}/;

/** Percent-encoding undone (a number in a URL, `138%201234%205678`, is still a number). */
function percentDecoded(text: string): string {
  if (!PERCENT.test(text)) return text;
  try {
    return decodeURIComponent(text);
  } catch {
    return text.replace(/%([0-9A-Fa-f]{2})/g, (_m, h: string) => String.fromCharCode(parseInt(h, 16)));
  }
}

/** A text with clear numbers and inline credentials replaced. */
export function redactText(text: string): string {
  let s = redactClearNumbers(percentDecoded(text));
  if (s.includes('://')) s = s.replace(URL_PASSWORD, `$1${REDACTED_SECRET}@`);
  if (/bearer|basic/i.test(s)) s = s.replace(BEARER, `$1 ${REDACTED_SECRET}`);
  if (s.includes('=')) s = s.replace(KEY_VALUE_SECRET, `$1=${REDACTED_SECRET}`);
  return s;
}

/** A request URL: its query decoded (`+` is a space there) and redacted like any text. */
export function redactUrl(url: string): string {
  const q = url.indexOf('?');
  if (q < 0) return redactText(url);
  return redactText(url.slice(0, q)) + '?' + redactText(url.slice(q + 1).replace(/\+/g, ' '));
}

export function isSecretKey(key: string): boolean {
  return SECRET_KEY.test(key);
}

/**
 * A copy of a log record's value with every string redacted (redactText) and every field named
 * like a secret replaced, at any depth (cycles and depth beyond 8 are cut). Errors become plain
 * objects (type, message, stack) so their texts are redacted too.
 */
export function redactValue(value: unknown, depth = 0, seen: WeakSet<object> = new WeakSet()): unknown {
  if (typeof value === 'string') return redactText(value);
  if (value === null || typeof value !== 'object') return value;
  if (depth > 8 || seen.has(value)) return '[cut]';
  seen.add(value);
  if (value instanceof Error) {
    const e = value as Error & { code?: unknown };
    const out: Record<string, unknown> = {
      type: e.name,
      message: redactText(e.message),
      stack: redactText(e.stack ?? ''),
    };
    if (e.code !== undefined) out.code = e.code;
    return out;
  }
  if (Buffer.isBuffer(value)) return `[${value.length} bytes]`;
  if (Array.isArray(value)) return value.map((v) => redactValue(v, depth + 1, seen));
  if (value instanceof Date) return value.toISOString();
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
    if (isSecretKey(k)) out[k] = REDACTED_SECRET;
    else if (TRACE_KEYS.has(k) && typeof v === 'string' && /^[0-9a-f-]{2,64}$/.test(v)) out[k] = v;
    else out[k] = redactValue(v, depth + 1, seen);
  }
  return out;
}
