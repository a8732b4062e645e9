import { describe, it } from 'vitest';
import { existsSync } from 'node:fs';
import { request } from 'node:http';
import { DynamoDBClient, ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { awsClientConfig } from '../../src/state/aws-config.js';

// Suites that need a real component (the Docker engine, the AWS endpoint) go through
// `describeWith`. With CI=true a missing component fails the run with a message naming it;
// elsewhere the suite is skipped with that same message.

export type Component = 'docker' | 'aws' | 'chromium';

export interface Probe {
  readonly ok: boolean;
  readonly message: string;
}

export const isCI = process.env.CI === 'true' || process.env.CI === '1';

export const DOCKER_SOCKET = process.env.DOCKER_SOCKET ?? '/var/run/docker.sock';
export const TEST_IMAGE = 'stratus/busybox:latest';

function dockerGet(path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath: DOCKER_SOCKET, path, method: 'GET', timeout: 2000 }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('timeout', () => req.destroy(new Error('timed out')));
    req.on('error', reject);
    req.end();
  });
}

async function probeDocker(): Promise<Probe> {
  try {
    const ping = await dockerGet('/_ping');
    if (ping.status !== 200) return { ok: false, message: `Docker engine at ${DOCKER_SOCKET} answered ${ping.status}` };
    const img = await dockerGet(`/images/${encodeURIComponent(TEST_IMAGE)}/json`);
    if (img.status !== 200) {
      return { ok: false, message: `Docker test image ${TEST_IMAGE} is missing (build it with .ci/run or localstack/../.ci/build-test-image)` };
    }
    return { ok: true, message: 'Docker engine and test image available' };
  } catch (e) {
    return { ok: false, message: `Docker engine not reachable at ${DOCKER_SOCKET}: ${(e as Error).message}` };
  }
}

async function probeAws(): Promise<Probe> {
  const cfg = awsClientConfig();
  const client = new DynamoDBClient({ ...cfg, maxAttempts: 1 });
  try {
    await client.send(new ListTablesCommand({ Limit: 1 }), { abortSignal: AbortSignal.timeout(3000) });
    return { ok: true, message: `AWS endpoint ${cfg.endpoint} answers` };
  } catch (e) {
    return { ok: false, message: `AWS endpoint (moto/LocalStack) not reachable at ${cfg.endpoint ?? 'the default AWS endpoint'}: ${(e as Error).message}` };
  } finally {
    client.destroy();
  }
}

/** The browser the dashboard tests drive (Debian's chromium; .ci/run installs it). */
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

async function probeChromium(): Promise<Probe> {
  return existsSync(CHROMIUM)
    ? { ok: true, message: `chromium at ${CHROMIUM}` }
    : { ok: false, message: `chromium not found at ${CHROMIUM} (apt-get install chromium, or set CHROMIUM_PATH)` };
}

const probes = new Map<Component, Promise<Probe>>();
export function probe(component: Component): Promise<Probe> {
  let p = probes.get(component);
  if (!p) {
    p = component === 'docker' ? probeDocker() : component === 'chromium' ? probeChromium() : probeAws();
    probes.set(component, p);
  }
  return p;
}

/** `describe` for a suite that needs the given components. */
export async function describeWith(components: readonly Component[], name: string, fn: () => void): Promise<void> {
  const results = await Promise.all(components.map((c) => probe(c)));
  const missing = results.filter((r) => !r.ok);
  if (missing.length === 0) {
    describe(name, fn);
    return;
  }
  const message = missing.map((m) => m.message).join('; ');
  if (isCI) {
    describe(name, () => {
      it(`requires ${components.join(' and ')}`, () => {
        throw new Error(`missing component: ${message}`);
      });
    });
  } else {
    describe.skip(`${name} [skipped: ${message}]`, fn);
  }
}
