import { CreateTableCommand, DeleteTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { ApiGatewayV2Event, ApiGatewayV2Result } from '../../src/master-lambda/lambda/api-handler.js';
import { awsClientConfig } from '../../src/state/aws-config.js';
import { createTableInput } from '../../src/state/table-definition.js';
import { describeWith } from '../support/components.js';
import { frameworkInfo } from '../support/scheduler-client.js';
import { FRAMEWORK_HASH, FRAMEWORK_SECRET, synth, type Synthesized } from './support.js';

// The Lambda bundles exactly as synth wrote them (the asset directories of the cloud
// assembly), each loaded by a fresh Node process with Node's own ESM loader (as Lambda loads
// `index.mjs`, nothing of the test runner in between) and invoked with Lambda events against
// the local AWS endpoint (moto), on a fresh table created from the single table definition.

const run = promisify(execFile);
const RESULT = '@@stratus-result@@';

/** Imports `file`, calls its export `name(event, context)` and prints the result after a marker. */
const INVOKER = `
import { pathToFileURL } from 'node:url';
const [file, name, event, remainingMs] = process.argv.slice(1);
const mod = await import(pathToFileURL(file).href);
if (typeof mod[name] !== 'function') throw new Error(file + ' does not export ' + name);
const result = await mod[name](JSON.parse(event), { getRemainingTimeInMillis: () => Number(remainingMs) });
process.stdout.write('\\n${RESULT}' + JSON.stringify(result) + '\\n');
process.exit(0);
`;

/**
 * Imports the streaming bundle under an emulation of the Node.js runtime's streaming globals
 * (awslambda.streamifyResponse, awslambda.HttpResponseStream.from writing the prelude before the
 * first body byte), invokes its `handler` with a response stream and prints the bytes written
 * (base64) and the process's resident memory.
 */
const STREAM_INVOKER = `
import { pathToFileURL } from 'node:url';
import { Writable } from 'node:stream';
const [file, name, event] = process.argv.slice(1);
globalThis.awslambda = {
  streamifyResponse: (fn) => Object.assign((e, s, c) => fn(e, s, c), { streamified: true }),
  HttpResponseStream: {
    from(stream, metadata) {
      const write = stream.write.bind(stream);
      let first = true;
      stream.write = (chunk, ...rest) => {
        if (first) { first = false; write(JSON.stringify(metadata)); write(new Uint8Array(8)); }
        return write(chunk, ...rest);
      };
      return stream;
    },
  },
};
const mod = await import(pathToFileURL(file).href);
if (!mod[name]?.streamified) throw new Error(file + ' does not export a streamified ' + name);
const chunks = [];
const out = new Writable({ write(c, _e, cb) { chunks.push(Buffer.from(c)); cb(); } });
await mod[name](JSON.parse(event), out, { getRemainingTimeInMillis: () => 900000 });
process.stdout.write('\\n${RESULT}' + JSON.stringify({ bytes: Buffer.concat(chunks).toString('base64'), rssMb: process.memoryUsage().rss / 1048576 }) + '\\n');
process.exit(0);
`;

await describeWith(['aws'], 'bundled Lambda handlers from the synth output, on the local AWS endpoint', () => {
  let s: Synthesized;
  const table = `cdk-bundle-${randomUUID().slice(0, 8)}`;
  const dynamo = new DynamoDBClient(awsClientConfig());
  let lambdaEnv: Record<string, string> = {};

  /** Invokes the function's handler (as the template names it) from its synthesized bundle. */
  async function invoke<T>(construct: 'ApiHandler' | 'LeaderTick' | 'GossipReceiver', event: unknown, remainingMs = 30_000): Promise<T> {
    const resources = s.template('us-east-1').toJSON().Resources as Record<string, { Type: string; Properties: { Code: { S3Key: string }; Handler: string } }>;
    const [, fn] = Object.entries(resources).find(([id, r]) => r.Type === 'AWS::Lambda::Function' && id.startsWith(construct))!;
    const [file, exported] = fn.Properties.Handler.split('.') as [string, string];
    const bundle = join(s.assetDir(fn.Properties.Code.S3Key), `${file}.mjs`);
    const { stdout } = await run(process.execPath, ['--input-type=module', '--enable-source-maps', '-e', INVOKER, bundle, exported, JSON.stringify(event), String(remainingMs)], {
      env: { ...process.env, ...lambdaEnv },
      maxBuffer: 16 * 1024 * 1024,
    });
    const at = stdout.lastIndexOf(RESULT);
    expect(at, `${construct} printed no result:\n${stdout}`).toBeGreaterThanOrEqual(0);
    return JSON.parse(stdout.slice(at + RESULT.length)) as T;
  }

  beforeAll(async () => {
    s = synth({
      principals: [{ name: 'marathon', kind: 'framework', roles: ['web'], secret_hash: FRAMEWORK_HASH }],
      regions: [{ name: 'us-east-1' }],
    });
    await dynamo.send(new CreateTableCommand(createTableInput(table)));
    // What the stack sets (STRATUS_TABLE, STRATUS_REGION), the local endpoint, and the
    // credentials inline (the master's STRATUS_CREDENTIALS; moto stands in for no Secrets Manager here).
    lambdaEnv = {
      STRATUS_TABLE: table,
      STRATUS_REGION: 'us-east-1',
      AWS_REGION: 'us-east-1',
      AWS_ENDPOINT_URL: awsClientConfig().endpoint ?? '',
      STRATUS_CREDENTIALS: JSON.stringify({ principals: [{ name: 'marathon', kind: 'framework', roles: ['web'], secret_hash: FRAMEWORK_HASH }] }),
    };
  });

  afterAll(async () => {
    await dynamo.send(new DeleteTableCommand({ TableName: table })).catch(() => undefined);
    dynamo.destroy();
    s?.cleanup();
  });

  it('the API handler answers a SUBSCRIBE (200, SUBSCRIBED, Mesos-Stream-Id) and serves its events by long-poll', async () => {
    const authorization = `Basic ${Buffer.from(`marathon:${FRAMEWORK_SECRET}`).toString('base64')}`;
    const body = JSON.stringify({ type: 'SUBSCRIBE', subscribe: { framework_info: frameworkInfo('cdk-bundle', { roles: ['web'] }) } });
    const subscribe: ApiGatewayV2Event = {
      version: '2.0',
      rawPath: '/api/v1/scheduler',
      rawQueryString: '',
      headers: { 'content-type': 'application/json', accept: 'application/json', authorization },
      body: Buffer.from(body).toString('base64'),
      isBase64Encoded: true,
      requestContext: { http: { method: 'POST', path: '/api/v1/scheduler' } },
    };
    const res = await invoke<ApiGatewayV2Result>('ApiHandler', subscribe);
    expect(res.statusCode, res.body).toBe(200);
    const streamId = res.headers['Mesos-Stream-Id'];
    expect(streamId).toMatch(/\S/);
    const answer = JSON.parse(res.body) as { events: { type: string; subscribed?: { framework_id: { value: string } } }[]; cursor: number; framework_id: { value: string } };
    expect(answer.events[0]?.type).toBe('SUBSCRIBED');
    const frameworkId = answer.events[0]!.subscribed!.framework_id.value;
    expect(frameworkId).toBe(answer.framework_id.value);

    // A second invocation finds the framework in DynamoDB.
    const poll = await invoke<ApiGatewayV2Result>('ApiHandler', {
      version: '2.0',
      rawPath: '/api/v1/scheduler/events',
      rawQueryString: `framework_id=${encodeURIComponent(frameworkId)}&cursor=${answer.cursor}&wait_seconds=0`,
      headers: { 'mesos-stream-id': streamId!, authorization },
      requestContext: { http: { method: 'GET', path: '/api/v1/scheduler/events' } },
    });
    expect(poll.statusCode, poll.body).toBe(200);
  });

  it('the API handler bundle carries the dashboard: / and its hashed assets, open; its data needs the operator', async () => {
    const get = (path: string, headers: Record<string, string> = {}): Promise<ApiGatewayV2Result> =>
      invoke<ApiGatewayV2Result>('ApiHandler', { version: '2.0', rawPath: path, rawQueryString: '', headers, requestContext: { http: { method: 'GET', path } } });
    const index = await get('/');
    expect(index.statusCode, index.body).toBe(200);
    expect(index.headers['Content-Type']).toBe('text/html; charset=utf-8');
    const html = Buffer.from(index.body, index.isBase64Encoded ? 'base64' : 'utf8').toString('utf8');
    const script = /src="(\/dashboard\/app-[A-Z0-9]{8}\.js)"/.exec(html)?.[1];
    const style = /href="(\/dashboard\/app-[A-Z0-9]{8}\.css)"/.exec(html)?.[1];
    expect(script && style, html).toBeTruthy();
    const js = await get(script!);
    expect(js.statusCode).toBe(200);
    expect(js.headers['Content-Type']).toBe('text/javascript; charset=utf-8');
    expect(js.headers['Cache-Control']).toContain('immutable');
    expect((await get(style!)).headers['Content-Type']).toBe('text/css; charset=utf-8');
    expect((await get('/', { 'if-none-match': index.headers.ETag! })).statusCode).toBe(304);
    expect((await get('/dashboard/..%2Findex.mjs')).statusCode).toBe(404);
    expect((await get('/master/state')).statusCode).toBe(401);
  });

  it('the scheduler stream bundle is streamified and answers SUBSCRIBE with the metadata prelude and RecordIO, ending at its maximum, well inside 128 MB', async () => {
    const resources = s.template('us-east-1').toJSON().Resources as Record<string, { Type: string; Properties: { Code: { S3Key: string }; Handler: string; MemorySize: number } }>;
    const [, fn] = Object.entries(resources).find(([id, r]) => r.Type === 'AWS::Lambda::Function' && id.startsWith('SchedulerStream'))!;
    const [file, exported] = fn.Properties.Handler.split('.') as [string, string];
    const bundle = join(s.assetDir(fn.Properties.Code.S3Key), `${file}.mjs`);
    const authorization = `Basic ${Buffer.from(`marathon:${FRAMEWORK_SECRET}`).toString('base64')}`;
    const event = {
      httpMethod: 'POST',
      path: '/api/v1/scheduler',
      headers: { 'Content-Type': 'application/json', Accept: 'application/json', Authorization: authorization },
      multiValueHeaders: { 'Content-Type': ['application/json'], Accept: ['application/json'], Authorization: [authorization] },
      queryStringParameters: null,
      body: JSON.stringify({ type: 'SUBSCRIBE', subscribe: { framework_info: frameworkInfo('cdk-stream', { roles: ['web'] }) } }),
      isBase64Encoded: false,
      requestContext: { stage: 'mesos', httpMethod: 'POST', path: '/mesos/api/v1/scheduler' },
    };
    const { stdout } = await run(process.execPath, ['--input-type=module', '-e', STREAM_INVOKER, bundle, exported, JSON.stringify(event)], {
      env: { ...process.env, ...lambdaEnv, STRATUS_STREAM_MAX_SECONDS: '1' },
      maxBuffer: 16 * 1024 * 1024,
    });
    const at = stdout.lastIndexOf(RESULT);
    expect(at, stdout).toBeGreaterThanOrEqual(0);
    const { bytes, rssMb } = JSON.parse(stdout.slice(at + RESULT.length)) as { bytes: string; rssMb: number };
    const raw = Buffer.from(bytes, 'base64');
    const end = raw.indexOf(Buffer.alloc(8));
    const metadata = JSON.parse(raw.subarray(0, end).toString('utf8')) as { statusCode: number; headers: Record<string, string> };
    expect(metadata.statusCode).toBe(200);
    expect(metadata.headers['Mesos-Stream-Id']).toMatch(/\S/);
    const body = raw.subarray(end + 8).toString('utf8');
    expect(body).toMatch(/^\d+\n\{"type":"SUBSCRIBED"/);
    expect(fn.Properties.MemorySize).toBe(128);
    expect(rssMb, 'resident memory of the bundle after a stream').toBeLessThan(fn.Properties.MemorySize * 0.9);
  });

  it('the tick bundle takes the lease on that table and runs allocation rounds', async () => {
    // 8 s left: the tick leads for about 3 s (it keeps 5 s to hand the lease back).
    const result = await invoke<{ rounds: number; leader: boolean }>('LeaderTick', { source: 'aws.events', 'detail-type': 'Scheduled Event' }, 8_000);
    expect(result.leader).toBe(true);
    expect(result.rounds).toBeGreaterThanOrEqual(1);
  });

  it('the gossip receiver bundle drops a malformed digest without asking for redelivery', async () => {
    const result = await invoke<{ batchItemFailures: unknown[] }>('GossipReceiver', { Records: [{ messageId: 'm-1', body: 'not a digest', eventSource: 'aws:sqs' }] });
    expect(result).toEqual({ batchItemFailures: [] });
  });
});
