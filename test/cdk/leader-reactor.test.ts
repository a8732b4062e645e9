import { App, Duration, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { beforeAll, expect, it } from 'vitest';
import { LeaderReactorFunction, REACTOR_STREAM_FILTERS, TIMER_QUEUE_ENV } from '../../cdk/lib/leader-reactor.js';
import { RegionTable } from '../../cdk/lib/region-table.js';
import { changesFromStreamRecords } from '../../src/state/dynamodb-change-feed.js';
import { wakesLeader } from '../../src/master-lambda/leader-reactor.js';
import { keys } from '../../src/state/keys.js';

// The event-driven leader's resources: the table's stream (new images) and a timer queue
// invoke one function with reserved concurrency 1; no schedule. Lambda's event filters drop
// only records the reactor would ignore.

let t: Template;
beforeAll(() => {
  const stack = new Stack(new App(), 'ReactorTest', { env: { account: '123456789012', region: 'us-east-1' } });
  const table = new RegionTable(stack, 'State', { deletionProtection: false });
  new LeaderReactorFunction(stack, 'Leader', { table: table.table, timeout: Duration.seconds(60), environment: { STRATUS_TABLE: 'x' } });
  t = Template.fromStack(stack);
}, 120_000);

it('turns the table stream on with new images, and invokes one function from it and from its timer queue, without a schedule', () => {
  t.hasResourceProperties('AWS::DynamoDB::Table', { StreamSpecification: { StreamViewType: 'NEW_IMAGE' } });
  t.resourceCountIs('AWS::Events::Rule', 0);
  t.resourceCountIs('AWS::Lambda::Function', 1);
  t.hasResourceProperties('AWS::Lambda::Function', {
    ReservedConcurrentExecutions: 1,
    Environment: { Variables: Match.objectLike({ [TIMER_QUEUE_ENV]: Match.anyValue(), STRATUS_TABLE: 'x' }) },
  });
  t.resourceCountIs('AWS::Lambda::EventSourceMapping', 2);
  t.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
    StartingPosition: 'LATEST',
    MaximumBatchingWindowInSeconds: 0,
    FilterCriteria: { Filters: REACTOR_STREAM_FILTERS.map((p) => ({ Pattern: JSON.stringify(p) })) },
  });
  t.hasResourceProperties('AWS::Lambda::EventSourceMapping', { EventSourceArn: Match.objectLike({ 'Fn::GetAtt': [Match.stringLikeRegexp('^LeaderTimer'), 'Arn'] }) });
  t.resourceCountIs('AWS::SQS::Queue', 1);
});

it('lets through every record kind the reactor reacts to (the filters only save invocations)', () => {
  // A small evaluator of the patterns' subset used: exact strings and prefixes on sk, eventName lists.
  const matches = (pattern: Record<string, unknown>, r: { eventName: string; sk: string }): boolean => {
    const names = pattern.eventName as string[] | undefined;
    if (names && !names.includes(r.eventName)) return false;
    const rules = (((pattern.dynamodb as { Keys: { sk: { S: unknown[] } } }).Keys.sk.S) ?? []) as (string | { prefix: string })[];
    return rules.some((rule) => (typeof rule === 'string' ? r.sk === rule : r.sk.startsWith(rule.prefix)));
  };
  const cases = [
    [keys.agent('a'), 'MODIFY'], [keys.framework('f'), 'INSERT'], [keys.role('r'), 'MODIFY'], [keys.offer('o'), 'REMOVE'], [keys.filter('f', 'a'), 'REMOVE'],
    [keys.task('f', 't'), 'REMOVE'], [keys.task('f', 't'), 'MODIFY'], [keys.offer('o'), 'INSERT'], [keys.liveness('agent', 'a'), 'MODIFY'], [keys.event('f', 2), 'INSERT'],
    [keys.lease('master'), 'MODIFY'], [keys.filter('f', 'a'), 'INSERT'],
  ] as const;
  for (const [key, eventName] of cases) {
    const image = { pk: { S: key.pk }, sk: { S: key.sk }, v: { N: '2' }, d: { S: JSON.stringify({ state: 'FINISHED' }) } };
    const { changes } = changesFromStreamRecords([{ eventName, dynamodb: { Keys: { pk: image.pk, sk: image.sk }, SequenceNumber: '1', ...(eventName === 'REMOVE' ? {} : { NewImage: image }) } }]);
    const passes = REACTOR_STREAM_FILTERS.some((p) => matches(p, { eventName, sk: key.sk }));
    // Whatever would wake the reactor passes the filters.
    if (wakesLeader(changes[0]!)) expect(passes, `${eventName} ${key.pk} ${key.sk}`).toBe(true);
  }
  // Heartbeats, events, the lease and new offers never invoke it.
  for (const [key, eventName] of cases.slice(7)) expect(REACTOR_STREAM_FILTERS.some((p) => matches(p, { eventName, sk: key.sk })), `${eventName} ${key.sk}`).toBe(false);
});
