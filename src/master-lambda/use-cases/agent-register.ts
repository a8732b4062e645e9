import { createHash, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import { ForbiddenError, NotFoundError, StratusError, ValidationError } from '../../core/errors.js';
import type { Agent, AgentChannel } from '../../core/agent.js';
import { agentId as toAgentId } from '../../core/ids.js';
import { add, contains, EMPTY, equals, format, type Resources } from '../../core/resources.js';
import { isTerminal } from '../../core/task-state.js';
import type { Stored } from '../../state/registry.js';
import { decodeResources } from '../../wire/mesos-resources.js';
import { wireState, type RegisterRequest, type RegisterResponse } from '../../wire/agent-api.js';
import type { MasterContext } from '../master-context.js';
import { retryOnConflict } from '../retry.js';
import { reconcileAgentTasks } from './master-task-updates.js';
import { releaseOffers } from './release-offers.js';

// Agent (re)registration. A known agent keeps its id and its tasks; each registration starts
// a new session so work and updates from a previous session can be told apart. An agent that
// was removed (GONE) comes back under a new id and is told to kill what it still runs.
//
// An agent id is claimed by a secret: the master issues one at the id's first registration (the
// agent keeps it in its work dir) and a later registration under the id must present it, so no
// credential can register as another agent and wipe its tasks. Only its sha256 is stored.

/** The agent must register again: unknown, removed, or its session was superseded. */
export class ReregisterError extends StratusError {
  constructor(message: string) {
    super('CONFLICT', message, 'session');
  }
}

export async function registerAgent(ctx: MasterContext, req: RegisterRequest, channel: AgentChannel = 'http'): Promise<RegisterResponse> {
  const total = decodeResources(req.resources, 'resources');
  if (total.cpus === 0 && total.mem === 0) throw new ValidationError('resources must include cpus or mem', 'resources');
  const requested = req.agent_id !== undefined ? toAgentId(req.agent_id, 'agent_id') : undefined;
  const session = randomUUID();
  const now = ctx.now();
  const reported = req.tasks ?? [];
  const epoch = await ctx.registry.getLeaseEpoch();

  const result = await retryOnConflict(async () => {
    const existing = requested ? await ctx.registry.getAgent(requested) : undefined;
    const gone = existing?.reachability === 'GONE';
    const id = requested && !gone ? requested : toAgentId(`${randomUUID()}-S0`);
    const known = gone ? undefined : existing;
    if (known?.secretHash !== undefined && (req.agent_secret === undefined || !sameHash(secretHash(req.agent_secret), known.secretHash))) {
      throw new ForbiddenError(
        `agent ${known.id} is registered: registering under its id needs the agent secret it was given at its first registration (kept in its work dir's agent.json)`,
        'agent_secret',
      );
    }
    // The id keeps the secret it was shown to hold (or, new to this master, the one it presents);
    // a new id gets a new one.
    const secret = requested !== undefined && !gone && req.agent_secret !== undefined ? req.agent_secret : newAgentSecret();
    if (known && !equals(known.total, total)) await checkResourcesHold(ctx, known, total, reported);
    const agent: Agent = {
      id,
      hostname: req.hostname,
      ...(req.endpoint ? { endpoint: req.endpoint } : {}),
      attributes: req.attributes ?? {},
      total,
      allocated: known?.allocated ?? EMPTY,
      offered: known?.offered ?? EMPTY,
      reachability: 'REACHABLE',
      deactivated: known?.deactivated ?? false,
      ...(known?.drain ? { drain: known.drain } : {}),
      ...(known?.executors ? { executors: known.executors } : {}),
      registeredAt: known?.registeredAt ?? now,
      session,
      registeredEpoch: epoch,
      secretHash: secretHash(secret),
      ...(channel === 'socket' && { channel }),
    };
    // A removed agent comes back under a new id: that item is new.
    await ctx.registry.transaction().putAgent(agent, known ? { version: known.version } : 'absent').commit();
    return { agent, gone, previous: known, resized: known !== undefined && !equals(known.total, total), secret };
  });
  // Offers of the old size are void: rescind them before anything is offered of the new one.
  if (result.resized) await releaseOffers(ctx, await ctx.registry.listOffersByAgent(result.agent.id), { rescind: true });

  // Tasks the agent runs that the master does not know (or were given up on) must not keep running.
  const kill: { framework_id: string; task_id: string }[] = [];
  for (const t of reported) {
    const state = wireState(t.state);
    if (isTerminal(state)) continue;
    if (result.gone) {
      kill.push({ framework_id: t.framework_id, task_id: t.task_id });
      continue;
    }
    const task = await ctx.registry.getTask(t.framework_id, t.task_id).catch(() => undefined);
    if (!task || task.agentId !== result.agent.id || isTerminal(task.state)) kill.push({ framework_id: t.framework_id, task_id: t.task_id });
  }
  if (result.previous) {
    const states = new Map(reported.map((t) => [`${t.framework_id}/${t.task_id}`, wireState(t.state)]));
    await reconcileAgentTasks(ctx, result.agent.id, states);
  }
  await ctx.registry.beat('agent', result.agent.id, session);
  ctx.notifier.notify('allocation');
  ctx.log.info(result.previous ? 'agent reregistered' : 'agent registered', {
    agentId: result.agent.id,
    hostname: req.hostname,
    attributes: result.agent.attributes,
    killTasks: kill.length,
    replacedGoneAgent: result.gone ? requested : undefined,
  });
  return {
    agent_id: result.agent.id,
    session,
    heartbeat_interval_seconds: Math.max(1, Math.floor((channel === 'socket' ? ctx.config.agentSocketPingIntervalMs : ctx.config.agentPingTimeoutMs) / 1000)),
    kill_tasks: kill,
    agent_secret: result.secret,
  };
}

function newAgentSecret(): string {
  return randomBytes(32).toString('base64url');
}

function secretHash(secret: string): string {
  return `sha256$${createHash('sha256').update(secret).digest('hex')}`;
}

function sameHash(a: string, b: string): boolean {
  return a.length === b.length && timingSafeEqual(Buffer.from(a), Buffer.from(b));
}

/**
 * An agent re-registering with other resources (a restart with other flags, a resized host)
 * keeps its id only if the new total holds the tasks it still runs; otherwise the master
 * refuses, as Mesos does for changed resources, and says why: offered + allocated may never
 * exceed an agent's total. Tasks it no longer reports are about to be given up, so they do not count.
 */
async function checkResourcesHold(ctx: MasterContext, known: Stored<Agent>, total: Resources, reported: NonNullable<RegisterRequest['tasks']>): Promise<void> {
  const live = new Set(reported.filter((t) => !isTerminal(wireState(t.state))).map((t) => `${t.framework_id}/${t.task_id}`));
  let held = EMPTY;
  for (const t of await ctx.registry.listTasksByAgent(known.id)) {
    if (!isTerminal(t.state) && (live.has(`${t.frameworkId}/${t.taskId}`) || t.state === 'STAGING')) held = add(held, t.resources);
  }
  if (!contains(total, held)) {
    throw new ValidationError(
      `agent ${known.id} re-registered with ${format(total)} (was ${format(known.total)}), which cannot hold the ${format(held)} its tasks use: ` +
        'start it with at least those resources, or with a new work dir to register as a new agent',
      'resources',
    );
  }
}

/** The agent as its session sees it; throws ReregisterError when the agent must register again. */
export async function requireAgentSession(ctx: MasterContext, agentId: string, session: string): Promise<Stored<Agent>> {
  const agent = await ctx.registry.getAgent(agentId);
  if (!agent) throw new NotFoundError(`agent ${agentId} is not registered; register again`, 'agent_id');
  if (agent.reachability === 'GONE') throw new ReregisterError(`agent ${agentId} was removed; register again to get a new id`);
  if (agent.session !== session) throw new ReregisterError(`session ${session} of agent ${agentId} was superseded; register again`);
  // A new leader trusts its task table only once every agent has said again what it runs.
  if ((agent.registeredEpoch ?? 0) < (await leaseEpoch(ctx))) {
    throw new ReregisterError(`a new leader was elected; agent ${agentId} must register again to reconcile its tasks`);
  }
  return agent;
}

// Every agent call checks the epoch; a second-old answer is good enough and spares a read per call.
const epochCache = new WeakMap<MasterContext, { epoch: number; at: number }>();
async function leaseEpoch(ctx: MasterContext): Promise<number> {
  const hit = epochCache.get(ctx);
  if (hit && Date.now() - hit.at < 1_000) return hit.epoch;
  const epoch = await ctx.registry.getLeaseEpoch();
  epochCache.set(ctx, { epoch, at: Date.now() });
  return epoch;
}

export async function agentHeartbeat(ctx: MasterContext, agentId: string, session: string, healthy: boolean, message?: string): Promise<void> {
  const agent = await requireAgentSession(ctx, agentId, session);
  await ctx.registry.beat('agent', agentId, session);
  // The agent item changes only when the health does: heartbeats stay cheap.
  if ((agent.health?.healthy ?? true) === healthy && (healthy || agent.health?.message === message)) return;
  await retryOnConflict(async (attempt) => {
    const a = attempt === 1 ? agent : await requireAgentSession(ctx, agentId, session);
    const health = healthy ? undefined : { healthy: false, ...(message !== undefined ? { message } : {}) };
    await ctx.registry.transaction().putAgent({ ...a, health }, { version: a.version }).commit();
  });
  ctx.log[healthy ? 'info' : 'warn'](healthy ? 'agent healthy again' : 'agent reports itself unhealthy', { agentId, message });
  if (!healthy) await releaseOffers(ctx, await ctx.registry.listOffersByAgent(agentId), { rescind: true });
  ctx.notifier.notify('allocation');
}
