import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { credentials, Metadata, status } from '@grpc/grpc-js';
import { seedDemo } from '@eagle-eye/db';
import {
  connectTestRedis,
  createTestSchema,
  dropRedisPrefix,
  freePort,
  RunningApp,
  spawnApp,
  testRedisUrl,
  TestSchema,
  uniqueId,
  waitForHttp,
} from '@eagle-eye/testing';
import { callEvents } from './testing/call-events';
import { ingestClient, submit } from './testing/ingest-client';

/** A throw-away CA, a server certificate for 127.0.0.1 and carrier client certificates. */
function makePki(dir: string): void {
  const ssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
  ssl(
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-keyout',
    'ca.key',
    '-out',
    'ca.pem',
    '-days',
    '2',
    '-subj',
    '/CN=test carriers CA',
  );
  const issue = (name: string, subject: string, san: string, ext: string) => {
    writeFileSync(join(dir, `${name}.ext`), `subjectAltName=${san}\nextendedKeyUsage=${ext}\n`);
    ssl(
      'req',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      `${name}.key`,
      '-out',
      `${name}.csr`,
      '-subj',
      subject,
    );
    ssl(
      'x509',
      '-req',
      '-in',
      `${name}.csr`,
      '-CA',
      'ca.pem',
      '-CAkey',
      'ca.key',
      '-CAcreateserial',
      '-out',
      `${name}.pem`,
      '-days',
      '2',
      '-extfile',
      `${name}.ext`,
    );
  };
  issue('server', '/CN=ingest', 'IP:127.0.0.1,DNS:localhost', 'serverAuth');
  issue('carrier-a', '/CN=not-used', 'URI:urn:eagleeye:carrier:carrier-a', 'clientAuth');
  issue('carrier-b-cn', '/CN=carrier-b', 'DNS:carrier-b.example', 'clientAuth');
  issue('stranger', '/CN=carrier-zz', 'DNS:zz.example', 'clientAuth');
}

describe('ingest with mutual TLS (built app)', () => {
  let dir: string;
  let app: RunningApp;
  let schema: TestSchema;
  let prefix: string;
  let address: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'ee-mtls-'));
    makePki(dir);
    schema = await createTestSchema();
    await seedDemo(schema.pool);
    prefix = uniqueId('ee');
    const grpcPort = await freePort();
    const httpPort = await freePort();
    app = spawnApp('ingest', {
      REDIS_URL: testRedisUrl(),
      DATABASE_URL: schema.url,
      REDIS_KEY_PREFIX: prefix,
      INGEST_GRPC_PORT: String(grpcPort),
      INGEST_HTTP_PORT: String(httpPort),
      INGEST_AUTH_MODE: 'mtls',
      INGEST_TLS_CERT_FILE: join(dir, 'server.pem'),
      INGEST_TLS_KEY_FILE: join(dir, 'server.key'),
      INGEST_TLS_CA_FILE: join(dir, 'ca.pem'),
    });
    await waitForHttp(`http://127.0.0.1:${httpPort}/readyz`, app);
    address = `127.0.0.1:${grpcPort}`;
  }, 60000);

  afterAll(async () => {
    if (app) expect(await app.stop()).toBe(0);
    const redis = await connectTestRedis();
    await dropRedisPrefix(redis, prefix);
    redis.disconnect();
    await schema?.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  const clientWith = (name?: string) =>
    ingestClient(
      address,
      credentials.createSsl(
        readFileSync(join(dir, 'ca.pem')),
        name ? readFileSync(join(dir, `${name}.key`)) : null,
        name ? readFileSync(join(dir, `${name}.pem`)) : null,
      ),
    );

  it('takes the carrier from the certificate (SAN URI, else CN) and ignores bearer metadata', async () => {
    const a = clientWith('carrier-a');
    const md = new Metadata();
    md.set('authorization', 'Bearer eek_demob_wrong');
    const ack = await submit(a, md, { sequence: 1, events: callEvents('tls', 0, 3) });
    expect(ack).toEqual({ sequence: 1, accepted: 3, duplicates: 0, rejected: [] });
    a.close();
    const b = clientWith('carrier-b-cn');
    // the same event ids from carrier-b are new: the id space is per carrier
    expect((await submit(b, new Metadata(), { sequence: 1, events: callEvents('tls', 0, 3) })).accepted).toBe(
      3,
    );
    b.close();
  });

  it('refuses a certificate naming an unknown carrier, and a client without a certificate', async () => {
    const s = clientWith('stranger');
    await expect(
      submit(s, new Metadata(), { sequence: 1, events: callEvents('tls2', 0, 3) }),
    ).rejects.toMatchObject({
      code: status.UNAUTHENTICATED,
    });
    s.close();
    const none = clientWith();
    await expect(
      submit(none, new Metadata(), { sequence: 1, events: callEvents('tls3', 0, 3) }),
    ).rejects.toMatchObject({ code: status.UNAVAILABLE });
    none.close();
  });
});
