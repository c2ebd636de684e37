import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { AlertWorkerConfigSchema } from '../../apps/alert-worker/src/config';
import { ConsoleConfigSchema } from '../../apps/console/src/config';
import { DetectorConfigSchema } from '../../apps/detector/src/config';
import { IngestConfigSchema } from '../../apps/ingest/src/config';
import { loadConfig, z } from '@eagle-eye/config';
import { parse } from 'yaml';
import { REPO_ROOT } from '@eagle-eye/testing';
import { PRODUCTION_FILES } from '../production-files';
import { K8sObject, renderKustomization } from './kustomize-lite';

/**
 * deploy/k8s: every overlay renders (scripts/k8s/kustomize-lite.ts, the kustomize subset the
 * manifests use), every object is valid against the Kubernetes OpenAPI schemas (kubernetes-models,
 * offline), and the things an operator relies on hold: probes, resources, non-root pods, HPAs,
 * PDBs, the migration Job, placeholder-only Secrets, and a ConfigMap + Secret each app accepts.
 */
const K8S = join(REPO_ROOT, 'deploy/k8s');
const OVERLAYS = readdirSync(join(K8S, 'overlays'));
const APPS = {
  ingest: IngestConfigSchema,
  detector: DetectorConfigSchema,
  'alert-worker': AlertWorkerConfigSchema,
  console: ConsoleConfigSchema,
} as const;

type Container = {
  name: string;
  image: string;
  args?: string[];
  command?: string[];
  envFrom?: { configMapRef?: { name: string }; secretRef?: { name: string } }[];
  ports?: { name: string; containerPort: number }[];
  readinessProbe?: { httpGet?: { path: string; port: string | number } };
  livenessProbe?: { httpGet?: { path: string; port: string | number } };
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
  securityContext?: { allowPrivilegeEscalation?: boolean; readOnlyRootFilesystem?: boolean };
};
type PodSpec = {
  containers: Container[];
  securityContext?: { runAsNonRoot?: boolean; runAsUser?: number };
  serviceAccountName?: string;
  restartPolicy?: string;
};
type Workload = K8sObject & {
  spec: {
    replicas?: number;
    selector?: { matchLabels: Record<string, string> };
    template: { metadata?: { labels?: Record<string, string> }; spec: PodSpec };
  };
};

/** The Kubernetes model class for an apiVersion and kind: kubernetes-models/<group>/<version>. */
function validateObject(o: K8sObject): void {
  const path = o.apiVersion.includes('/') ? o.apiVersion : `v1`;
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const mod = require(`kubernetes-models/${path}`) as Record<
    string,
    new (data: unknown) => { validate(): void }
  >;
  const Model = mod[o.kind];
  if (!Model) throw new Error(`${o.apiVersion} ${o.kind}: no schema in kubernetes-models`);
  try {
    new Model(o).validate();
  } catch (e) {
    throw new Error(`${o.kind}/${o.metadata.name}: ${(e as Error).message}`, { cause: e });
  }
}

describe.each(OVERLAYS)('deploy/k8s/overlays/%s', (overlay) => {
  const objects = renderKustomization(join(K8S, 'overlays', overlay));
  const find = <T extends K8sObject>(kind: string, name: string): T => {
    const o = objects.find((x) => x.kind === kind && x.metadata.name === name);
    if (!o) throw new Error(`${overlay}: no ${kind}/${name}`);
    return o as T;
  };
  const configMap = find<K8sObject & { data: Record<string, string> }>('ConfigMap', 'eagle-eye-config');
  const secret = find<K8sObject & { stringData: Record<string, string> }>('Secret', 'eagle-eye-secrets');

  it('renders objects that are valid against the Kubernetes schemas', () => {
    expect(objects.length).toBeGreaterThan(15);
    for (const o of objects) validateObject(o);
    const namespaces = new Set(
      objects.filter((o) => o.kind !== 'Namespace').map((o) => o.metadata.namespace),
    );
    expect([...namespaces]).toEqual(['eagle-eye']);
    expect(find('Namespace', 'eagle-eye')).toBeDefined();
  });

  it('the schema check itself rejects a malformed object', () => {
    const bad = structuredClone(find<Workload>('Deployment', 'eagle-eye-ingest'));
    (bad.spec.template.spec.containers[0] as unknown as { ports: unknown }).ports = [
      { containerPort: 'http' },
    ];
    expect(() => validateObject(bad)).toThrow(/containerPort must be integer/);
  });

  it.each(Object.keys(APPS))(
    '%s: one image, probes, resources, non-root, config from the ConfigMap and Secret',
    (app) => {
      const d = find<Workload>('Deployment', `eagle-eye-${app}`);
      const pod = d.spec.template.spec;
      expect(d.spec.selector?.matchLabels).toEqual({ 'app.kubernetes.io/name': `eagle-eye-${app}` });
      expect(d.spec.template.metadata?.labels).toMatchObject(d.spec.selector!.matchLabels);
      expect(pod.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 1000 });
      expect(pod.containers).toHaveLength(1);
      const [c] = pod.containers;
      expect(c.image).toMatch(/(^|\/)eagle-eye:[\w.-]+$/);
      expect(c.args).toEqual([app]); // deploy/entrypoint.sh picks the app
      expect(c.readinessProbe?.httpGet).toEqual({ path: '/readyz', port: 'http' });
      expect(c.livenessProbe?.httpGet).toEqual({ path: '/healthz', port: 'http' });
      expect(Object.keys(c.resources?.requests ?? {}).sort()).toEqual(['cpu', 'memory']);
      expect(Object.keys(c.resources?.limits ?? {}).sort()).toEqual(['cpu', 'memory']);
      expect(c.securityContext).toMatchObject({
        allowPrivilegeEscalation: false,
        readOnlyRootFilesystem: true,
      });
      expect(c.envFrom).toEqual([
        { configMapRef: { name: 'eagle-eye-config' } },
        { secretRef: { name: 'eagle-eye-secrets' } },
      ]);
      // the HTTP port is the one the app listens on (its *_HTTP_PORT default), on every interface
      const schema = APPS[app as keyof typeof APPS] as z.ZodObject;
      const prefix = app.toUpperCase().replace('-', '_');
      const cfg = loadConfig(schema, {
        ...configMap.data,
        ...secret.stringData,
        CONSOLE_JWT_SECRET: 'x'.repeat(48), // the placeholders are refused on purpose (below)
        CONSOLE_OPS_TOKEN: 'o'.repeat(48),
      }) as Record<string, unknown>;
      expect(c.ports?.find((p) => p.name === 'http')?.containerPort).toBe(cfg[`${prefix}_HTTP_PORT`]);
      expect(cfg[`${prefix}_HTTP_HOST`]).toBe('0.0.0.0');
      expect(cfg.NODE_ENV).toBe('production');
      if (app === 'ingest') {
        // in production ingest refuses API keys without TLS: its key pair comes from the mounted Secret
        const mounts = (c as unknown as { volumeMounts: { name: string; mountPath: string }[] }).volumeMounts;
        const tls = mounts.find((m) => m.name === 'tls')!;
        expect(cfg.INGEST_TLS_CERT_FILE).toBe(`${tls.mountPath}/tls.crt`);
        expect(cfg.INGEST_TLS_KEY_FILE).toBe(`${tls.mountPath}/tls.key`);
      }
      // a Service and a PodDisruptionBudget select the pods
      const svc = find<K8sObject & { spec: { selector: Record<string, string> } }>(
        'Service',
        `eagle-eye-${app}`,
      );
      expect(svc.spec.selector).toEqual(d.spec.selector!.matchLabels);
      const pdb = find<K8sObject & { spec: { selector: { matchLabels: unknown }; maxUnavailable?: number } }>(
        'PodDisruptionBudget',
        `eagle-eye-${app}`,
      );
      expect(pdb.spec.selector.matchLabels).toEqual(d.spec.selector!.matchLabels);
      expect(pdb.spec.maxUnavailable).toBe(1);
    },
  );

  it('ingest and detector scale by HorizontalPodAutoscaler (and leave replicas to it); partitions cover the detectors', () => {
    type Hpa = K8sObject & {
      spec: { scaleTargetRef: { kind: string; name: string }; minReplicas: number; maxReplicas: number };
    };
    for (const app of ['ingest', 'detector']) {
      const hpa = find<Hpa>('HorizontalPodAutoscaler', `eagle-eye-${app}`);
      expect(hpa.spec.scaleTargetRef).toMatchObject({ kind: 'Deployment', name: `eagle-eye-${app}` });
      expect(hpa.spec.minReplicas).toBeLessThanOrEqual(hpa.spec.maxReplicas);
      expect(find<Workload>('Deployment', `eagle-eye-${app}`).spec.replicas).toBeUndefined();
    }
    const detectors = find<Hpa>('HorizontalPodAutoscaler', 'eagle-eye-detector').spec.maxReplicas;
    expect(Number(configMap.data.HANDOFF_PARTITIONS)).toBeGreaterThanOrEqual(detectors);
    expect(objects.filter((o) => o.kind === 'HorizontalPodAutoscaler')).toHaveLength(2);
  });

  it('a Job applies the migrations with the same image and configuration', () => {
    const job = find<Workload>('Job', 'eagle-eye-migrate');
    const [c] = job.spec.template.spec.containers;
    expect(c.command).toEqual([
      'node',
      '-r',
      './scripts/register-paths.js',
      'dist/libs/db/src/migrate.cli.js',
    ]);
    expect(c.image).toBe(
      find<Workload>('Deployment', 'eagle-eye-ingest').spec.template.spec.containers[0].image,
    );
    // the apps' configuration, plus the owner's connection that only this Job sees
    const apps = find<Workload>('Deployment', 'eagle-eye-ingest').spec.template.spec.containers[0].envFrom;
    expect(c.envFrom).toEqual([...(apps ?? []), { secretRef: { name: 'eagle-eye-migration' } }]);
    for (const d of objects.filter((o) => o.kind === 'Deployment') as Workload[])
      for (const dc of d.spec.template.spec.containers)
        expect(JSON.stringify(dc.envFrom ?? [])).not.toContain('eagle-eye-migration');
    const migration = find<K8sObject & { stringData: Record<string, string> }>(
      'Secret',
      'eagle-eye-migration',
    );
    const app = find<K8sObject & { stringData: Record<string, string> }>('Secret', 'eagle-eye-secrets');
    expect(new URL(migration.stringData.DATABASE_MIGRATION_URL).username).not.toBe(
      new URL(app.stringData.DATABASE_URL).username,
    );
    expect(job.spec.template.spec.restartPolicy).toBe('OnFailure');
  });

  it('Secrets hold placeholders only, and the console refuses the JWT and ops token placeholders', () => {
    for (const s of objects.filter((o) => o.kind === 'Secret') as (K8sObject & {
      data?: unknown;
      stringData: Record<string, string>;
    })[]) {
      expect(s.data).toBeUndefined();
      for (const [k, v] of Object.entries(s.stringData)) expect(`${k}=${v}`).toMatch(/REPLACE_ME/);
    }
    expect(() => loadConfig(ConsoleConfigSchema, { ...configMap.data, ...secret.stringData })).toThrow(
      /CONSOLE_JWT_SECRET/,
    );
    expect(() =>
      loadConfig(ConsoleConfigSchema, {
        ...configMap.data,
        ...secret.stringData,
        CONSOLE_JWT_SECRET: 'y'.repeat(40),
      }),
    ).toThrow(/CONSOLE_OPS_TOKEN/);
    // the rest of the Secret parses (URLs of the right schemes)
    expect(() =>
      loadConfig(ConsoleConfigSchema, {
        ...configMap.data,
        ...secret.stringData,
        CONSOLE_JWT_SECRET: 'y'.repeat(40),
        CONSOLE_OPS_TOKEN: 'z'.repeat(40),
      }),
    ).not.toThrow();
  });

  it('the ConfigMap names only variables some app reads', () => {
    const known = new Set(Object.values(APPS).flatMap((s) => Object.keys((s as z.ZodObject).shape)));
    expect(Object.keys(configMap.data).filter((k) => !known.has(k))).toEqual([]);
  });
});

describe('deploy/Dockerfile', () => {
  const dockerfile = readFileSync(join(REPO_ROOT, 'deploy/Dockerfile'), 'utf8');
  const entrypoint = readFileSync(join(REPO_ROOT, 'deploy/entrypoint.sh'), 'utf8');
  const stages = dockerfile.split(/^FROM /m).slice(1);
  const runtime = stages[stages.length - 1];

  it('is multi-stage and runs as a non-root user', () => {
    expect(stages.length).toBeGreaterThanOrEqual(3);
    expect(runtime).toMatch(/^USER 1000:1000$/m);
    expect(runtime).toMatch(/^ENTRYPOINT \["\/srv\/eagle-eye\/deploy\/entrypoint\.sh"\]$/m);
  });

  it('installs the run-time dependencies from the lock file without dev dependencies, as the production-install test does', () => {
    expect(dockerfile).toMatch(/RUN npm install --omit=dev --no-audit --no-fund/);
    const spec = readFileSync(join(REPO_ROOT, 'scripts/production-install.e2e-spec.ts'), 'utf8');
    expect(spec).toMatch(/'install',\s*'--omit=dev'/);
  });

  it('copies exactly the files of a production install into the run-time stage', () => {
    const copied = [...runtime.matchAll(/^COPY (?!--from=deps)(?:--from=build )?(.+)$/gm)].flatMap((m) => {
      const parts = m[1].trim().split(/\s+/);
      return parts.slice(0, -1).map((p) => p.replace(/^\/src\//, ''));
    });
    expect(copied.sort()).toEqual([...PRODUCTION_FILES].sort());
  });

  it('deploy/compose.yaml runs the apps and the migrations from this image', () => {
    const compose = parse(readFileSync(join(REPO_ROOT, 'deploy/compose.yaml'), 'utf8'), { merge: true }) as {
      services: Record<string, { build?: { context: string; dockerfile: string }; command?: string[] }>;
    };
    for (const name of [...Object.keys(APPS), 'migrate']) {
      const svc = compose.services[name];
      expect(svc.build).toEqual({ context: '..', dockerfile: 'deploy/Dockerfile' });
      expect(svc.command).toEqual([name]);
    }
  });

  it('its entry point starts every app the manifests run, and the migrations', () => {
    for (const app of [...Object.keys(APPS), 'simulator']) expect(entrypoint).toContain(app);
    expect(entrypoint).toMatch(
      /migrate\)\s*\n\s*exec node -r \.\/scripts\/register-paths\.js dist\/libs\/db\/src\/migrate\.cli\.js/,
    );
  });
});
