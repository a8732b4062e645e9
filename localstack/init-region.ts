import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SQSClient } from '@aws-sdk/client-sqs';
import { parseArgs } from 'node:util';
import { ensureQueues } from '../src/federation/gossip/sqs-queues.js';
import { awsClientConfig, LOCAL_ENDPOINT } from '../src/state/aws-config.js';
import { DynamoDbItemStore } from '../src/state/dynamodb-item-store.js';

// Creates what a region's stack creates in AWS, on a local endpoint (LocalStack or moto): the
// region table from the single table definition (src/state/table-definition.ts, with its TTL
// attribute) and the region's gossip inbox with its dead-letter queue (federation's names).
// Idempotent. Prints the environment a master of each region runs with.
//
//   npx tsx localstack/init-region.ts [--regions us-east-1,eu-west-1] [--table-prefix stratus]
//                                     [--queue-prefix stratus-gossip] [--endpoint URL]

const usage = `usage: npx tsx localstack/init-region.ts [--regions us-east-1,...] [--table-prefix stratus] [--queue-prefix stratus-gossip] [--endpoint URL]

Creates each region's table (<table-prefix>-<region>) and gossip inbox and dead-letter queue
(<queue-prefix>-<region>, <queue-prefix>-<region>-dlq) on the local AWS endpoint:
--endpoint, else $AWS_ENDPOINT_URL, else ${LOCAL_ENDPOINT}. It never talks to real AWS.`;

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      regions: { type: 'string', default: process.env.STRATUS_REGION ?? process.env.AWS_REGION ?? 'us-east-1' },
      'table-prefix': { type: 'string', default: 'stratus' },
      'queue-prefix': { type: 'string', default: 'stratus-gossip' },
      endpoint: { type: 'string', default: process.env.AWS_ENDPOINT_URL ?? LOCAL_ENDPOINT },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    process.stdout.write(`${usage}\n`);
    return 0;
  }
  const regions = values.regions.split(',').map((r) => r.trim()).filter((r) => r !== '');
  if (regions.length === 0) throw new Error('--regions names no region');
  const endpoint = values.endpoint;
  for (const region of regions) {
    // Each region's resources live in that region of the endpoint, as they do in AWS.
    const env = { ...process.env, AWS_ENDPOINT_URL: endpoint, STRATUS_REGION: region };
    const cfg = awsClientConfig(env);
    const tableName = `${values['table-prefix']}-${region}`;
    const dynamo = new DynamoDBClient(cfg);
    const sqs = new SQSClient(cfg);
    try {
      await new DynamoDbItemStore({ tableName, client: dynamo }).ensureTable();
      const queues = await ensureQueues(sqs, [region], { prefix: values['queue-prefix'] });
      const inbox = queues.get(region)!;
      process.stdout.write(
        [
          `# region ${region} on ${endpoint}`,
          `STRATUS_REGION=${region}`,
          `STRATUS_TABLE=${tableName}`,
          `STRATUS_GOSSIP_INBOX_URL=${inbox.url}`,
          `STRATUS_GOSSIP_DLQ_URL=${inbox.deadLetterUrl}`,
          '',
        ].join('\n'),
      );
    } finally {
      dynamo.destroy();
      sqs.destroy();
    }
  }
  return 0;
}

main().then(
  (code) => process.exit(code),
  (e: unknown) => {
    process.stderr.write(`init-region: ${(e as Error).message}\n`);
    process.exit(1);
  },
);
