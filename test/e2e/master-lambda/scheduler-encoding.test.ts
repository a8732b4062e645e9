import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../../src/core/logger.js';
import { CredentialAuthenticator, hashSecret } from '../../../src/http/credentials.js';
import { Master } from '../../../src/master-lambda/master.js';
import { startLocalServer, type RunningServer } from '../../../src/master-lambda/local-server.js';
import { MemoryItemStore } from '../../../src/state/memory-item-store.js';
import { MESOS_COMPATIBLE_VERSION, STRATUS_VERSION } from '../../../src/wire/mesos-version.js';
import { readRecordIO } from '../../support/scheduler-client.js';

// The scheduler endpoint's encodings as a Mesos 1.x master answers them, and GET /version:
// what pymesos and mesos-go read before and while they subscribe.

const basic = (user: string, secret: string): Record<string, string> => ({ Authorization: `Basic ${Buffer.from(`${user}:${secret}`).toString('base64')}` });
const fw = basic('fw', 'fw-secret');
const subscribeBody = JSON.stringify({ type: 'SUBSCRIBE', subscribe: { framework_info: { user: 'u', name: 'enc', roles: ['*'] } } });

describe('scheduler API encodings and /version', () => {
  let master: Master;
  let server: RunningServer;

  beforeAll(async () => {
    const auth = new CredentialAuthenticator({
      principals: [
        { name: 'fw', kind: 'framework', secret_hash: hashSecret('fw-secret') },
        { name: 'ops', kind: 'operator', secret_hash: hashSecret('ops-secret') },
      ],
    });
    master = new Master({ store: new MemoryItemStore(), log: silentLogger, authenticator: auth, config: { allocationIntervalMs: 100, pollIntervalMs: 50 } });
    server = await startLocalServer(master, { port: 0 });
    master.start();
  });

  afterAll(async () => {
    await master.stop();
    await server.close();
  });

  async function subscribe(headers: Record<string, string>): Promise<Response> {
    return fetch(`${server.url}/api/v1/scheduler`, { method: 'POST', headers: { 'Content-Type': 'application/json', ...fw, ...headers }, body: subscribeBody });
  }

  async function firstRecord(res: Response): Promise<Record<string, unknown>> {
    const records = readRecordIO(res.body!);
    const first = await records.next();
    await res.body!.cancel().catch(() => undefined);
    return first.value as Record<string, unknown>;
  }

  it('streams under Content-Type application/json when asked with Accept: application/json (mesos-go, pymesos), SUBSCRIBED naming Mesos 1.11.0', async () => {
    const res = await subscribe({ Accept: 'application/json' });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/json');
    expect(res.headers.get('message-content-type')).toBeNull();
    expect(res.headers.get('mesos-stream-id')).toBeTruthy();
    const first = await firstRecord(res);
    expect(first.type).toBe('SUBSCRIBED');
    expect((first.subscribed as { master_info: { version: string } }).master_info.version).toBe(MESOS_COMPATIBLE_VERSION);
  });

  it('streams application/recordio with Message-Content-Type: application/json when RecordIO is preferred (the Stratus SDK)', async () => {
    const res = await subscribe({ Accept: 'application/recordio, application/json' });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/recordio');
    expect(res.headers.get('message-content-type')).toBe('application/json');
    expect((await firstRecord(res)).type).toBe('SUBSCRIBED');
  });

  it('answers 406 naming JSON when only protobuf is acceptable, and 415 for a protobuf body; neither subscribes anything', async () => {
    const before = (await master.registry.listFrameworks()).length;
    const notAcceptable = await subscribe({ Accept: 'application/x-protobuf' });
    expect(notAcceptable.status).toBe(406);
    const body406 = (await notAcceptable.json()) as { error: string; field: string };
    expect(body406.field).toBe('Accept');
    expect(body406.error).toMatch(/application\/json/);
    const recordioOfProtobuf = await subscribe({ Accept: 'application/recordio', 'Message-Accept': 'application/x-protobuf' });
    expect(recordioOfProtobuf.status).toBe(406);
    expect(((await recordioOfProtobuf.json()) as { field: string }).field).toBe('Message-Accept');
    const protobufBody = await subscribe({ 'Content-Type': 'application/x-protobuf' });
    expect(protobufBody.status).toBe(415);
    expect(((await protobufBody.json()) as { field: string }).field).toBe('Content-Type');
    // A non-SUBSCRIBE call that wants protobuf back is 406 too, before anything changes.
    const teardown = await fetch(`${server.url}/api/v1/scheduler`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Accept: 'application/x-protobuf', ...fw },
      body: JSON.stringify({ type: 'TEARDOWN', framework_id: { value: 'nope' } }),
    });
    expect(teardown.status).toBe(406);
    expect((await master.registry.listFrameworks()).length).toBe(before);
  });

  it('serves GET /version and /master/version in Mesos shape, without credentials (as Mesos does), HEAD too', async () => {
    for (const path of ['/version', '/master/version']) {
      const res = await fetch(`${server.url}${path}`);
      expect(res.status).toBe(200);
      const v = (await res.json()) as Record<string, unknown>;
      expect(v).toMatchObject({ version: MESOS_COMPATIBLE_VERSION, stratus_version: STRATUS_VERSION });
      expect(v.build_date).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/);
      expect(typeof v.build_time).toBe('number');
      expect(typeof v.build_user).toBe('string');
      expect(new Date(`${String(v.build_date).replace(' ', 'T')}Z`).getTime() / 1000).toBe(v.build_time);
    }
    // Open does not mean anything goes: the rest still wants credentials.
    expect((await fetch(`${server.url}/master/state`)).status).toBe(401);
    expect((await fetch(`${server.url}/version`, { method: 'POST' })).status).toBe(405);
  });

  it('reports Mesos 1.11.0 as the version in /master/state', async () => {
    const res = await fetch(`${server.url}/master/state`, { headers: basic('ops', 'ops-secret') });
    expect(res.status).toBe(200);
    expect(((await res.json()) as { version: string }).version).toBe(MESOS_COMPATIBLE_VERSION);
  });
});
