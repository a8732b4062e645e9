import { RemovalPolicy } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { TABLE_DEFINITION, type KeyAttribute, type TableDefinition } from '../../src/state/table-definition.js';

// The region's single table, derived from the Registry's one definition (keys, GSIs, TTL):
// on-demand, point-in-time recovery, deletion protection as configured, its stream on.

/**
 * What the master's DynamoDB adapter does: item reads, queries (GSIs), conditional writes and
 * transactions (which need the per-item actions). No Scan (no hot path scans), no table
 * management (the stack owns the table); the stream is read only by the leader reactor's event
 * source mapping, which grants itself the stream actions.
 */
export const TABLE_DATA_ACTIONS = [
  'dynamodb:GetItem',
  'dynamodb:BatchGetItem',
  'dynamodb:Query',
  'dynamodb:PutItem',
  'dynamodb:UpdateItem',
  'dynamodb:DeleteItem',
  'dynamodb:BatchWriteItem',
  'dynamodb:ConditionCheckItem',
] as const;

export interface RegionTableProps {
  readonly deletionProtection: boolean;
  readonly definition?: TableDefinition;
}

function attribute(a: KeyAttribute): dynamodb.Attribute {
  return { name: a.name, type: a.type === 'S' ? dynamodb.AttributeType.STRING : dynamodb.AttributeType.NUMBER };
}

export class RegionTable extends Construct {
  readonly table: dynamodb.Table;

  constructor(scope: Construct, id: string, props: RegionTableProps) {
    super(scope, id);
    const def = props.definition ?? TABLE_DEFINITION;
    this.table = new dynamodb.Table(this, 'Table', {
      partitionKey: attribute(def.partitionKey),
      sortKey: attribute(def.sortKey),
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      timeToLiveAttribute: def.ttlAttribute,
      // The change feed that wakes the leader (src/state/change-feed.ts: why new images).
      stream: dynamodb.StreamViewType[def.streamViewType],
      deletionProtection: props.deletionProtection,
      // A protected table also survives `cdk destroy`; an unprotected one goes with its stack.
      removalPolicy: props.deletionProtection ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
    });
    for (const index of def.globalSecondaryIndexes) {
      this.table.addGlobalSecondaryIndex({
        indexName: index.indexName,
        partitionKey: attribute(index.partitionKey),
        sortKey: attribute(index.sortKey),
        projectionType: dynamodb.ProjectionType.ALL,
      });
    }
  }

  /** Lets a function read and write items of the table and query its indexes. */
  grantData(grantee: iam.IGrantable): void {
    this.table.grant(grantee, ...TABLE_DATA_ACTIONS);
  }
}
