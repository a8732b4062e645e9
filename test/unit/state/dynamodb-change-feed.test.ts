import { expect, it } from 'vitest';
import { itemKind } from '../../../src/state/change-feed.js';
import { changesFromStreamRecords } from '../../../src/state/dynamodb-change-feed.js';
import { keys } from '../../../src/state/keys.js';

// Lambda hands the leader reactor DynamoDB stream records as JSON: they become the change feed's
// records, with the item decoded as the store reads it; what is not a region item is skipped.

const taskImage = {
  pk: { S: 'FRAMEWORK#f1' },
  sk: { S: 'TASK#t1' },
  v: { N: '3' },
  d: { S: JSON.stringify({ state: 'FINISHED', taskId: 't1' }) },
  gsi1pk: { S: 'TASKS' },
  gsi1sk: { S: 'f1#t1' },
  expiresAt: { N: '1900000000' },
};

it('turns INSERT, MODIFY and REMOVE records into puts with their image and deletes, TTL removals marked expired', () => {
  const { changes, skipped } = changesFromStreamRecords([
    { eventName: 'MODIFY', dynamodb: { Keys: { pk: taskImage.pk, sk: taskImage.sk }, NewImage: taskImage, SequenceNumber: '100' } },
    { eventName: 'REMOVE', dynamodb: { Keys: { pk: { S: 'OFFER#o1' }, sk: { S: 'OFFER' } }, SequenceNumber: '101' } },
    {
      eventName: 'REMOVE',
      dynamodb: { Keys: { pk: { S: 'FRAMEWORK#f1' }, sk: { S: 'FILTER#a1' } }, SequenceNumber: '102' },
      userIdentity: { type: 'Service', principalId: 'dynamodb.amazonaws.com' },
    },
  ]);
  expect(skipped).toBe(0);
  expect(changes).toEqual([
    {
      kind: 'put',
      key: keys.task('f1', 't1'),
      sequence: '100',
      item: { ...keys.task('f1', 't1'), version: 3, data: { state: 'FINISHED', taskId: 't1' }, gsi1pk: 'TASKS', gsi1sk: 'f1#t1', expiresAt: 1900000000 },
    },
    { kind: 'delete', key: keys.offer('o1'), sequence: '101' },
    { kind: 'delete', key: keys.filter('f1', 'a1'), sequence: '102', expired: true },
  ]);
  expect(changes.map((c) => itemKind(c.key))).toEqual(['task', 'offer', 'filter']);
});

it('skips records that are not region items (malformed, another key schema, no version), without throwing', () => {
  const { changes, skipped } = changesFromStreamRecords([
    null,
    { eventName: 'INSERT' },
    { eventName: 'INSERT', dynamodb: { Keys: { id: { S: 'x' } }, SequenceNumber: '1' } },
    { eventName: 'INSERT', dynamodb: { Keys: { pk: { S: 'ROLE#r' }, sk: { S: 'ROLE' } }, NewImage: { pk: { S: 'ROLE#r' }, sk: { S: 'ROLE' } }, SequenceNumber: '2' } },
    { eventName: 'INSERT', dynamodb: { Keys: { pk: { S: 'ROLE#r' }, sk: { S: 'ROLE' } }, NewImage: { pk: { S: 'ROLE#r' }, sk: { S: 'ROLE' }, v: { N: '1' }, d: { S: '{}' } }, SequenceNumber: '3' } },
  ]);
  expect(skipped).toBe(4);
  expect(changes.map((c) => [c.kind, itemKind(c.key), c.item?.version])).toEqual([['put', 'role', 1]]);
});

it('names every key of the single-table layout', () => {
  expect(
    [
      keys.agent('a'), keys.agentWork('a'), keys.agentMessage('a', 'm'), keys.framework('f'), keys.eventLog('f'), keys.event('f', 1),
      keys.task('f', 't'), keys.filter('f', 'a'), keys.offer('o'), keys.role('r'), keys.liveness('agent', 'a'), keys.lease('master'), keys.document('c', 'i'),
      { pk: 'ELSE#x', sk: 'Y' },
    ].map(itemKind),
  ).toEqual(['agent', 'agent-work', 'agent-message', 'framework', 'event-log', 'event', 'task', 'filter', 'offer', 'role', 'liveness', 'lease', 'document', 'other']);
});
