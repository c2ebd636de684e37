import jwt from 'jsonwebtoken';
import { freePort, RunningApp, spawnApp, waitForHttp } from '@eagle-eye/testing';
import { Client, JWT_SECRET, sleep, Stack, until } from './harness';

/**
 * Sessions end on the server: logout, a password change, disabling a user, a scope change and
 * token expiry stop REST calls and close open sockets at once (on every console replica); a user
 * holds a bounded number of sockets; failed sign-ins are throttled per IP and per username.
 */
describe('console sessions', () => {
  const stack = new Stack();
  let replica: RunningApp;
  let replicaUrl = '';
  const clients: Client[] = [];
  const connect = async (token: string, url = stack.url) => {
    const c = new Client(url, token);
    clients.push(c);
    await c.connected();
    return c;
  };
  const closed = (c: Client) => until(() => c.disconnectReason !== undefined, 'socket closed', 10000);

  beforeAll(async () => {
    await stack.start({
      worker: false,
      consoleEnv: { CONSOLE_SOCKET_RECHECK_S: '1', CONSOLE_MAX_SOCKETS_PER_USER: '2' },
    });
    // a second console replica on the same Redis and database
    const port = await freePort();
    replica = spawnApp('console', {
      ...stack.env(),
      CONSOLE_HTTP_PORT: String(port),
      CONSOLE_JWT_SECRET: JWT_SECRET,
      CONSOLE_JWT_TTL_S: '600',
      CONSOLE_SOCKET_RECHECK_S: '600', // so only the published revocation can close its sockets in time
      CONSOLE_MAX_SOCKETS_PER_USER: '2',
    });
    replicaUrl = `http://127.0.0.1:${port}`;
    await waitForHttp(`${replicaUrl}/readyz`, replica);
  }, 60000);
  afterEach(() => {
    for (const c of clients.splice(0)) c.close();
  });
  afterAll(async () => {
    await replica?.stop();
    await stack.stop();
  }, 60000);

  async function newUser(body: Record<string, unknown>): Promise<{ id: string; token: string }> {
    const admin = await stack.login('admin', 'demo-admin');
    const username = `u${Math.random().toString(36).slice(2, 10)}`;
    const res = await stack.api(admin, 'POST', '/api/users', {
      username,
      password: 'long-enough-pw',
      ...body,
    });
    expect(res.status).toBe(201);
    return { id: res.body.id as string, token: await stack.login(username, 'long-enough-pw') };
  }

  it('logout ends the token on the server and closes its socket; other sessions live on', async () => {
    const t1 = await stack.login('operator.a', 'demo-operator-a');
    const t2 = await stack.login('operator.a', 'demo-operator-a');
    const c1 = await connect(t1, replicaUrl);
    const c2 = await connect(t2);
    expect((await stack.api(t1, 'POST', '/api/auth/logout')).status).toBe(204);
    const after = await stack.api(t1, 'GET', '/api/alerts');
    expect(after.status).toBe(401);
    expect(after.body.message).toBe('session ended');
    await closed(c1);
    expect(c1.disconnectReason).toBe('io server disconnect');
    await sleep(300);
    expect(c2.socket.connected).toBe(true);
    expect((await stack.api(t2, 'GET', '/api/alerts')).status).toBe(200);
    // logout everywhere ends the other one too
    const t3 = await stack.login('operator.a', 'demo-operator-a');
    expect((await stack.api(t3, 'POST', '/api/auth/logout', { everywhere: true })).status).toBe(204);
    expect((await stack.api(t2, 'GET', '/api/alerts')).status).toBe(401);
    await closed(c2);
    await expect(connect(t2)).rejects.toThrow(/unauthorized: session ended/);
  });

  it('a password change ends every existing token and socket and returns a fresh token', async () => {
    const u = await newUser({ role: 'supervisor' });
    const other = await stack.login(
      (await stack.api(u.token, 'GET', '/api/auth/me')).body.username,
      'long-enough-pw',
    );
    const c = await connect(other, replicaUrl);
    const wrong = await stack.api(u.token, 'POST', '/api/auth/password', {
      currentPassword: 'not-the-password',
      newPassword: 'another-long-password',
    });
    expect(wrong.status).toBe(401);
    const res = await stack.api(u.token, 'POST', '/api/auth/password', {
      currentPassword: 'long-enough-pw',
      newPassword: 'another-long-password',
    });
    expect(res.status).toBe(200);
    for (const old of [u.token, other])
      expect((await stack.api(old, 'GET', '/api/auth/me')).status).toBe(401);
    expect((await stack.api(res.body.token as string, 'GET', '/api/auth/me')).status).toBe(200);
    await closed(c);
  });

  it('disabling a user closes their open socket at once, on another replica, and re-enabling revives no old token', async () => {
    const u = await newUser({ role: 'carrier_operator', carrierId: 'carrier-a' });
    const c = await connect(u.token, replicaUrl);
    const admin = await stack.login('admin', 'demo-admin');
    const t0 = Date.now();
    expect((await stack.api(admin, 'PATCH', `/api/users/${u.id}`, { disabled: true })).status).toBe(200);
    await closed(c);
    expect(Date.now() - t0).toBeLessThan(3000); // the replica re-checks only every 600 s: this was the publication
    expect(c.ended).toEqual(['user disabled']);
    expect((await stack.api(admin, 'PATCH', `/api/users/${u.id}`, { disabled: false })).status).toBe(200);
    expect((await stack.api(u.token, 'GET', '/api/alerts')).status).toBe(401);
  });

  it("changing an officer's regions closes the socket; a reconnect gets the new scope only", async () => {
    const u = await newUser({ role: 'police_officer', regions: ['510100'] });
    const c = await connect(u.token, replicaUrl);
    const admin = await stack.login('admin', 'demo-admin');
    expect((await stack.api(admin, 'PATCH', `/api/users/${u.id}`, { regions: ['510700'] })).status).toBe(200);
    await closed(c);
    expect(c.ended).toEqual(['scope changed']);
    expect((await stack.api(u.token, 'GET', '/api/auth/me')).body.regions).toEqual(['510700']);
  });

  it('the periodic re-check closes a socket whose user was disabled behind the console’s back', async () => {
    const u = await newUser({ role: 'supervisor' });
    const c = await connect(u.token); // the first replica re-checks every second
    await stack.db.pool.query('UPDATE console_users SET disabled = true WHERE id = $1', [u.id]);
    await closed(c);
    expect(c.ended).toEqual(['user unknown or disabled']);
  });

  it('closes a socket when its token expires', async () => {
    const t = await stack.login('supervisor', 'demo-supervisor');
    const claims = jwt.decode(t) as jwt.JwtPayload;
    const short = jwt.sign({ ...claims, exp: Math.floor(Date.now() / 1000) + 2 }, JWT_SECRET, {
      algorithm: 'HS256',
    });
    const c = await connect(short, replicaUrl);
    await closed(c);
    expect(c.ended).toEqual(['token expired']);
    expect((await stack.api(short, 'GET', '/api/alerts')).status).toBe(401);
  });

  it('caps the open sockets per user across replicas', async () => {
    const u = await newUser({ role: 'supervisor' });
    await connect(u.token);
    await connect(u.token, replicaUrl);
    await expect(connect(u.token)).rejects.toThrow(/too many connections/);
  });

  it('refuses a validly signed token that no session backs', async () => {
    const t = await stack.login('supervisor', 'demo-supervisor');
    const claims = jwt.decode(t) as jwt.JwtPayload;
    const noSession = jwt.sign({ ...claims, jti: 'AAAAAAAAAAAAAAAAAAAAAA' }, JWT_SECRET, {
      algorithm: 'HS256',
    });
    expect((await stack.api(noSession, 'GET', '/api/alerts')).body.message).toBe('session ended');
    const oldVersion = jwt.sign({ ...claims, tv: (claims.tv as number) - 1 }, JWT_SECRET, {
      algorithm: 'HS256',
    });
    expect((await stack.api(oldVersion, 'GET', '/api/alerts')).status).toBe(401);
  });
});

describe('console sign-in throttling and idle timeout', () => {
  const stack = new Stack();
  beforeAll(async () => {
    await stack.start({
      worker: false,
      consoleEnv: {
        CONSOLE_IDLE_TIMEOUT_S: '5',
        CONSOLE_LOGIN_MAX_FAILS_PER_USER: '3',
        CONSOLE_LOGIN_MAX_FAILS_PER_IP: '8',
        CONSOLE_LOGIN_WINDOW_S: '120',
      },
    });
  }, 60000);
  afterAll(async () => {
    await stack.stop();
  }, 60000);
  const attempt = (username: string, password: string) =>
    fetch(`${stack.url}/api/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username, password }),
    });

  it('ends a session idle for longer than the idle timeout; use keeps it alive', async () => {
    const idle = await stack.login('supervisor', 'demo-supervisor');
    const busy = await stack.login('supervisor', 'demo-supervisor');
    for (let i = 0; i < 7; i++) {
      await sleep(1000);
      expect((await stack.api(busy, 'GET', '/api/auth/me')).status).toBe(200);
    }
    const res = await stack.api(idle, 'GET', '/api/auth/me');
    expect(res.status).toBe(401);
    expect(res.body.message).toBe('session ended');
  }, 20000);

  it('answers 429 with Retry-After once a username has failed too often, even for the right password', async () => {
    for (let i = 0; i < 3; i++) expect((await attempt('operator.b', `wrong-${i}`)).status).toBe(401);
    const blocked = await attempt('operator.b', 'wrong-again');
    expect(blocked.status).toBe(429);
    expect(Number(blocked.headers.get('retry-after'))).toBeGreaterThan(0);
    expect((await attempt('operator.b', 'demo-operator-b')).status).toBe(429);
    // another user from the same address still signs in
    expect((await attempt('operator.a', 'demo-operator-a')).status).toBe(200);
  });

  it('answers 429 once one address has failed too often, whatever the username', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 6; i++) statuses.push((await attempt(`nobody${i}`, 'guess')).status);
    // 4 failures counted before (previous test) + 4 here = 8 allowed, then 429
    expect(statuses).toEqual([401, 401, 401, 401, 429, 429]);
    const r = await attempt('supervisor', 'demo-supervisor');
    expect(r.status).toBe(429);
    expect(Number(r.headers.get('retry-after'))).toBeGreaterThan(0);
  });

  it('audits failed and refused sign-ins as auth.login_failed', async () => {
    const rows = await stack.db.pool.query<{ actor: string; detail: { throttled: boolean } }>(
      `SELECT actor, detail FROM audit_log WHERE action = 'auth.login_failed' ORDER BY id`,
    );
    expect(rows.rows.length).toBe(5 + 6 + 1);
    expect(rows.rows.filter((r) => r.detail.throttled).length).toBe(2 + 2 + 1);
    expect(rows.rows[0].actor).toBe('operator.b');
  });
});
