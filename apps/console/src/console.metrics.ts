import { Counter, Gauge } from 'prom-client';
import { metricsRegistry } from '@eagle-eye/observability';

const registers = [metricsRegistry];

export const consoleConnected = new Gauge({
  name: 'eagleeye_console_connected_clients',
  help: 'socket.io clients connected to this console replica, by role',
  labelNames: ['role'] as const,
  registers,
});

export const consoleLogins = new Counter({
  name: 'eagleeye_console_logins_total',
  help: 'Console logins, by result',
  labelNames: ['result'] as const,
  registers,
});

export const consoleHandshakesRefused = new Counter({
  name: 'eagleeye_console_handshakes_refused_total',
  help: 'socket.io handshakes refused (missing, invalid or expired token)',
  registers,
});

export const consoleAlertActions = new Counter({
  name: 'eagleeye_console_alert_actions_total',
  help: 'Actions taken on alerts from consoles, by action',
  labelNames: ['action'] as const,
  registers,
});

export const consoleReplayed = new Counter({
  name: 'eagleeye_console_replayed_alerts_total',
  help: 'Alert changes replayed to reconnecting clients',
  registers,
});

export const consoleSlowSocketsDropped = new Counter({
  name: 'eagleeye_console_slow_sockets_dropped_total',
  help: 'socket.io connections dropped for holding more than CONSOLE_SOCKET_MAX_BUFFER_BYTES unread',
  registers,
});

export const consoleOpsRefused = new Counter({
  name: 'eagleeye_console_ops_refused_total',
  help: '/metrics requests refused on the public port for lacking the operations token',
  registers,
});
