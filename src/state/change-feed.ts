import type { Item, ItemKey } from './item-store.js';

// The change feed port: every committed write to the region table, as a stream of changed keys
// with the item as it is after the change (DynamoDB Streams' NEW_IMAGE view). The leader reacts
// to it instead of polling (src/master-lambda/leader-reactor.ts).
//
// New images, not keys only and not old images too: with the new image a reader decides from
// the record alone whether a change matters (a task that became terminal, an offer that went
// away) and saves the strongly consistent read per record that keys only would cost (1 RRU per
// 4 KB on every change, some 10 per task lifecycle); Lambda's stream reads are free either way.
// Old images would double every record (Lambda's 6 MB batch payload holds half as many) and no
// reader needs a diff yet. Adapters: MemoryItemStore (in process) and DynamoDB Streams
// (dynamodb-change-feed.ts), one contract suite (test/contract/state/change-feed.test.ts).

export interface ChangeRecord {
  /** put: created or replaced; delete: removed (by a write, or expired by TTL). */
  readonly kind: 'put' | 'delete';
  readonly key: ItemKey;
  /** The item after a put (absent for a delete). */
  readonly item?: Item;
  /** Deleted by TTL expiry rather than by a write. */
  readonly expired?: boolean;
  /** Orders the changes of one item (DynamoDB: per shard); opaque elsewhere. */
  readonly sequence: string;
}

export type ChangeListener = (batch: readonly ChangeRecord[]) => void;

export interface ChangeSubscription {
  close(): Promise<void>;
}

export interface ChangeFeed {
  /**
   * Delivers changes in batches, each item's changes in commit order. Resolves once the feed is
   * positioned: every change committed after that is delivered (at least once on DynamoDB).
   */
  subscribe(listener: ChangeListener): Promise<ChangeSubscription>;
}

/** What a key is, from the single-table layout (src/state/keys.ts): the reactor filters on it. */
export type ItemKind =
  | 'agent'
  | 'agent-work'
  | 'agent-message'
  | 'framework'
  | 'event-log'
  | 'event'
  | 'task'
  | 'filter'
  | 'offer'
  | 'role'
  | 'liveness'
  | 'lease'
  | 'document'
  | 'other';

export function itemKind(key: ItemKey): ItemKind {
  const head = key.pk.slice(0, key.pk.indexOf('#') + 1);
  switch (head) {
    case 'AGENT#':
      return key.sk === 'AGENT' ? 'agent' : key.sk === 'WORK' ? 'agent-work' : key.sk.startsWith('MSG#') ? 'agent-message' : 'other';
    case 'FRAMEWORK#':
      if (key.sk === 'FRAMEWORK') return 'framework';
      if (key.sk === 'LOG') return 'event-log';
      if (key.sk.startsWith('EVENT#')) return 'event';
      if (key.sk.startsWith('TASK#')) return 'task';
      if (key.sk.startsWith('FILTER#')) return 'filter';
      return 'other';
    case 'OFFER#':
      return 'offer';
    case 'ROLE#':
      return 'role';
    case 'LIVENESS#':
      return 'liveness';
    case 'LEASE#':
      return 'lease';
    case 'DOC#':
      return 'document';
    default:
      return 'other';
  }
}
