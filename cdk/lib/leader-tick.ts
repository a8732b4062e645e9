import { Duration } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import { Construct } from 'constructs';
import { MasterFunction } from './master-function.js';
import { TICK_ENTRY } from './paths.js';

// The leader tick: contends for the lease and, while leader, runs allocation rounds,
// timeouts, the autoscaler and gossip sends for most of its invocation. It starts on an
// EventBridge schedule and on an allocation trigger (the API handler invokes it
// asynchronously). Reserved concurrency 1 keeps one runner: an invocation that arrives while
// one runs is throttled and Lambda retries it within maxEventAge, so a trigger during a
// running tick (which allocates anyway) is absorbed and the schedule never stacks up.

export interface LeaderTickProps {
  readonly schedule: string;
  readonly timeout: Duration;
  readonly roleName: string;
  readonly environment: Record<string, string>;
  readonly entry?: string;
}

export class LeaderTick extends Construct {
  readonly fn: MasterFunction;
  readonly rule: events.Rule;

  constructor(scope: Construct, id: string, props: LeaderTickProps) {
    super(scope, id);
    this.fn = new MasterFunction(this, 'Tick', {
      entry: props.entry ?? TICK_ENTRY,
      description: 'Stratus leader tick: allocation, timeouts, autoscaler, gossip send',
      timeout: props.timeout,
      memorySize: 1024,
      environment: props.environment,
      reservedConcurrentExecutions: 1,
      roleName: props.roleName,
    });
    this.fn.fn.configureAsyncInvoke({ retryAttempts: 0, maxEventAge: Duration.minutes(2) });
    this.rule = new events.Rule(this, 'Schedule', {
      description: 'Runs the Stratus leader tick',
      schedule: events.Schedule.expression(props.schedule),
      targets: [new targets.LambdaFunction(this.fn.fn, { retryAttempts: 0, maxEventAge: Duration.minutes(2) })],
    });
  }
}
