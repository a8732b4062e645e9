import { DeleteTableCommand, DescribeTableCommand, DescribeTimeToLiveCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { GetQueueAttributesCommand, SQSClient } from '@aws-sdk/client-sqs';
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { promisify } from 'node:util';
import { afterAll, expect, it } from 'vitest';
import { REPO_ROOT } from '../../cdk/lib/paths.js';
import { deleteQueues } from '../../src/federation/gossip/sqs-queues.js';
import { awsClientConfig } from '../../src/state/aws-config.js';
import { createTableInput, TABLE_DEFINITION } from '../../src/state/table-definition.js';
import { describeWith } from '../support/components.js';

// localstack/init-region.ts against the local AWS endpoint: each region's table (from the
// single definition) and its gossip inbox with a dead-letter queue, idempotently.

const run = promisify(execFile);

await describeWith(['aws'], 'localstack/init-region.ts on the local AWS endpoint', () => {
  const prefix = `cdkinit-${randomUUID().slice(0, 6)}`;
  const regions = ['us-east-1', 'eu-west-1'];
  const clients = regions.map((region) => ({
    region,
    dynamo: new DynamoDBClient({ ...awsClientConfig(), region }),
    sqs: new SQSClient({ ...awsClientConfig(), region }),
  }));

  afterAll(async () => {
    for (const c of clients) {
      await c.dynamo.send(new DeleteTableCommand({ TableName: `${prefix}-${c.region}` })).catch(() => undefined);
      await deleteQueues(c.sqs, [c.region], prefix).catch(() => undefined);
      c.dynamo.destroy();
      c.sqs.destroy();
    }
  });

  async function init(): Promise<string> {
    // `npx tsx localstack/init-region.ts ...`, minus npx's start-up.
    const { stdout } = await run(process.execPath, ['--import', 'tsx', 'localstack/init-region.ts', '--regions', regions.join(','), '--table-prefix', prefix, '--queue-prefix', prefix], {
      cwd: REPO_ROOT,
      env: process.env,
    });
    return stdout;
  }

  it('creates each region’s table and queues, and a second run changes nothing', { timeout: 60_000 }, async () => {
    const first = await init();
    const second = await init();
    expect(second).toBe(first);
    const expected = createTableInput('x');
    for (const c of clients) {
      const table = `${prefix}-${c.region}`;
      expect(first).toContain(`STRATUS_TABLE=${table}\n`);
      const { Table } = await c.dynamo.send(new DescribeTableCommand({ TableName: table }));
      expect(Table?.KeySchema).toEqual(expected.KeySchema);
      expect(Table?.GlobalSecondaryIndexes?.map((g) => [g.IndexName, g.KeySchema])).toEqual(expected.GlobalSecondaryIndexes?.map((g) => [g.IndexName, g.KeySchema]));
      expect(Table?.BillingModeSummary?.BillingMode).toBe('PAY_PER_REQUEST');
      const ttl = await c.dynamo.send(new DescribeTimeToLiveCommand({ TableName: table }));
      expect(ttl.TimeToLiveDescription).toMatchObject({ AttributeName: TABLE_DEFINITION.ttlAttribute, TimeToLiveStatus: 'ENABLED' });

      const inboxUrl = /STRATUS_GOSSIP_INBOX_URL=(\S+)/.exec(first.slice(first.indexOf(`# region ${c.region}`)))![1]!;
      expect(inboxUrl).toMatch(new RegExp(`/${prefix}-${c.region}$`));
      const attrs = await c.sqs.send(new GetQueueAttributesCommand({ QueueUrl: inboxUrl, AttributeNames: ['RedrivePolicy'] }));
      expect(JSON.parse(attrs.Attributes!.RedrivePolicy!)).toMatchObject({ deadLetterTargetArn: expect.stringMatching(new RegExp(`:${prefix}-${c.region}-dlq$`)), maxReceiveCount: 5 });
    }
  });
});
