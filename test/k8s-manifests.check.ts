import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';

import { loadConfig } from '#libs/core/config';

/**
 * docs/k8s/*.yaml checked against schemas written here by hand for the fields they use (no
 * network for the real OpenAPI / CRD schemas), then against each other: selectors, names,
 * the Secret's keys, the GPU request and the KEDA list name.
 */
const DIR = resolve(import.meta.dirname, '..', 'docs', 'k8s');

type Schema =
  | { type: 'string'; enum?: string[]; pattern?: RegExp }
  | { type: 'integer'; minimum?: number }
  | { type: 'boolean' }
  | { type: 'quantity' }
  | { type: 'array'; items: Schema; minItems?: number }
  | { type: 'object'; properties?: Record<string, Schema>; required?: string[]; additional?: Schema | false }
  | { type: 'any' };

const str = (extra: { enum?: string[]; pattern?: RegExp } = {}): Schema => ({ type: 'string', ...extra });
const int = (minimum?: number): Schema => ({ type: 'integer', minimum });
const obj = (
  properties: Record<string, Schema>,
  required: string[] = [],
  additional: Schema | false = false,
): Schema => ({ type: 'object', properties, required, additional });
const arr = (items: Schema, minItems = 0): Schema => ({ type: 'array', items, minItems });
const map = (values: Schema): Schema => ({ type: 'object', additional: values });
const quantity: Schema = { type: 'quantity' };
const DNS_NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

function validate(value: unknown, schema: Schema, path: string, errors: string[]): void {
  switch (schema.type) {
    case 'any':
      return;
    case 'string':
      if (typeof value !== 'string')
        return void errors.push(`${path}: expected a string, got ${JSON.stringify(value)}`);
      if (schema.enum && !schema.enum.includes(value))
        errors.push(`${path}: "${value}" is not one of ${schema.enum.join(', ')}`);
      if (schema.pattern && !schema.pattern.test(value))
        errors.push(`${path}: "${value}" does not match ${schema.pattern}`);
      return;
    case 'integer':
      if (!Number.isInteger(value))
        return void errors.push(`${path}: expected an integer, got ${JSON.stringify(value)}`);
      if (schema.minimum !== undefined && (value as number) < schema.minimum)
        errors.push(`${path}: ${value} < ${schema.minimum}`);
      return;
    case 'boolean':
      if (typeof value !== 'boolean') errors.push(`${path}: expected a boolean`);
      return;
    case 'quantity':
      if (!(
        Number.isFinite(value) ||
        (typeof value === 'string' && /^\d+(\.\d+)?(m|k|Ki|Mi|Gi|Ti|M|G|T)?$/.test(value))
      ))
        errors.push(`${path}: "${value}" is not a quantity`);
      return;
    case 'array':
      if (!Array.isArray(value)) return void errors.push(`${path}: expected an array`);
      if (value.length < (schema.minItems ?? 0)) errors.push(`${path}: needs at least ${schema.minItems} item(s)`);
      value.forEach((item, i) => validate(item, schema.items, `${path}[${i}]`, errors));
      return;
    case 'object': {
      if (typeof value !== 'object' || value === null || Array.isArray(value))
        return void errors.push(`${path}: expected an object`);
      const record = value as Record<string, unknown>;
      for (const key of schema.required ?? []) if (!(key in record)) errors.push(`${path}.${key}: required`);
      for (const [key, item] of Object.entries(record)) {
        const sub = schema.properties?.[key] ?? schema.additional;
        if (sub === undefined || sub === false) errors.push(`${path}.${key}: unknown field`);
        else validate(item, sub, `${path}.${key}`, errors);
      }
      return;
    }
  }
}

const metadata = obj(
  {
    name: str({ pattern: DNS_NAME }),
    namespace: str({ pattern: DNS_NAME }),
    labels: map(str()),
    annotations: map(str()),
  },
  ['name'],
);
const labelSelector = obj({ matchLabels: map(str()) }, ['matchLabels']);
const envVar = obj({ name: str({ pattern: /^[A-Z_][A-Z0-9_]*$/ }), value: str() }, ['name', 'value']);
const probe = obj(
  {
    httpGet: obj({ path: str({ pattern: /^\// }), port: { type: 'any' } }, ['path', 'port']),
    initialDelaySeconds: int(0),
    periodSeconds: int(1),
    failureThreshold: int(1),
    timeoutSeconds: int(1),
  },
  ['httpGet'],
);
const resources = obj({ requests: map(quantity), limits: map(quantity) });
const container = obj(
  {
    name: str({ pattern: DNS_NAME }),
    image: str({ pattern: /^[\w./-]+(:[\w.-]+)?$/ }),
    command: arr(str(), 1),
    args: arr(str()),
    ports: arr(obj({ name: str(), containerPort: int(1) }, ['containerPort'])),
    env: arr(envVar),
    envFrom: arr(obj({ secretRef: obj({ name: str() }, ['name']) }, ['secretRef'])),
    readinessProbe: probe,
    livenessProbe: probe,
    resources,
    volumeMounts: arr(obj({ name: str(), mountPath: str({ pattern: /^\// }) }, ['name', 'mountPath'])),
  },
  ['name', 'image'],
);
const podSpec = obj(
  {
    containers: arr(container, 1),
    securityContext: obj({ runAsNonRoot: { type: 'boolean' }, runAsUser: int(1), fsGroup: int(0) }),
    terminationGracePeriodSeconds: int(0),
    tolerations: arr(
      obj({
        key: str(),
        operator: str({ enum: ['Exists', 'Equal'] }),
        value: str(),
        effect: str({ enum: ['NoSchedule', 'PreferNoSchedule', 'NoExecute'] }),
      }),
    ),
    volumes: arr(obj({ name: str(), persistentVolumeClaim: obj({ claimName: str() }, ['claimName']) }, ['name'])),
  },
  ['containers'],
);

const SCHEMAS: Record<string, Schema> = {
  'v1/Secret': obj(
    { apiVersion: str(), kind: str(), metadata, type: str(), stringData: map(str()), data: map(str()) },
    ['apiVersion', 'kind', 'metadata'],
  ),
  'v1/PersistentVolumeClaim': obj(
    {
      apiVersion: str(),
      kind: str(),
      metadata,
      spec: obj(
        {
          accessModes: arr(str({ enum: ['ReadWriteOnce', 'ReadOnlyMany', 'ReadWriteMany', 'ReadWriteOncePod'] }), 1),
          storageClassName: str(),
          resources: obj({ requests: obj({ storage: quantity }, ['storage']) }, ['requests']),
        },
        ['accessModes', 'resources'],
      ),
    },
    ['apiVersion', 'kind', 'metadata', 'spec'],
  ),
  'apps/v1/Deployment': obj(
    {
      apiVersion: str(),
      kind: str(),
      metadata,
      spec: obj(
        {
          replicas: int(0),
          selector: labelSelector,
          template: obj({ metadata: obj({ labels: map(str()) }, ['labels']), spec: podSpec }, ['metadata', 'spec']),
        },
        ['selector', 'template'],
      ),
    },
    ['apiVersion', 'kind', 'metadata', 'spec'],
  ),
  'v1/Service': obj(
    {
      apiVersion: str(),
      kind: str(),
      metadata,
      spec: obj(
        {
          type: str({ enum: ['ClusterIP', 'NodePort', 'LoadBalancer'] }),
          selector: map(str()),
          ports: arr(obj({ name: str(), port: int(1), targetPort: { type: 'any' }, protocol: str() }, ['port']), 1),
        },
        ['selector', 'ports'],
      ),
    },
    ['apiVersion', 'kind', 'metadata', 'spec'],
  ),
  'keda.sh/v1alpha1/TriggerAuthentication': obj(
    {
      apiVersion: str(),
      kind: str(),
      metadata,
      spec: obj(
        { secretTargetRef: arr(obj({ parameter: str(), name: str(), key: str() }, ['parameter', 'name', 'key']), 1) },
        ['secretTargetRef'],
      ),
    },
    ['apiVersion', 'kind', 'metadata', 'spec'],
  ),
  'keda.sh/v1alpha1/ScaledObject': obj(
    {
      apiVersion: str(),
      kind: str(),
      metadata,
      spec: obj(
        {
          scaleTargetRef: obj({ apiVersion: str(), kind: str(), name: str() }, ['name']),
          minReplicaCount: int(0),
          maxReplicaCount: int(1),
          pollingInterval: int(1),
          cooldownPeriod: int(0),
          triggers: arr(
            obj(
              {
                type: str({ enum: ['redis'] }),
                // KEDA takes trigger metadata as strings only.
                metadata: obj(
                  {
                    address: str(),
                    addressFromEnv: str(),
                    host: str(),
                    hostFromEnv: str(),
                    port: str({ pattern: /^\d+$/ }),
                    portFromEnv: str(),
                    passwordFromEnv: str(),
                    enableTLS: str({ enum: ['true', 'false'] }),
                    databaseIndex: str({ pattern: /^\d+$/ }),
                    listName: str(),
                    listLength: str({ pattern: /^\d+$/ }),
                    activationListLength: str({ pattern: /^\d+$/ }),
                  },
                  ['listName'],
                ),
                authenticationRef: obj({ name: str() }, ['name']),
              },
              ['type', 'metadata'],
            ),
            1,
          ),
        },
        ['scaleTargetRef', 'triggers'],
      ),
    },
    ['apiVersion', 'kind', 'metadata', 'spec'],
  ),
};

interface Manifest {
  file: string;
  doc: Record<string, any>;
}

const manifests: Manifest[] = readdirSync(DIR)
  .filter((f) => f.endsWith('.yaml'))
  .flatMap((file) =>
    parseAllDocuments(readFileSync(join(DIR, file), 'utf8')).map((d) => {
      if (d.errors.length) throw new Error(`${file}: ${d.errors.map((e) => e.message).join('; ')}`);
      return { file, doc: d.toJS() as Record<string, any> };
    }),
  )
  .filter((m) => m.doc);
const find = (kind: string, name: string) =>
  manifests.find((m) => m.doc.kind === kind && m.doc.metadata?.name === name)?.doc;
const all = (kind: string) => manifests.filter((m) => m.doc.kind === kind).map((m) => m.doc);

describe('docs/k8s manifests', () => {
  it('are all known kinds and valid against their schemas', () => {
    expect(manifests.length).toBeGreaterThanOrEqual(6);
    const errors: string[] = [];
    for (const { file, doc } of manifests) {
      const key = `${doc.apiVersion}/${doc.kind}`;
      const schema = SCHEMAS[key];
      if (!schema) errors.push(`${file}: no schema for ${key}`);
      else validate(doc, schema, `${file}:${doc.kind}/${doc.metadata?.name}`, errors);
    }
    expect(errors).toEqual([]);
  });

  it('the schemas catch mistakes', () => {
    const errors: string[] = [];
    const deployment = structuredClone(find('Deployment', 'trainer-api')!);
    deployment.spec.template.spec.containers[0].resources.requests.cpu = 'lots';
    delete deployment.spec.selector;
    deployment.spec.replica = 2;
    validate(deployment, SCHEMAS['apps/v1/Deployment'], 'd', errors);
    const scaled = structuredClone(find('ScaledObject', 'trainer-worker-gpu')!);
    scaled.spec.triggers[0].metadata.listLength = 1;
    validate(scaled, SCHEMAS['keda.sh/v1alpha1/ScaledObject'], 's', errors);
    expect([...errors].sort()).toEqual(
      [
        'd.spec.template.spec.containers[0].resources.requests.cpu: "lots" is not a quantity',
        'd.spec.replica: unknown field',
        'd.spec.selector: required',
        's.spec.triggers[0].metadata.listLength: expected a string, got 1',
      ].sort(),
    );
  });

  it('has one namespace, and every Deployment selects its own pod labels', () => {
    expect(new Set(manifests.map((m) => m.doc.metadata.namespace))).toEqual(new Set(['trainer']));
    for (const deployment of all('Deployment')) {
      for (const [key, value] of Object.entries(deployment.spec.selector.matchLabels))
        expect(deployment.spec.template.metadata.labels[key]).toBe(value);
    }
  });

  it('API: a Deployment running the API with /health probes, and a Service that reaches it', () => {
    const api = find('Deployment', 'trainer-api')!;
    const container = api.spec.template.spec.containers[0];
    expect(container.command).toEqual(['node', 'dist/apps/api/src/main.js']);
    expect(container.readinessProbe.httpGet.path).toBe('/health');
    const service = find('Service', 'trainer-api')!;
    for (const [key, value] of Object.entries(service.spec.selector))
      expect(api.spec.template.metadata.labels[key]).toBe(value);
    const target = service.spec.ports[0].targetPort;
    expect(container.ports.some((p: any) => p.name === target || p.containerPort === target)).toBe(true);
  });

  it('workers: a Deployment requesting one NVIDIA GPU each', () => {
    const worker = find('Deployment', 'trainer-worker-gpu')!;
    const container = worker.spec.template.spec.containers[0];
    expect(container.command).toEqual(['node', 'dist/apps/worker/src/main.js']);
    expect(container.resources.limits['nvidia.com/gpu']).toBe(1);
    expect(worker.spec.template.spec.terminationGracePeriodSeconds).toBeGreaterThanOrEqual(30);
  });

  it('URLs come from the Secret, and the shared data volume from the claim', () => {
    const secret = find('Secret', 'trainer-urls')!;
    expect(Object.keys(secret.stringData)).toEqual(expect.arrayContaining(['DATABASE_URL', 'REDIS_URL']));
    expect(secret.stringData.DATABASE_URL).toMatch(/^postgres(ql)?:\/\//);
    expect(secret.stringData.REDIS_URL).toMatch(/^rediss?:\/\//);
    for (const deployment of all('Deployment')) {
      const pod = deployment.spec.template.spec;
      expect(pod.containers[0].envFrom.map((e: any) => e.secretRef.name)).toContain('trainer-urls');
      for (const volume of pod.volumes)
        expect(find('PersistentVolumeClaim', volume.persistentVolumeClaim.claimName)).toBeDefined();
      expect(pod.securityContext.runAsNonRoot).toBe(true);
    }
    const claim = all('PersistentVolumeClaim')[0];
    expect(claim.spec.accessModes).toContain('ReadWriteMany');
  });

  it('KEDA scales the worker Deployment on the BullMQ wait list of the default queue', () => {
    const scaled = find('ScaledObject', 'trainer-worker-gpu')!;
    const target = scaled.spec.scaleTargetRef;
    expect(find(target.kind ?? 'Deployment', target.name)).toBe(find('Deployment', 'trainer-worker-gpu'));
    const { queue } = loadConfig({});
    const lists = scaled.spec.triggers.map((t: any) => t.metadata.listName);
    expect(lists[0]).toBe(`${queue.prefix}:${queue.name}:wait`);
    expect(lists[0]).toBe('trainer:training:wait');
    const worker = find('Deployment', 'trainer-worker-gpu')!;
    const env = Object.fromEntries(worker.spec.template.spec.containers[0].env.map((e: any) => [e.name, e.value]));
    expect(`${env.QUEUE_PREFIX}:${env.QUEUE_NAME}:wait`).toBe(lists[0]);
    const secret = find('Secret', 'trainer-urls')!;
    for (const trigger of scaled.spec.triggers) {
      for (const key of ['hostFromEnv', 'portFromEnv'])
        if (trigger.metadata[key]) expect(secret.stringData[trigger.metadata[key]]).toBeDefined();
      const auth = find('TriggerAuthentication', trigger.authenticationRef.name)!;
      for (const ref of auth.spec.secretTargetRef) expect(find('Secret', ref.name)!.stringData[ref.key]).toBeDefined();
    }
  });
});
