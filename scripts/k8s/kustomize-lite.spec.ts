import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { K8sObject, renderKustomization, strategicMerge } from './kustomize-lite';

describe('strategicMerge (the subset deploy/k8s uses)', () => {
  it('merges maps key by key and deletes keys patched to null', () => {
    expect(strategicMerge({ a: 1, b: { c: 2, d: 3 }, e: 4 }, { b: { c: 9 }, e: null, f: 5 })).toEqual({
      a: 1,
      b: { c: 9, d: 3 },
      f: 5,
    });
  });

  it('merges lists of named objects by name and appends new names', () => {
    const containers = [
      { name: 'app', image: 'x', resources: { requests: { cpu: '1' } } },
      { name: 'side', image: 'y' },
    ];
    expect(
      strategicMerge(containers, [
        { name: 'app', resources: { requests: { cpu: '2' } } },
        { name: 'new', image: 'z' },
      ]),
    ).toEqual([
      { name: 'app', image: 'x', resources: { requests: { cpu: '2' } } },
      { name: 'side', image: 'y' },
      { name: 'new', image: 'z' },
    ]);
  });

  it('replaces lists of scalars and of unnamed objects', () => {
    expect(strategicMerge({ args: ['a', 'b'] }, { args: ['c'] })).toEqual({ args: ['c'] });
    expect(strategicMerge([{ x: 1 }], [{ y: 2 }])).toEqual([{ y: 2 }]);
  });

  it('does not change its inputs', () => {
    const target = { a: { b: 1 } };
    strategicMerge(target, { a: { b: 2 } });
    expect(target).toEqual({ a: { b: 1 } });
  });
});

describe('renderKustomization', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'ee-kustomize-'));
    const files: Record<string, string> = {
      'base/kustomization.yaml': 'resources: [app.yaml]\nimages: [{ name: app, newTag: "1" }]\n',
      'base/app.yaml': [
        'apiVersion: apps/v1',
        'kind: Deployment',
        'metadata: { name: app }',
        'spec:',
        '  replicas: 1',
        '  template:',
        '    spec:',
        '      containers: [{ name: app, image: app, args: [run] }]',
        '---',
        'apiVersion: v1',
        'kind: Namespace',
        'metadata: { name: ns }',
      ].join('\n'),
      'overlay/kustomization.yaml': [
        'namespace: ns',
        'resources: [../base]',
        'images: [{ name: app, newName: reg.example/app }]',
        'patches: [{ path: patch.yaml }]',
      ].join('\n'),
      'overlay/patch.yaml':
        'apiVersion: apps/v1\nkind: Deployment\nmetadata: { name: app }\nspec: { replicas: 3 }\n',
      'bad/kustomization.yaml': 'resources: [../base]\ncommonLabels: { a: b }\n',
      'missing/kustomization.yaml': 'resources: [../base]\npatches: [{ path: p.yaml }]\n',
      'missing/p.yaml': 'apiVersion: v1\nkind: Service\nmetadata: { name: nope }\n',
    };
    for (const [f, text] of Object.entries(files)) {
      const path = join(dir, f);
      mkdirSync(join(path, '..'), { recursive: true });
      writeFileSync(path, text);
    }
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('renders a base through an overlay: patches, images of both levels, namespace', () => {
    const out = renderKustomization(join(dir, 'overlay'));
    const deployment = out.find((o) => o.kind === 'Deployment') as K8sObject & {
      spec: { replicas: number; template: { spec: { containers: { image: string; args: string[] }[] } } };
    };
    expect(deployment.metadata.namespace).toBe('ns');
    expect(deployment.spec.replicas).toBe(3);
    expect(deployment.spec.template.spec.containers[0]).toEqual({
      name: 'app',
      image: 'reg.example/app:1',
      args: ['run'],
    });
    // cluster-scoped objects get no namespace
    expect(out.find((o) => o.kind === 'Namespace')?.metadata.namespace).toBeUndefined();
  });

  it('refuses fields it does not implement and patches without a target', () => {
    expect(() => renderKustomization(join(dir, 'bad'))).toThrow(/commonLabels not supported/);
    expect(() => renderKustomization(join(dir, 'missing'))).toThrow(/no Service\/nope to patch/);
  });
});
