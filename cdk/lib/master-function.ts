import { Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { localBundle } from './local-bundle.js';

// One Lambda function of the master: Node.js 22 on arm64, the entry bundled locally by
// esbuild (index.mjs, with a source map), its own role (writing to its own log group only,
// no managed policy) and a log group kept a month.

export const LAMBDA_RUNTIME = lambda.Runtime.NODEJS_22_X;
export const LAMBDA_HANDLER = 'index.handler';

export interface MasterFunctionProps {
  readonly entry: string;
  readonly description: string;
  readonly timeout: Duration;
  readonly memorySize: number;
  readonly environment: Record<string, string>;
  readonly reservedConcurrentExecutions?: number;
  /** A role name fixed in advance (peers name it in their queue policies). */
  readonly roleName?: string;
  /** Files the bundle carries next to index.mjs (the API handler's dashboard assets). */
  readonly alongside?: (outputDir: string) => void;
}

export class MasterFunction extends Construct {
  readonly fn: lambda.Function;
  readonly role: iam.Role;
  readonly logGroup: logs.LogGroup;

  constructor(scope: Construct, id: string, props: MasterFunctionProps) {
    super(scope, id);
    this.logGroup = new logs.LogGroup(this, 'Logs', { retention: logs.RetentionDays.ONE_MONTH, removalPolicy: RemovalPolicy.DESTROY });
    this.role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: `${props.description} (${Stack.of(this).stackName})`,
      ...(props.roleName ? { roleName: props.roleName } : {}),
    });
    // Instead of AWSLambdaBasicExecutionRole (CreateLogGroup/PutLogEvents on every log group).
    this.role.addToPrincipalPolicy(
      new iam.PolicyStatement({ actions: ['logs:CreateLogStream', 'logs:PutLogEvents'], resources: [this.logGroup.logGroupArn] }),
    );
    const { path, ...assetOptions } = localBundle({ entry: props.entry, outFile: 'index.mjs', sourceMap: true, ...(props.alongside ? { alongside: props.alongside } : {}) });
    this.fn = new lambda.Function(this, 'Function', {
      code: lambda.Code.fromAsset(path, assetOptions),
      handler: LAMBDA_HANDLER,
      description: props.description,
      runtime: LAMBDA_RUNTIME,
      architecture: lambda.Architecture.ARM_64,
      timeout: props.timeout,
      memorySize: props.memorySize,
      role: this.role,
      logGroup: this.logGroup,
      environment: { NODE_OPTIONS: '--enable-source-maps', ...props.environment },
      ...(props.reservedConcurrentExecutions !== undefined ? { reservedConcurrentExecutions: props.reservedConcurrentExecutions } : {}),
    });
  }
}
