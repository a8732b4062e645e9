import { describeWith } from '../../support/components.js';
import { freshDynamoStore } from '../../support/dynamodb.js';
import { registryContract } from './registry.contract.js';

await describeWith(['aws'], 'DynamoDB on the local AWS endpoint', () => {
  registryContract('DynamoDB', () => freshDynamoStore('registry'));
});
