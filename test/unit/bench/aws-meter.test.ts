import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoDBClient, GetItemCommand, QueryCommand, TransactWriteItemsCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { AwsMeter, withMeterTag } from '../../../bench/aws-meter.js';
import { UnitLedger } from '../../../bench/cloud-units.js';

// The meter proxy books what a real SDK client sends, by the action that sent it, from item
// sizes: an upstream stand-in answers as DynamoDB would (moto is not needed for the arithmetic).

const big = 'x'.repeat(5000);
let upstream: http.Server;
let meter: AwsMeter;
const ledger = new UnitLedger();
let client: DynamoDBClient;

beforeAll(async () => {
  upstream = http.createServer((req, res) => {
    const target = String(req.headers['x-amz-target']);
    req.resume();
    req.on('end', () => {
      res.setHeader('content-type', 'application/x-amz-json-1.0');
      if (target.endsWith('.GetItem')) res.end(JSON.stringify({ Item: { pk: { S: 'A' }, sk: { S: 'B' }, d: { S: big } } }));
      else if (target.endsWith('.Query')) res.end(JSON.stringify({ Items: [{ pk: { S: 'A' }, sk: { S: '1' }, d: { S: big } }, { pk: { S: 'A' }, sk: { S: '2' }, d: { S: big } }], Count: 2 }));
      else res.end('{}');
    });
  });
  await new Promise<void>((ok) => upstream.listen(0, '127.0.0.1', ok));
  meter = await new AwsMeter(ledger, `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`).start();
  client = new DynamoDBClient({ endpoint: meter.url, region: 'us-east-1', credentials: { accessKeyId: 'a', secretAccessKey: 'b' } });
});

afterAll(async () => {
  client.destroy();
  await meter.stop();
  await new Promise((ok) => upstream.close(ok));
});

describe('AwsMeter', () => {
  it('books reads by size and consistency to the tag of the caller', async () => {
    await withMeterTag('get', () => client.send(new GetItemCommand({ TableName: 't', Key: { pk: { S: 'A' }, sk: { S: 'B' } }, ConsistentRead: true })));
    // Two 5 KB items summed (10 KB) eventually consistent: 3 units of 4 KB, halved.
    await withMeterTag('query', () => client.send(new QueryCommand({ TableName: 't', IndexName: 'gsi1', KeyConditionExpression: 'pk = :p', ExpressionAttributeValues: { ':p': { S: 'A' } } })));
    expect(ledger.total((t) => t === 'get')).toMatchObject({ dynamoRru: 2, dynamoRequests: 1 });
    expect(ledger.total((t) => t === 'query')).toMatchObject({ dynamoRru: 1.5, dynamoRequests: 1 });
    expect(meter.stats.untagged).toBe(0);
  });

  it('bills an update on the larger of the image it last saw and the one it writes', async () => {
    // The GetItem above saw A/B at ~5 KB; a small update still rewrites the whole item.
    await withMeterTag('update', () =>
      client.send(new UpdateItemCommand({ TableName: 't', Key: { pk: { S: 'A' }, sk: { S: 'B' } }, UpdateExpression: 'SET #v = if_not_exists(#v, :z) + :one', ExpressionAttributeNames: { '#v': 'v' }, ExpressionAttributeValues: { ':z': { N: '0' }, ':one': { N: '1' } } })),
    );
    expect(ledger.total((t) => t === 'update').dynamoWru).toBe(5);
    // A new small item: one unit.
    await withMeterTag('small', () => client.send(new UpdateItemCommand({ TableName: 't', Key: { pk: { S: 'N' }, sk: { S: 'N' } }, UpdateExpression: 'SET #d = :d REMOVE #a', ExpressionAttributeNames: { '#d': 'd', '#a': 'a' }, ExpressionAttributeValues: { ':d': { S: 'hi' } } })));
    expect(ledger.total((t) => t === 'small').dynamoWru).toBe(1);
  });

  it('counts every item of a transaction twice, condition checks included', async () => {
    await withMeterTag('tx', () =>
      client.send(
        new TransactWriteItemsCommand({
          TransactItems: [
            { Update: { TableName: 't', Key: { pk: { S: 'T' }, sk: { S: '1' } }, UpdateExpression: 'SET #d = :d', ExpressionAttributeNames: { '#d': 'd' }, ExpressionAttributeValues: { ':d': { S: 'x'.repeat(1500) } } } },
            { ConditionCheck: { TableName: 't', Key: { pk: { S: 'L' }, sk: { S: 'L' } }, ConditionExpression: 'attribute_exists(pk)' } },
          ],
        }),
      ),
    );
    // 1.5 KB -> 2 units, doubled; the check: 1 unit, doubled.
    expect(ledger.total((t) => t === 'tx')).toMatchObject({ dynamoWru: 6, dynamoRequests: 1 });
  });
});
