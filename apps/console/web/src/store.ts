import { reactive, ref } from 'vue';
import { io, type Socket } from 'socket.io-client';
import type { AlertReplayDone, AlertServerEvents, AlertView } from '@eagle-eye/contracts/alerts';
import { ApiError, request, type AlertPage, type Principal, type UiConfig } from './api';

/**
 * The console's state: who is signed in, the alerts in scope (newest seq wins), the live socket.
 * The session lives in sessionStorage (one tab, gone with it); preferences in localStorage.
 */
export const session = reactive({
  token: sessionStorage.getItem('ee.token'),
  user: JSON.parse(sessionStorage.getItem('ee.user') ?? 'null') as Principal | null,
  /** why the user was signed out, shown on the sign-in page (a message key) */
  endedReason: '' as '' | 'session.ended',
});
export const uiConfig = reactive<UiConfig & { loaded: boolean }>({
  timeZone: 'Asia/Shanghai',
  defaultLocale: 'zh-CN',
  confirmedFraudBlacklistDays: 90,
  loaded: false,
});
export const alerts = reactive(new Map<string, AlertView>());
export const live = ref(false);
/** one clock for every call timer on screen */
export const now = ref(Date.now());
setInterval(() => (now.value = Date.now()), 1000);

export const prefs = reactive({
  sound: localStorage.getItem('ee.sound') === '1',
  desktop: localStorage.getItem('ee.desktop') === '1',
});
export function savePrefs(): void {
  localStorage.setItem('ee.sound', prefs.sound ? '1' : '0');
  localStorage.setItem('ee.desktop', prefs.desktop ? '1' : '0');
}

type Listener = (a: AlertView, created: boolean) => void;
const listeners = new Set<Listener>();
/** Called for every alert change that is news to this page (not a repeat). */
export function onAlert(fn: Listener): () => void {
  listeners.add(fn);
  return () => listeners.delete(fn);
}

let lastSeq = 0;
let socket: Socket<AlertServerEvents & { 'alerts.replayed': (d: AlertReplayDone) => void }> | null = null;

export async function loadUiConfig(): Promise<void> {
  Object.assign(uiConfig, await request<UiConfig>(null, 'GET', '/ui-config.json'), { loaded: true });
}

export async function api<T>(method: string, path: string, body?: unknown): Promise<T> {
  try {
    return await request<T>(session.token, method, path, body);
  } catch (err) {
    if (err instanceof ApiError && err.status === 401) signOut('session.ended');
    throw err;
  }
}

export async function signIn(username: string, password: string): Promise<void> {
  const r = await request<{ token: string; user: Principal }>(null, 'POST', '/api/auth/login', {
    username,
    password,
  });
  session.token = r.token;
  session.user = r.user;
  session.endedReason = '';
  sessionStorage.setItem('ee.token', r.token);
  sessionStorage.setItem('ee.user', JSON.stringify(r.user));
  await start();
}

export function signOut(reason: '' | 'session.ended' = ''): void {
  socket?.disconnect();
  socket = null;
  live.value = false;
  session.token = null;
  session.user = null;
  session.endedReason = reason;
  sessionStorage.removeItem('ee.token');
  sessionStorage.removeItem('ee.user');
  alerts.clear();
  lastSeq = 0;
}

export function logout(): void {
  // end the session on the server too (its token stops working at once), then forget it here
  if (session.token) void request(session.token, 'POST', '/api/auth/logout').catch(() => undefined);
  signOut();
}

/** Loads the queue and opens the live connection. */
export async function start(): Promise<void> {
  const page = await api<AlertPage>('GET', '/api/alerts?limit=200');
  alerts.clear();
  for (const a of page.items) alerts.set(a.id, a);
  lastSeq = Math.max(lastSeq, page.seq);
  connect();
}

function connect(): void {
  socket?.disconnect();
  // auth as a function: every reconnect sends the newest seq seen, and the server replays the rest
  socket = io('/alerts', {
    transports: ['websocket'],
    auth: (cb) => cb({ token: session.token, lastSeq }),
  });
  socket.on('connect', () => (live.value = true));
  socket.on('disconnect', (reason) => {
    live.value = false;
    // the server closed it: session ended (then /api/auth/me answers 401 and we sign out) or the
    // scope changed (then we reload who we are and the queue, and reconnect)
    if (reason === 'io server disconnect' && session.token) setTimeout(() => void restart(), 500);
  });
  socket.on('connect_error', (err) => {
    live.value = false;
    if (/unauthorized/.test(err.message)) signOut('session.ended');
  });
  socket.on('alert.created', (a) => upsert(a, true));
  socket.on('alert.updated', (a) => upsert(a, false));
}

async function restart(): Promise<void> {
  try {
    const me = await api<Principal>('GET', '/api/auth/me');
    session.user = me;
    sessionStorage.setItem('ee.user', JSON.stringify(me));
    await start();
  } catch {
    // signed out by api() on 401; otherwise stay offline until the next action
  }
}

function upsert(a: AlertView, created: boolean): void {
  const had = alerts.get(a.id);
  lastSeq = Math.max(lastSeq, a.seq);
  if (had && had.seq >= a.seq) return; // a replayed or repeated event
  alerts.set(a.id, a);
  for (const fn of listeners) fn(a, created || !had);
}

/** Puts a fresher copy (from an action's reply or a detail read) into the queue. */
export function remember(a: AlertView): void {
  const had = alerts.get(a.id);
  if (!had || had.seq <= a.seq) alerts.set(a.id, a);
}
