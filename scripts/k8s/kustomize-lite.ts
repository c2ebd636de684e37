import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { parseAllDocuments } from 'yaml';

/**
 * Renders a kustomization the way `kubectl kustomize` does, for the subset of kustomize that
 * deploy/k8s uses, so that `npm test` can render and validate the manifests without a kustomize
 * binary (npm has no maintained offline kustomize; Debian's kubectl is years old). The subset:
 * `resources` (files, or folders holding a kustomization.yaml), `namespace`, `images` (newName,
 * newTag) and `patches` given by `path` as strategic-merge patches, matched by kind and name.
 * Strategic merge here: maps merge key by key, `null` deletes a key, lists of objects with a
 * `name` (containers, env, volumes, ports in this repository's patches) merge item by item, any
 * other list is replaced. Anything else in a kustomization is refused, so the manifests cannot
 * quietly use a feature this renderer would get wrong.
 */
export type K8sObject = {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; [k: string]: unknown };
  [k: string]: unknown;
};

type Kustomization = {
  apiVersion?: string;
  kind?: string;
  resources?: string[];
  namespace?: string;
  images?: { name: string; newName?: string; newTag?: string }[];
  patches?: { path: string }[];
};

const SUPPORTED = new Set(['apiVersion', 'kind', 'resources', 'namespace', 'images', 'patches']);
/** kinds that live outside namespaces (the ones this repository uses) */
const CLUSTER_SCOPED = new Set(['Namespace', 'ClusterRole', 'ClusterRoleBinding']);

export function readYamlDocuments(file: string): K8sObject[] {
  return parseAllDocuments(readFileSync(file, 'utf8'))
    .map((d) => {
      if (d.errors.length) throw new Error(`${file}: ${d.errors[0].message}`);
      return d.toJS() as K8sObject | null;
    })
    .filter((o): o is K8sObject => o !== null && typeof o === 'object');
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Strategic merge of `patch` into `target` (both plain YAML data); returns a new value. */
export function strategicMerge(target: unknown, patch: unknown): unknown {
  if (isObject(target) && isObject(patch)) {
    const out: Record<string, unknown> = { ...target };
    for (const [k, v] of Object.entries(patch)) {
      if (v === null) delete out[k];
      else out[k] = k in target ? strategicMerge(target[k], v) : v;
    }
    return out;
  }
  if (Array.isArray(target) && Array.isArray(patch) && patch.every((p) => isObject(p) && 'name' in p)) {
    const out = target.map((t) => t as unknown);
    for (const p of patch as Record<string, unknown>[]) {
      const i = out.findIndex((t) => isObject(t) && t.name === p.name);
      if (i >= 0) out[i] = strategicMerge(out[i], p);
      else out.push(p);
    }
    return out;
  }
  return patch;
}

function podSpecs(o: K8sObject): Record<string, unknown>[] {
  const spec = o.spec as Record<string, unknown> | undefined;
  const template = spec?.template as { spec?: Record<string, unknown> } | undefined;
  if (template?.spec) return [template.spec];
  if (o.kind === 'Pod' && spec) return [spec];
  return [];
}

function setImages(o: K8sObject, images: NonNullable<Kustomization['images']>): K8sObject {
  for (const pod of podSpecs(o)) {
    for (const key of ['containers', 'initContainers']) {
      for (const c of (pod[key] as { image?: string }[] | undefined) ?? []) {
        if (!c.image) continue;
        const at = c.image.search(/[:@][^/]*$/);
        const name = at >= 0 ? c.image.slice(0, at) : c.image;
        const tag = at >= 0 ? c.image.slice(at + 1) : undefined;
        const rule = images.find((i) => i.name === name);
        if (!rule) continue;
        const newTag = rule.newTag ?? tag;
        c.image = (rule.newName ?? name) + (newTag ? `:${newTag}` : '');
      }
    }
  }
  return o;
}

const key = (o: Pick<K8sObject, 'kind' | 'metadata'>): string => `${o.kind}/${o.metadata.name}`;

/** Renders the kustomization in `dir` (a folder holding kustomization.yaml) to its objects. */
export function renderKustomization(dir: string): K8sObject[] {
  const file = join(dir, 'kustomization.yaml');
  const k = readYamlDocuments(file)[0] as unknown as Kustomization;
  const unknownFields = Object.keys(k).filter((f) => !SUPPORTED.has(f));
  if (unknownFields.length) {
    throw new Error(`${file}: ${unknownFields.join(', ')} not supported by scripts/k8s/kustomize-lite.ts`);
  }
  let objects: K8sObject[] = [];
  for (const r of k.resources ?? []) {
    const path = resolve(dir, r);
    if (!existsSync(path)) throw new Error(`${file}: resource ${r} does not exist`);
    objects.push(...(statSync(path).isDirectory() ? renderKustomization(path) : readYamlDocuments(path)));
  }
  const seen = new Set<string>();
  for (const o of objects) {
    if (seen.has(key(o))) throw new Error(`${file}: ${key(o)} defined twice`);
    seen.add(key(o));
  }
  for (const p of k.patches ?? []) {
    for (const patch of readYamlDocuments(resolve(dir, p.path))) {
      const i = objects.findIndex((o) => key(o) === key(patch));
      if (i < 0) throw new Error(`${join(dirname(file), p.path)}: no ${key(patch)} to patch`);
      objects[i] = strategicMerge(objects[i], patch) as K8sObject;
    }
  }
  if (k.images) objects = objects.map((o) => setImages(o, k.images!));
  if (k.namespace) {
    for (const o of objects) {
      if (!CLUSTER_SCOPED.has(o.kind)) o.metadata = { ...o.metadata, namespace: k.namespace };
    }
  }
  return objects;
}
