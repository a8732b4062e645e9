import { describeWith } from '../../support/components.js';
import { freshDynamoStore } from '../../support/dynamodb.js';
import { masterE2E } from './master.suite.js';

await describeWith(['aws'], 'master on DynamoDB (local AWS endpoint)', () => {
  masterE2E('DynamoDB on moto', () => freshDynamoStore('master'), {
    drfAgents: 10, // 2 go to the capped role; 8 split 2:6 exactly
    timing: { pollIntervalMs: 500, allocationIntervalMs: 500, leaseDurationMs: 10_000, agentHeartbeatMs: 3000 },
  });
});
