// k6: operators' consoles listening for alerts on the socket.io `/alerts` namespace, speaking the
// engine.io v4 / socket.io v5 wire protocol over k6/ws (k6 has no socket.io client).
//
//   k6 run load-tests/k6/console-listener.js -e CONSOLE=http://127.0.0.1:8080 \
//     -e USERNAME=supervisor -e PASSWORD=demo-supervisor -e LISTENERS=10 -e DURATION=60s
//
// Run it beside ingest-stream.js (with PROBES_PER_S > 0) against `npm run stack`. Metrics:
// `alert_event_to_console` (ms from the alerting event's time, callAnsweredAt, to the arrival at
// this client: both clocks are this machine's), `alert_raised_to_console` (from the detector's
// raisedAt), `alerts_received`, `socket_errors`. Loopback consoles only.
//
// Protocol, as the socket.io client does it:
//   server: 0{"sid":..,"pingInterval":..}    engine.io OPEN
//   client: 40/alerts,{"token":".."}          socket.io CONNECT to the namespace with auth
//   server: 40/alerts,{"sid":".."}            connected (44/alerts,{..} = refused, with the reason)
//   server: 42/alerts,["alert.created",{..}]  an event
//   server: 2 / client: 3                     engine.io ping / pong
import http from 'k6/http';
import ws from 'k6/ws';
import { check } from 'k6';
import { Counter, Trend } from 'k6/metrics';

const CONSOLE = __ENV.CONSOLE || 'http://127.0.0.1:8080';
const USERNAME = __ENV.USERNAME || 'supervisor';
const PASSWORD = __ENV.PASSWORD || 'demo-supervisor';
const LISTENERS = Number(__ENV.LISTENERS || 5);
const DURATION = __ENV.DURATION || '60s';

const consoleHost = CONSOLE.replace(/^https?:\/\//, '').replace(/[:/].*$/, '');
if (!(consoleHost === 'localhost' || consoleHost === '[::1]' || /^127\./.test(consoleHost))) {
  throw new Error(`CONSOLE ${CONSOLE} is not a loopback address: this script only talks to this machine`);
}

function seconds(d) {
  const m = /^(\d+)(ms|s|m|h)$/.exec(d);
  if (!m) throw new Error(`DURATION ${d} must look like 60s, 5m or 1h`);
  return Number(m[1]) * { ms: 0.001, s: 1, m: 60, h: 3600 }[m[2]];
}
const HOLD_MS = seconds(DURATION) * 1000;

export const options = {
  scenarios: {
    consoles: {
      executor: 'per-vu-iterations',
      vus: LISTENERS,
      iterations: 1,
      maxDuration: `${seconds(DURATION) + 30}s`,
    },
  },
  thresholds: { socket_errors: ['count==0'] },
};

const eventToConsole = new Trend('alert_event_to_console', true);
const raisedToConsole = new Trend('alert_raised_to_console', true);
const received = new Counter('alerts_received');
const socketErrors = new Counter('socket_errors');

export function setup() {
  const res = http.post(
    `${CONSOLE}/api/auth/login`,
    JSON.stringify({ username: USERNAME, password: PASSWORD }),
    {
      headers: { 'content-type': 'application/json' },
    },
  );
  check(res, { 'login 2xx': (r) => r.status >= 200 && r.status < 300 });
  if (res.status >= 300) throw new Error(`login as ${USERNAME} failed: ${res.status} ${res.body}`);
  return { token: res.json('token') };
}

export default function (data) {
  const url = `${CONSOLE.replace(/^http/, 'ws')}/socket.io/?EIO=4&transport=websocket`;
  const res = ws.connect(url, {}, (socket) => {
    socket.on('message', (msg) => {
      if (msg === '2') {
        socket.send('3');
        return;
      }
      if (msg.startsWith('0')) {
        socket.send(`40/alerts,${JSON.stringify({ token: data.token })}`);
        return;
      }
      if (msg.startsWith('44/alerts')) {
        socketErrors.add(1);
        console.error(`console refused the connection: ${msg.slice(10)}`);
        socket.close();
        return;
      }
      if (!msg.startsWith('42/alerts,')) return;
      const [name, alert] = JSON.parse(msg.slice('42/alerts,'.length));
      if (name !== 'alert.created' || !alert) return;
      const now = Date.now();
      received.add(1);
      if (alert.callAnsweredAt) eventToConsole.add(now - Date.parse(alert.callAnsweredAt));
      if (alert.raisedAt) raisedToConsole.add(now - Date.parse(alert.raisedAt));
    });
    socket.on('error', (e) => {
      socketErrors.add(1);
      console.error(`socket error: ${e.error()}`);
    });
    socket.setTimeout(() => socket.close(), HOLD_MS);
  });
  check(res, { 'websocket upgraded (101)': (r) => r && r.status === 101 });
}
