import { baseSchema, env, z } from '@eagle-eye/config';

export const ConsoleConfigSchema = baseSchema.extend({
  CONSOLE_HTTP_PORT: env.port(8080),
  CONSOLE_HTTP_HOST: env.string('127.0.0.1'),
  REDIS_KEY_PREFIX: env.string('ee'),
  CONSOLE_JWT_SECRET: env.secret(32),
  CONSOLE_JWT_TTL_S: env.int(28800, 60, 7 * 86400),
  /**
   * bearer token for /metrics and the details of /readyz on the console's public port (Prometheus:
   * `authorization: { credentials_file: … }`). Unset: both are open, which production refuses; without
   * the token /readyz still answers 200/503 with its status only, for load-balancer probes
   */
  CONSOLE_OPS_TOKEN: env.secret(32).optional(),
  /** a session with no request and no open live connection for this long ends (server side) */
  CONSOLE_IDLE_TIMEOUT_S: env.int(1800, 5, 7 * 86400),
  /** every open socket is re-verified this often (and at its token's expiry); capped at the token TTL */
  CONSOLE_SOCKET_RECHECK_S: env.int(30, 1, 3600),
  /** open live connections one user may hold across all replicas */
  CONSOLE_MAX_SOCKETS_PER_USER: env.int(5, 1, 100),
  /** failed sign-ins allowed per client IP, then per username, within CONSOLE_LOGIN_WINDOW_S */
  CONSOLE_LOGIN_MAX_FAILS_PER_IP: env.int(30, 1, 100000),
  CONSOLE_LOGIN_MAX_FAILS_PER_USER: env.int(10, 1, 100000),
  /** the window failures are counted in, and how long a client or username is then refused (429) */
  CONSOLE_LOGIN_WINDOW_S: env.int(900, 1, 86400),
  /** how many missed alert changes one reconnect replays at most (then the client reloads the list) */
  CONSOLE_REPLAY_LIMIT: env.int(5000, 100, 100000),
  /**
   * bytes one live connection may have waiting to be sent (queued or in the WebSocket's buffer);
   * past it the connection is dropped and the client resumes from its lastSeq. Must hold a replay
   * batch (500 changes)
   */
  CONSOLE_SOCKET_MAX_BUFFER_BYTES: env.int(4 * 1024 * 1024, 256 * 1024, 1024 * 1024 * 1024),
  /** days a number added to the blacklist by a confirmed-fraud outcome stays there */
  CONSOLE_CONFIRMED_FRAUD_BLACKLIST_DAYS: env.int(90, 1, 3650),
  /** the IANA time zone the web console shows every time in (the deployment's, not the browser's) */
  CONSOLE_TIME_ZONE: env.string('Asia/Shanghai').refine(isTimeZone, { message: 'must be an IANA time zone' }),
  /** the web console's language until a user picks one (zh-CN or en; the choice is remembered) */
  CONSOLE_DEFAULT_LOCALE: z.enum(['zh-CN', 'en']).default('zh-CN'),
  /** worker threads that hash and check passwords (bcrypt), off the event loop serving live alerts */
  CONSOLE_PASSWORD_THREADS: env.int(2, 1, 64),
  /** password checks that may wait for a thread; past it a sign-in gets 503 + Retry-After at once */
  CONSOLE_PASSWORD_QUEUE: env.int(64, 1, 100000),
  /** distinct people (across partner apps) whose pending reports put a number on the graylist */
  REPORTS_GRAYLIST_REPORTERS: env.int(3, 1, 1000),
  /** days a graylisting by reports lasts unless a supervisor confirms or dismisses them first */
  REPORTS_GRAYLIST_DAYS: env.int(30, 1, 365),
  /** reports one partner API key may submit per minute (across console replicas); more: 429 */
  REPORTS_PER_PARTNER_PER_MINUTE: env.int(600, 1, 1000000),
});
export type ConsoleConfig = z.infer<typeof ConsoleConfigSchema>;
export const CONSOLE_CONFIG = Symbol('CONSOLE_CONFIG');

function isTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

export const JWT_ISSUER = 'eagle-eye-console';
export const JWT_AUDIENCE = 'eagle-eye-console-users';
