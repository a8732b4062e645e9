import type { Agent } from '../core/agent.js';
import { ConflictError, FencedError, ValidationError } from '../core/errors.js';
import type { Framework } from '../core/framework.js';
import { isValidId } from '../core/ids.js';
import type { DeclineFilter, Offer } from '../core/offer.js';
import { assertResources } from '../core/resources.js';
import { isValidRole, type RoleConfig } from '../core/role.js';
import type { Task } from '../core/task.js';
import { isTaskState, isTerminal } from '../core/task-state.js';
import {
  queryAll,
  TransactionConflict,
  TransactionContention,
  MAX_TRANSACTION_OPS,
  type Expect,
  type Item,
  type ItemInput,
  type ItemKey,
  type ItemStore,
  type JsonObject,
  type WriteOp,
} from './item-store.js';
import { collections, keys, pad } from './keys.js';

// The Registry: a region's master state on an ItemStore. It owns the key layout, encodes
// entities, validates every write before sending it, and turns failed conditions into
// ConflictError or FencedError. Adapters below it hold no policy.

/** An entity as read, with the version its next conditional write must expect. */
export type Stored<T> = T & { readonly version: number };

/** One event of a framework's log: the wire-level event body, kept opaque here. */
export interface LoggedEvent {
  readonly seq: number;
  readonly type: string;
  readonly body: JsonObject;
  readonly at: number;
}

export interface EventLogHead {
  readonly seq: number;
  readonly version: number;
}

export interface AgentMessage {
  readonly frameworkId: string;
  readonly executorId: string;
  readonly data: string;
  readonly at: number;
}

export interface Liveness {
  readonly id: string;
  /** Grows at every beat: observers compare counts, not clocks. */
  readonly beats: number;
  readonly session: string;
}

/** An agent's WebSocket connection: who authenticated at connect, and the agent it registered as. */
export interface AgentConnection {
  readonly connectionId: string;
  /** The credential's bound agent ids (AgentCaller.agentIds); absent = any. */
  readonly agentIds?: readonly string[];
  /** Set once the connection registered: it then acts only as this agent. */
  readonly agentId?: string;
  readonly connectedAt: number;
}

/** Connection items outlive API Gateway's 2-hour connection limit a little, then expire (TTL). */
export const AGENT_CONNECTION_TTL_SECONDS = 3 * 3600;

// API Gateway connection ids are base64-like ("L0SM9cOFvHcCIhw="); local ones base64url.
const CONNECTION_ID = /^[A-Za-z0-9+/=_-]{1,128}$/;
function checkConnectionId(id: string): string {
  if (!CONNECTION_ID.test(id)) throw new ValidationError(`connection id is malformed: ${JSON.stringify(id).slice(0, 64)}`, 'connection_id');
  return id;
}

export interface Document<T extends JsonObject = JsonObject> {
  readonly id: string;
  readonly data: T;
  readonly version: number;
}

export const LEASE_NAME = 'master';

/** Retention of framework events and of terminal tasks, in seconds (DynamoDB TTL). */
export interface RetentionOptions {
  readonly eventSeconds: number;
  readonly terminalTaskSeconds: number;
}

export const DEFAULT_RETENTION: RetentionOptions = { eventSeconds: 3600, terminalTaskSeconds: 3600 };

function strip(o: object): JsonObject {
  // Entities are plain JSON-compatible objects; `version` belongs to the item, not the data.
  const out: JsonObject = {};
  for (const [k, v] of Object.entries(o)) if (v !== undefined && k !== 'version') out[k] = v as JsonObject[string];
  return out;
}

function stored<T>(item: Item): Stored<T> {
  return { ...(item.data as unknown as T), version: item.version };
}

function checkId(value: unknown, field: string): string {
  if (!isValidId(value)) throw new ValidationError(`${field} is malformed: ${JSON.stringify(value)?.slice(0, 64)}`, field);
  return value;
}

function validateAgent(a: Agent): void {
  checkId(a.id, 'agent.id');
  if (typeof a.hostname !== 'string' || a.hostname.length === 0 || a.hostname.length > 255) {
    throw new ValidationError('agent.hostname must be 1-255 characters', 'agent.hostname');
  }
  assertResources(a.total, 'agent.total');
  assertResources(a.allocated, 'agent.allocated');
  assertResources(a.offered, 'agent.offered');
}

function validateTask(t: Task): void {
  checkId(t.frameworkId, 'task.framework_id');
  checkId(t.taskId, 'task.task_id');
  checkId(t.agentId, 'task.agent_id');
  assertResources(t.resources, 'task.resources');
  if (!isTaskState(t.state) || t.state === 'UNKNOWN') throw new ValidationError(`task.state ${String(t.state)} cannot be stored`, 'task.state');
}

function validateOffer(o: Offer): void {
  checkId(o.id, 'offer.id');
  checkId(o.frameworkId, 'offer.framework_id');
  checkId(o.agentId, 'offer.agent_id');
  assertResources(o.resources, 'offer.resources');
}

/** Builds one all-or-nothing write. Nothing is sent until `commit`. */
export class RegistryTransaction {
  private readonly ops: WriteOp[] = [];
  private readonly labels: string[] = [];
  private fenceIndex = -1;
  private fenceEpoch = 0;

  constructor(
    private readonly store: ItemStore,
    private readonly retention: RetentionOptions,
    private readonly now: () => number,
  ) {}

  get size(): number {
    return this.ops.length;
  }

  private add(op: WriteOp, label: string): this {
    this.ops.push(op);
    this.labels.push(label);
    return this;
  }

  /** Only commit while `epoch` is the lease's current epoch (the fencing token). */
  fence(epoch: number, leaseName = LEASE_NAME): this {
    if (this.fenceIndex >= 0) throw new Error('transaction is already fenced');
    // A leader whose lease ran out locally has no epoch: fail here, not deep in the store.
    if (!Number.isSafeInteger(epoch) || epoch < 1) throw new TypeError(`fence needs a lease epoch (a positive integer), got ${String(epoch)}`);
    this.fenceIndex = this.ops.length;
    this.fenceEpoch = epoch;
    return this.add({ op: 'check', key: keys.lease(leaseName), expect: 'present', attrsEqual: { epoch } }, `lease epoch ${epoch}`);
  }

  putAgent(agent: Agent, expect: Expect): this {
    validateAgent(agent);
    return this.add(
      { op: 'put', item: { ...keys.agent(agent.id), gsi1pk: collections.agents, gsi1sk: agent.id, data: strip(agent) }, expect },
      `agent ${agent.id}`,
    );
  }

  /**
   * Marks that the agent has new work (a launch, a kill, an acknowledgement): its long-poll
   * reads this one item by key and computes its work only when the version moved.
   */
  touchAgentWork(agentId: string): this {
    return this.add({ op: 'put', item: { ...keys.agentWork(checkId(agentId, 'agent_id')), data: {} }, expect: 'any' }, `work of ${agentId}`);
  }

  /** A framework message for an agent, kept until handed out or `expiresAt` (unix seconds). */
  putAgentMessage(agentId: string, id: string, message: AgentMessage, expiresAt: number): this {
    checkId(agentId, 'agent_id');
    checkId(id, 'id');
    return this.add(
      {
        op: 'put',
        item: { ...keys.agentMessage(agentId, id), gsi2pk: collections.byAgent(agentId), gsi2sk: `MSG#${id}`, expiresAt, data: { ...message } },
        expect: 'absent',
      },
      `message ${id}`,
    );
  }

  deleteAgentMessage(agentId: string, id: string): this {
    return this.add({ op: 'delete', key: keys.agentMessage(agentId, id), expect: 'any' }, `message ${id}`);
  }

  putFramework(fw: Framework, expect: Expect): this {
    checkId(fw.id, 'framework.id');
    return this.add(
      { op: 'put', item: { ...keys.framework(fw.id), gsi1pk: collections.frameworks, gsi1sk: fw.id, data: strip(fw) }, expect },
      `framework ${fw.id}`,
    );
  }

  deleteFramework(id: string, expect: Expect): this {
    return this.add({ op: 'delete', key: keys.framework(checkId(id, 'framework_id')), expect }, `framework ${id}`);
  }

  putOffer(offer: Offer, expect: Expect = 'absent'): this {
    validateOffer(offer);
    return this.add(
      {
        op: 'put',
        item: {
          ...keys.offer(offer.id),
          gsi1pk: collections.offers,
          gsi1sk: `${offer.frameworkId}#${offer.id}`,
          gsi2pk: collections.byAgent(offer.agentId),
          gsi2sk: `OFFER#${offer.id}`,
          data: strip(offer),
        },
        expect,
      },
      `offer ${offer.id}`,
    );
  }

  /** Consumes or rescinds an offer; `present` makes a second consumer fail. */
  deleteOffer(id: string, expect: Expect = 'present'): this {
    return this.add({ op: 'delete', key: keys.offer(checkId(id, 'offer_id')), expect }, `offer ${id}`);
  }

  putTask(task: Task, expect: Expect): this {
    validateTask(task);
    const item: ItemInput = {
      ...keys.task(task.frameworkId, task.taskId),
      gsi1pk: collections.tasks,
      gsi1sk: `${task.frameworkId}#${task.taskId}`,
      gsi2pk: collections.byAgent(task.agentId),
      gsi2sk: `TASK#${task.frameworkId}#${task.taskId}`,
      // A terminal task is kept a while (state queries, late acknowledgements), then expires.
      ...(isTerminal(task.state) ? { expiresAt: Math.floor(this.now() / 1000) + this.retention.terminalTaskSeconds } : {}),
      data: strip(task),
    };
    return this.add({ op: 'put', item, expect }, `task ${task.frameworkId}/${task.taskId}`);
  }

  putRole(role: RoleConfig, expect: Expect): this {
    if (!isValidRole(role.name)) throw new ValidationError(`role name ${JSON.stringify(role.name)} is malformed`, 'role');
    if (!Number.isFinite(role.weight) || role.weight <= 0) throw new ValidationError('weight must be a positive number', 'weight');
    for (const [k, v] of Object.entries(role.quotaLimit ?? {})) {
      if (!['cpus', 'mem', 'disk', 'network'].includes(k)) throw new ValidationError(`quota limit on unknown resource '${k}'`, `limits.${k}`);
      if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) throw new ValidationError(`limits.${k} must be a non-negative integer in fixed units`, `limits.${k}`);
    }
    return this.add(
      { op: 'put', item: { ...keys.role(role.name), gsi1pk: collections.roles, gsi1sk: role.name, data: strip(role) }, expect },
      `role ${role.name}`,
    );
  }

  putDeclineFilter(filter: DeclineFilter): this {
    checkId(filter.frameworkId, 'framework_id');
    checkId(filter.agentId, 'agent_id');
    return this.add(
      {
        op: 'put',
        item: {
          ...keys.filter(filter.frameworkId, filter.agentId),
          gsi1pk: collections.filters,
          gsi1sk: `${filter.frameworkId}#${filter.agentId}`,
          expiresAt: Math.ceil(filter.until / 1000),
          data: strip(filter),
        },
        expect: 'any',
      },
      `filter ${filter.frameworkId}/${filter.agentId}`,
    );
  }

  deleteDeclineFilter(frameworkId: string, agentId: string): this {
    return this.add({ op: 'delete', key: keys.filter(frameworkId, agentId), expect: 'any' }, `filter ${frameworkId}/${agentId}`);
  }

  /**
   * Appends events after `head` (undefined when the log is empty). The head's version makes
   * two concurrent appenders conflict instead of writing the same sequence number twice.
   * Returns the new head's sequence number.
   */
  appendEvents(frameworkId: string, head: EventLogHead | undefined, events: readonly { type: string; body: JsonObject }[]): number {
    checkId(frameworkId, 'framework_id');
    let seq = head?.seq ?? 0;
    const at = this.now();
    const expiresAt = Math.floor(at / 1000) + this.retention.eventSeconds;
    for (const e of events) {
      seq++;
      this.add(
        { op: 'put', item: { ...keys.event(frameworkId, seq), expiresAt, data: { seq, type: e.type, body: e.body, at } }, expect: 'absent' },
        `event ${frameworkId}#${seq}`,
      );
    }
    this.add(
      { op: 'put', item: { ...keys.eventLog(frameworkId), data: { seq } }, expect: head ? { version: head.version } : 'absent' },
      `event log of ${frameworkId}`,
    );
    return seq;
  }

  deleteEvent(frameworkId: string, seq: number): this {
    return this.add({ op: 'delete', key: keys.event(frameworkId, seq), expect: 'any' }, `event ${frameworkId}#${seq}`);
  }

  putDocument(collection: string, id: string, data: JsonObject, expect: Expect, expiresAt?: number): this {
    checkId(collection, 'collection');
    checkId(id, 'id');
    const item: ItemInput = {
      ...keys.document(collection, id),
      gsi1pk: collections.documents(collection),
      gsi1sk: id,
      ...(expiresAt !== undefined ? { expiresAt } : {}),
      data,
    };
    return this.add({ op: 'put', item, expect }, `${collection} ${id}`);
  }

  deleteDocument(collection: string, id: string, expect: Expect = 'any'): this {
    return this.add({ op: 'delete', key: keys.document(collection, id), expect }, `${collection} ${id}`);
  }

  /** Asserts an item is unchanged (e.g. the agent an offer was computed from). */
  check(key: ItemKey, expect: Expect, label: string): this {
    return this.add({ op: 'check', key, expect }, label);
  }

  async commit(): Promise<void> {
    if (this.ops.length === 0) return;
    if (this.ops.length > MAX_TRANSACTION_OPS) {
      throw new Error(`transaction has ${this.ops.length} ops; split it (limit ${MAX_TRANSACTION_OPS})`);
    }
    try {
      await this.store.transact(this.ops);
    } catch (e) {
      // Contention wrote nothing and failed no condition: a race to retry, never "fenced".
      if (e instanceof TransactionContention) throw new ConflictError(`${e.message}; retry`);
      if (!(e instanceof TransactionConflict)) throw e;
      if (this.fenceIndex >= 0 && e.failed.includes(this.fenceIndex)) throw new FencedError(this.fenceEpoch);
      const what = e.failed.map((i) => this.labels[i]).filter(Boolean);
      throw new ConflictError(what.length ? `changed concurrently: ${what.join(', ')}` : 'a concurrent change won; retry');
    }
  }
}

export class Registry {
  constructor(
    readonly store: ItemStore,
    readonly retention: RetentionOptions = DEFAULT_RETENTION,
    readonly now: () => number = Date.now,
  ) {}

  transaction(): RegistryTransaction {
    return new RegistryTransaction(this.store, this.retention, this.now);
  }

  private async one<T>(key: ItemKey): Promise<Stored<T> | undefined> {
    const item = await this.store.get(key);
    return item ? stored<T>(item) : undefined;
  }

  private async many<T>(query: Parameters<typeof queryAll>[1]): Promise<Stored<T>[]> {
    return (await queryAll(this.store, query)).map((i) => stored<T>(i));
  }

  async getAgent(id: string): Promise<Stored<Agent> | undefined> {
    return this.one<Agent>(keys.agent(checkId(id, 'agent_id')));
  }
  async listAgents(): Promise<Stored<Agent>[]> {
    return this.many<Agent>({ index: 'gsi1', pk: collections.agents });
  }

  async getFramework(id: string): Promise<Stored<Framework> | undefined> {
    return this.one<Framework>(keys.framework(checkId(id, 'framework_id')));
  }
  async listFrameworks(): Promise<Stored<Framework>[]> {
    return this.many<Framework>({ index: 'gsi1', pk: collections.frameworks });
  }

  async getOffer(id: string): Promise<Stored<Offer> | undefined> {
    return this.one<Offer>(keys.offer(checkId(id, 'offer_id')));
  }
  async listOffers(): Promise<Stored<Offer>[]> {
    return this.many<Offer>({ index: 'gsi1', pk: collections.offers });
  }
  async listOffersByFramework(frameworkId: string): Promise<Stored<Offer>[]> {
    return this.many<Offer>({ index: 'gsi1', pk: collections.offers, skPrefix: `${checkId(frameworkId, 'framework_id')}#` });
  }
  async listOffersByAgent(agentId: string): Promise<Stored<Offer>[]> {
    return this.many<Offer>({ index: 'gsi2', pk: collections.byAgent(checkId(agentId, 'agent_id')), skPrefix: 'OFFER#' });
  }

  async getTask(frameworkId: string, taskId: string): Promise<Stored<Task> | undefined> {
    return this.one<Task>(keys.task(checkId(frameworkId, 'framework_id'), checkId(taskId, 'task_id')));
  }
  async listTasks(): Promise<Stored<Task>[]> {
    return this.many<Task>({ index: 'gsi1', pk: collections.tasks });
  }
  async listTasksByFramework(frameworkId: string): Promise<Stored<Task>[]> {
    return this.many<Task>({ pk: keys.framework(checkId(frameworkId, 'framework_id')).pk, skPrefix: 'TASK#' });
  }
  async listTasksByAgent(agentId: string): Promise<Stored<Task>[]> {
    return this.many<Task>({ index: 'gsi2', pk: collections.byAgent(checkId(agentId, 'agent_id')), skPrefix: 'TASK#' });
  }

  /** Everything filed under an agent in one query: its tasks and the messages waiting for it. */
  async listAgentItems(agentId: string): Promise<{ tasks: Stored<Task>[]; messages: { id: string; message: AgentMessage }[] }> {
    const items = await queryAll(this.store, { index: 'gsi2', pk: collections.byAgent(checkId(agentId, 'agent_id')) });
    const tasks: Stored<Task>[] = [];
    const messages: { id: string; message: AgentMessage }[] = [];
    for (const i of items) {
      if (i.gsi2sk?.startsWith('TASK#')) tasks.push(stored<Task>(i));
      else if (i.gsi2sk?.startsWith('MSG#')) messages.push({ id: i.gsi2sk.slice(4), message: i.data as unknown as AgentMessage });
    }
    return { tasks, messages };
  }

  async getRole(name: string): Promise<Stored<RoleConfig> | undefined> {
    if (!isValidRole(name)) throw new ValidationError(`role name ${JSON.stringify(name)} is malformed`, 'role');
    return this.one<RoleConfig>(keys.role(name));
  }
  async listRoles(): Promise<Stored<RoleConfig>[]> {
    return this.many<RoleConfig>({ index: 'gsi1', pk: collections.roles });
  }

  async listDeclineFilters(): Promise<DeclineFilter[]> {
    const now = this.now();
    return (await this.many<DeclineFilter>({ index: 'gsi1', pk: collections.filters })).filter((f) => f.until > now);
  }

  async listDeclineFiltersByFramework(frameworkId: string): Promise<DeclineFilter[]> {
    const now = this.now();
    const items = await this.many<DeclineFilter>({ pk: keys.framework(checkId(frameworkId, 'framework_id')).pk, skPrefix: 'FILTER#' });
    return items.filter((f) => f.until > now);
  }

  /** The lease as stored: its epoch (0 before any leader) and holder ('' when released). */
  async getLease(leaseName = LEASE_NAME): Promise<{ epoch: number; holder: string }> {
    const d = (await this.store.get(keys.lease(leaseName)))?.data;
    return { epoch: Number(d?.epoch ?? 0), holder: String(d?.holder ?? '') };
  }

  async getLeaseEpoch(leaseName = LEASE_NAME): Promise<number> {
    return (await this.getLease(leaseName)).epoch;
  }

  /** The version of the agent's work marker (0 before any work). */
  async getAgentWorkVersion(agentId: string): Promise<number> {
    return (await this.store.get(keys.agentWork(checkId(agentId, 'agent_id'))))?.version ?? 0;
  }

  async getEventLog(frameworkId: string): Promise<EventLogHead | undefined> {
    const item = await this.store.get(keys.eventLog(checkId(frameworkId, 'framework_id')));
    return item ? { seq: Number(item.data.seq), version: item.version } : undefined;
  }

  /** Events with seq > after, oldest first. */
  async readEvents(frameworkId: string, after: number, limit = 100): Promise<LoggedEvent[]> {
    checkId(frameworkId, 'framework_id');
    const page = await this.store.query({
      pk: keys.framework(frameworkId).pk,
      skBetween: [`EVENT#${pad(after + 1)}`, 'EVENT#~'],
      limit,
    });
    return page.items.map((i) => i.data as unknown as LoggedEvent);
  }

  /** Deletes events up to and including `upTo` (acknowledged by the reader's cursor). */
  async trimEvents(frameworkId: string, upTo: number): Promise<number> {
    checkId(frameworkId, 'framework_id');
    let removed = 0;
    for (;;) {
      const page = await this.store.query({ pk: keys.framework(frameworkId).pk, skBetween: ['EVENT#', `EVENT#${pad(upTo)}`], limit: 25 });
      if (page.items.length === 0) return removed;
      const tx = this.transaction();
      for (const i of page.items) tx.deleteEvent(frameworkId, Number(i.data.seq));
      await tx.commit();
      removed += page.items.length;
      if (!page.next) return removed;
    }
  }

  /** Records a heartbeat: the item's version is the beat counter. */
  async beat(kind: string, id: string, session: string): Promise<void> {
    checkId(id, 'id');
    await this.store.transact([
      {
        op: 'put',
        item: { ...keys.liveness(kind, id), gsi1pk: collections.liveness(kind), gsi1sk: id, data: { id, session } },
        expect: 'any',
      },
    ]);
  }
  async listLiveness(kind: string): Promise<Liveness[]> {
    const items = await queryAll(this.store, { index: 'gsi1', pk: collections.liveness(kind) });
    return items.map((i) => ({ id: String(i.data.id), session: String(i.data.session), beats: i.version }));
  }
  async deleteLiveness(kind: string, id: string): Promise<void> {
    await this.store.transact([{ op: 'delete', key: keys.liveness(kind, id), expect: 'any' }]);
  }

  /** Records an authenticated connection (and, with agentId, its binding), expiring with the TTL. */
  async putAgentConnection(c: AgentConnection): Promise<void> {
    checkConnectionId(c.connectionId);
    const expiresAt = Math.floor(this.now() / 1000) + AGENT_CONNECTION_TTL_SECONDS;
    const ops: WriteOp[] = [{ op: 'put', item: { ...keys.agentConnection(c.connectionId), expiresAt, data: strip(c) }, expect: 'any' }];
    // The agent's pointer to its connection: pushes for the agent go there.
    if (c.agentId !== undefined) {
      ops.push({ op: 'put', item: { ...keys.agentConnectionOf(checkId(c.agentId, 'agent_id')), expiresAt, data: { connectionId: c.connectionId } }, expect: 'any' });
    }
    await this.store.transact(ops);
  }

  async getAgentConnection(connectionId: string): Promise<AgentConnection | undefined> {
    const item = await this.store.get(keys.agentConnection(checkConnectionId(connectionId)));
    return item ? (item.data as unknown as AgentConnection) : undefined;
  }

  /** The connection the agent is bound to, if any. */
  async getAgentConnectionId(agentId: string): Promise<string | undefined> {
    const item = await this.store.get(keys.agentConnectionOf(checkId(agentId, 'agent_id')));
    return item ? String(item.data.connectionId) : undefined;
  }

  /** Forgets a connection that closed; the agent's pointer goes too (at once) unless it already points elsewhere. */
  async deleteAgentConnection(connectionId: string, agentId?: string): Promise<void> {
    const del: WriteOp = { op: 'delete', key: keys.agentConnection(checkConnectionId(connectionId)), expect: 'any' };
    const pointer = agentId === undefined ? undefined : await this.store.get(keys.agentConnectionOf(checkId(agentId, 'agent_id')));
    if (agentId === undefined || pointer?.data.connectionId !== connectionId) return void (await this.store.transact([del]));
    try {
      // Conditional on the version read: a rebind to a new connection meanwhile stays.
      await this.store.transact([del, { op: 'delete', key: keys.agentConnectionOf(agentId), expect: { version: pointer.version } }]);
    } catch (e) {
      if (!(e instanceof TransactionConflict)) throw e;
      await this.store.transact([del]);
    }
  }

  async getDocument<T extends JsonObject>(collection: string, id: string): Promise<Document<T> | undefined> {
    const item = await this.store.get(keys.document(checkId(collection, 'collection'), checkId(id, 'id')));
    return item ? { id, data: item.data as T, version: item.version } : undefined;
  }
  async listDocuments<T extends JsonObject>(collection: string): Promise<Document<T>[]> {
    const items = await queryAll(this.store, { index: 'gsi1', pk: collections.documents(checkId(collection, 'collection')) });
    return items.map((i) => ({ id: String(i.gsi1sk), data: i.data as T, version: i.version }));
  }
}
