import { performance } from 'node:perf_hooks';
import { silentLogger } from '../src/core/logger.js';
import { SchedulerDriver } from '../src/sdk/driver.js';
import { mesosResources } from '../src/sdk/resources.js';
import type { Offer, TaskInfo } from '../src/sdk/types.js';
import { waitUntil } from '../test/support/wait.js';
import { DEFAULT_WORK_SAFETY_INTERVAL_MS } from '../src/agent/work-loop.js';
import { CloudRegion, CONNECTION_TAG, TICK_PERIOD_MS, TICK_TIMEOUT_MS } from './cloud-region.js';
import {
  addUnits,
  costOf,
  HOURS_PER_MONTH,
  ledgerSince,
  mesosControlPlaneMonthly,
  PRICE_LABELS,
  scaleUnits,
  sumUnits,
  zeroUnits,
  type Units,
} from './cloud-units.js';
import { percentile, type BenchSuite, type BenchTable, type Cell } from './report.js';
import { SimAgent } from './sim-agent.js';
import { SocketAgentTransport } from './sim-agent-socket.js';

// The cloud-cost meter (issue 13 item 4): a region run the cloud way (bench/cloud-region.ts),
// agents and frameworks as a deployed region has them, every billable unit counted at the
// client. (a) Idle: sample a short window of the real periodic actions of a few agents and
// frameworks (heartbeats, long-poll cycles, the leader tick), book each action's units, and
// scale to an hour and a month for N agents; (b) short tasks end to end, $ per million tasks.
// Socket agents' periodic actions are minutes apart (a ping every 4 minutes, a safety work
// poll every 10, a reconnect at API Gateway's 2-hour limit): the sample runs them compressed,
// books each action's units per occurrence, and scales by its real rate per hour.

/** API Gateway closes a WebSocket connection after 2 hours: the agent reconnects and registers again. */
export const SOCKET_RECONNECTS_PER_HOUR = 0.5;

export type AgentTransport = 'long-poll' | 'websocket';
/** long-poll: GET /api/v1/scheduler/events on the HTTP API; recordio-stream: SUBSCRIBE's RecordIO stream on the REST API with response streaming. */
export type FrameworkTransport = 'long-poll' | 'recordio-stream' | 'websocket';

export interface CostMode {
  readonly name: string;
  readonly agents: AgentTransport;
  readonly frameworks: FrameworkTransport;
}

/** Today's transports: agents long-poll their work, frameworks long-poll their events (the baseline the issue measured). */
export const LONG_POLL: CostMode = { name: 'long-poll agents + long-poll frameworks', agents: 'long-poll', frameworks: 'long-poll' };
/** Unmodified Mesos clients: SUBSCRIBE streams RecordIO through the REST API with response streaming. */
export const RECORDIO_FRAMEWORKS: CostMode = { name: 'long-poll agents + RecordIO-streaming frameworks', agents: 'long-poll', frameworks: 'recordio-stream' };
/** Push: agents on the WebSocket API (work pushed with PostToConnection), frameworks streaming RecordIO. */
export const WEBSOCKET_AGENTS: CostMode = { name: 'WebSocket agents + RecordIO-streaming frameworks', agents: 'websocket', frameworks: 'recordio-stream' };

/** Why a transport cannot be metered in this build (undefined: it can). */
export function unavailable(mode: CostMode): string | undefined {
  if (mode.frameworks === 'websocket') return 'frameworks have no WebSocket channel in this build';
  return undefined;
}

export interface CloudCostOptions {
  readonly modes?: readonly CostMode[];
  /** Agents and frameworks actually run while sampling idle. */
  readonly sampleAgents: number;
  readonly sampleFrameworks: number;
  /** The idle sampling window. */
  readonly windowMs: number;
  /** Long-poll wait of agents and frameworks (20 s as the agent daemon and the SDK). */
  readonly pollSeconds?: number;
  /** Region sizes the idle figures are scaled to. */
  readonly sizes: readonly number[];
  /** Frameworks in the scaled region. */
  readonly frameworks: number;
  readonly tasks: number;
  readonly taskCpus?: number;
  readonly cpusPerAgent?: number;
  readonly timeoutMs?: number;
  /** Each scheduled tick's lead (default as deployed: 55 s of every minute); the hour is scaled to the deployed schedule anyway. */
  readonly tickLeadMs?: number;
  readonly tickPeriodMs?: number;
  /** Socket agents' ping and safety work poll while sampling (compressed; scaled back to the real 4 and 10 minutes). */
  readonly socketPingMs?: number;
  readonly socketSafetyPollMs?: number;
  readonly progress?: (message: string) => void;
}

/** One periodic or one-off action's units, as sampled. */
export interface ActionSample {
  readonly tag: string;
  readonly actor: 'agent' | 'framework' | 'leader' | 'other';
  readonly count: number;
  readonly units: Units;
  /** Mean concurrent executions of this action during the window. */
  readonly concurrency: number;
  /** Occurrences per actor-hour (as deployed), and the units of an actor-hour. */
  readonly perActorHour: number;
  readonly hourUnits: Units;
}

export interface IdleResult {
  readonly windowSeconds: number;
  readonly sampleAgents: number;
  readonly sampleFrameworks: number;
  readonly actions: readonly ActionSample[];
  /** Units of one idle agent (framework, the leader) per hour. */
  readonly agentHour: Units;
  readonly frameworkHour: Units;
  readonly leaderHour: Units;
  /** Concurrent executions one idle agent (framework, the leader) holds. */
  readonly agentConcurrency: number;
  readonly frameworkConcurrency: number;
  readonly leaderConcurrency: number;
  /** Seconds the tick led during the window (its units are scaled from them). */
  readonly tickSeconds: number;
}

export interface TaskRunResult {
  readonly tasks: number;
  readonly finished: number;
  /** Tasks that ended otherwise (TASK_LOST when a re-registering agent did not report a launch still in flight, ...). */
  readonly endedOtherwise: number;
  readonly seconds: number;
  readonly units: Units;
  /** The same run minus what the idle agents, frameworks and leader would have cost meanwhile. */
  readonly netUnits: Units;
  /** Launches the master delivered again (after a re-registration); the agent recognises them and runs each task once. */
  readonly launchesDeliveredAgain: number;
  /** RUNNING updates the master answered `applied` (a resent one is answered otherwise). */
  readonly runningApplied: number;
  /** ACCEPT answered -> the launch in the agent's hands, ms. */
  readonly launchToAgentP50Ms: number;
  readonly launchToAgentP99Ms: number;
  /** ACCEPT sent -> the launch in the agent's hands, ms (an upper bound: the ACCEPT's own handling included). */
  readonly acceptSentToAgentP50Ms: number;
}

export interface ModeResult {
  readonly mode: CostMode;
  readonly idle: IdleResult;
  readonly taskRun: TaskRunResult;
}

export interface CloudCostResult {
  readonly modes: readonly ModeResult[];
  /** Modes asked for that this build cannot run yet, and why. */
  readonly skipped: readonly { readonly mode: CostMode; readonly why: string }[];
  readonly restStreaming: { readonly requests: number; readonly invocations: number; readonly ledgerRequests: number };
  /** Consistency checks: the HTTP API stand-in's own counts beside the ledger's. */
  readonly httpApi: { readonly requests: number; readonly invocations: number; readonly ledgerRequests: number; readonly ledgerApiInvocations: number; readonly timeouts: number };
  /** The WebSocket stand-in's own counts beside the ledger's. */
  readonly webSocket: { readonly messageUnits: number; readonly ledgerMessages: number; readonly invocations: number; readonly ledgerInvocations: number; readonly connectionMinutes: number; readonly ledgerConnectionMinutes: number; readonly managementCalls: number };
  readonly untaggedAwsRequests: number;
  /** Tick invocations started, throttled (reserved concurrency 1) and failed. */
  readonly tick: { readonly invocations: number; readonly throttled: number; readonly errors: readonly string[] };
  readonly awsActions: Record<string, number>;
  readonly options: CloudCostOptions;
}

const TERMINAL = new Set(['TASK_FINISHED', 'TASK_FAILED', 'TASK_KILLED', 'TASK_LOST', 'TASK_ERROR', 'TASK_DROPPED', 'TASK_GONE', 'TASK_GONE_BY_OPERATOR', 'TASK_UNREACHABLE']);
const AGENT_TAG = /^(api|agent-socket):agent /;
const FRAMEWORK_TAG = /^(api|scheduler-stream):(framework |scheduler )/;
const LEADER_TAG = /^tick:/;

function actorOf(tag: string): ActionSample['actor'] {
  if (AGENT_TAG.test(tag)) return 'agent';
  if (FRAMEWORK_TAG.test(tag)) return 'framework';
  if (LEADER_TAG.test(tag)) return 'leader';
  return 'other';
}

/** A framework as a deployed region sees one: the Stratus SDK driver, in the mode's transport. */
class BenchFramework {
  readonly driver: SchedulerDriver;
  private toLaunch = 0;
  private seq = 0;
  /** Tasks whose TASK_FINISHED arrived, and tasks that ended in any terminal state (each once, however often delivered). */
  readonly finishedIds = new Set<string>();
  readonly endedIds = new Set<string>();
  readonly acceptedAt = new Map<string, number>();
  readonly acceptSentAt = new Map<string, number>();

  constructor(
    region: CloudRegion,
    name: string,
    pollSeconds: number,
    private readonly taskCpus = 0.25,
    transport: FrameworkTransport = 'long-poll',
  ) {
    const stream = transport === 'recordio-stream';
    this.driver = new SchedulerDriver({
      // A streaming framework's every call goes to the REST API (as a Mesos client given the SchedulerStreamUrl).
      master: stream ? region.rest.url : region.url,
      framework: { name, failoverTimeoutSeconds: 3600 },
      credentials: { token: region.tokens.framework },
      eventMode: stream ? 'stream' : 'poll',
      pollWaitSeconds: pollSeconds,
      log: silentLogger,
    });
    this.driver.on('offers', (offers) => this.offers(offers));
    this.driver.on('update', (s) => {
      if (s.state === 'TASK_FINISHED') this.finishedIds.add(s.taskId);
      if (TERMINAL.has(s.state)) this.endedIds.add(s.taskId);
    });
  }

  async start(): Promise<this> {
    this.driver.start();
    await this.driver.whenSubscribed(60_000);
    return this;
  }

  /** An idle framework: nothing to run, so it asks for no offers (Mesos's SUPPRESS). */
  async idle(): Promise<void> {
    this.toLaunch = 0;
    await this.driver.suppress();
  }

  async run(tasks: number): Promise<void> {
    this.toLaunch = tasks;
    await this.driver.revive();
  }

  private async offers(offers: readonly Offer[]): Promise<void> {
    for (const o of offers) {
      const fit = Math.min(this.toLaunch, Math.floor((o.resources.cpus ?? 0) / this.taskCpus + 1e-9), Math.floor((o.resources.mem ?? 0) / 32), 64);
      if (fit <= 0) {
        await this.driver.decline([o.id], { refuse_seconds: this.toLaunch > 0 ? 1 : 3600 }).catch(() => undefined);
        continue;
      }
      this.toLaunch -= fit;
      const infos: TaskInfo[] = Array.from({ length: fit }, () => {
        const id = `t-${++this.seq}`;
        return { name: id, task_id: { value: id }, agent_id: { value: o.agentId }, resources: mesosResources({ cpus: this.taskCpus, mem: 32 }), command: { shell: true, value: 'true' } };
      });
      try {
        const sent = performance.now();
        await this.driver.launch([o.id], infos, { refuse_seconds: 1 });
        const at = performance.now();
        for (const t of infos) {
          this.acceptedAt.set(`${this.driver.frameworkId}/${t.task_id.value}`, at);
          this.acceptSentAt.set(`${this.driver.frameworkId}/${t.task_id.value}`, sent);
        }
      } catch {
        this.toLaunch += fit; // the offer was gone (rescinded, or taken by a later round): the next offer carries them
      }
    }
  }

  async stop(): Promise<void> {
    await this.driver.teardown().catch(() => undefined);
    await this.driver.stop();
  }
}

async function withinWindow(region: CloudRegion, windowMs: number): Promise<{ diff: Map<string, Units>; concurrency: Map<string, number>; seconds: number }> {
  const before = region.snapshot();
  const t0 = performance.now();
  const conc = new Map<string, number>();
  let samples = 0;
  // Concurrent executions, sampled every 250 ms across the window.
  while (performance.now() - t0 < windowMs) {
    await new Promise((ok) => setTimeout(ok, Math.min(250, Math.max(1, windowMs - (performance.now() - t0)))));
    samples++;
    for (const [tag, n] of region.concurrency()) conc.set(tag, (conc.get(tag) ?? 0) + n);
  }
  const seconds = (performance.now() - t0) / 1000;
  const diff = ledgerSince(region.snapshot(), before);
  for (const [k, v] of conc) conc.set(k, v / samples);
  return { diff, concurrency: conc, seconds };
}

/** Socket agents' actions as deployed, per agent-hour: the ping at the master's interval, the safety work poll. */
function socketRate(tag: string, agents: readonly SimAgent[]): number | undefined {
  if (tag === 'agent-socket:agent heartbeat') return 3600_000 / (agents[0]?.heartbeatIntervalMs || 240_000);
  if (tag === 'agent-socket:agent work') return 3600_000 / DEFAULT_WORK_SAFETY_INTERVAL_MS;
  return undefined;
}

/** API Gateway's 2-hour limit, played once per agent: the connection closes, the agent reconnects, registers and resynchronises. Units per reconnect. */
async function reconnectEpisode(region: CloudRegion, agents: readonly SimAgent[], o: CloudCostOptions): Promise<Units> {
  await region.ws.settled();
  const before = region.snapshot();
  const registered = agents.map((a) => a.calls.register);
  const worked = agents.map((a) => a.calls.work);
  for (const id of region.ws.connectionIds()) region.ws.forceClose(id);
  // Registered again, then asked for its work on the new connection (its resync).
  await waitUntil(() => agents.every((a, i) => a.calls.register > registered[i]! && a.calls.work >= worked[i]! + 2), o.timeoutMs ?? 120_000, 'socket agents to reconnect and resynchronise', 50);
  await region.ws.settled();
  const diff = ledgerSince(region.snapshot(), before);
  return scaleUnits(sumUnits(diff, (t) => t.startsWith('agent-socket:') && t !== CONNECTION_TAG), 1 / agents.length);
}

async function idlePhase(region: CloudRegion, agents: readonly SimAgent[], frameworks: readonly BenchFramework[], socket: boolean, o: CloudCostOptions): Promise<IdleResult> {
  if (socket) {
    // Steady state: every socket agent has pinged once.
    const h0 = agents.map((a) => a.calls.heartbeat);
    await waitUntil(() => agents.every((a, i) => a.calls.heartbeat > h0[i]!), o.timeoutMs ?? 120_000, 'socket agents to ping', 50);
  } else {
    const polls = (): number => region.ledger.total((t) => t === 'api:agent work poll').lambdaInvocations;
    // Steady state: every agent and framework past its first full cycle after the frameworks went idle.
    const p0 = polls();
    await waitUntil(() => polls() >= p0 + 2 * agents.length, o.timeoutMs ?? 120_000, 'agents to reach steady long-polling', 100);
  }
  o.progress?.(`idle: sampling ${o.windowMs / 1000} s`);
  const w = await withinWindow(region, o.windowMs);
  const actorCount = { agent: agents.length, framework: frameworks.length, leader: 1, other: 1 } as const;
  const actions: ActionSample[] = [...w.diff]
    .filter(([, u]) => u.lambdaInvocations > 0 || u.lambdaSeconds > 0 || u.dynamoRequests > 0 || u.webSocketConnectionMinutes > 0)
    .map(([tag, units]) => {
      const actor = actorOf(tag) === 'other' && tag === CONNECTION_TAG ? 'agent' : actorOf(tag);
      const count = units.lambdaInvocations;
      const rate = socket && count > 0 ? socketRate(tag, agents) : undefined;
      // A compressed socket action: per occurrence × its real rate; the rest: the window scaled to an hour.
      const perActorHour = rate ?? (count * 3600) / w.seconds / actorCount[actor];
      const hourUnits = rate !== undefined ? scaleUnits(units, rate / count) : scaleUnits(units, 3600 / w.seconds / actorCount[actor]);
      return { tag, actor, count, units, concurrency: w.concurrency.get(tag) ?? 0, perActorHour, hourUnits };
    });
  if (socket) {
    o.progress?.('idle: a reconnect at the 2-hour limit, once per agent');
    const per = await reconnectEpisode(region, agents, o);
    actions.push({ tag: 'agent-socket:reconnect at the 2-hour limit ($disconnect, $connect, register, resync)', actor: 'agent', count: agents.length, units: scaleUnits(per, agents.length), concurrency: 0, perActorHour: SOCKET_RECONNECTS_PER_HOUR, hourUnits: scaleUnits(per, SOCKET_RECONNECTS_PER_HOUR) });
  }
  const perHour = (actor: ActionSample['actor']): Units => sumUnits(new Map(actions.filter((a) => a.actor === actor).map((a) => [a.tag, a.hourUnits])));
  // Sampled concurrency holds for long-polls and streams; compressed socket actions hold what their hourly Lambda time says.
  const conc = (actor: ActionSample['actor'], actors: number): number => (socket && actor === 'agent' ? perHour('agent').lambdaSeconds / 3600 : actions.filter((a) => a.actor === actor).reduce((n, a) => n + a.concurrency, 0) / actors);
  // The leader: measured while it led; a deployed tick leads (timeout − 5 s) of every scheduled minute.
  const tick = sumUnits(new Map(actions.filter((a) => a.actor === 'leader').map((a) => [a.tag, a.units])));
  const ledPerHour = ((TICK_TIMEOUT_MS - 5_000) / 1000) * (3600_000 / TICK_PERIOD_MS);
  const leaderHour = tick.lambdaSeconds > 0 ? scaleUnits(tick, ledPerHour / tick.lambdaSeconds) : zeroUnits();
  leaderHour.lambdaInvocations = 3600_000 / TICK_PERIOD_MS;
  return {
    windowSeconds: w.seconds,
    sampleAgents: agents.length,
    sampleFrameworks: frameworks.length,
    actions,
    agentHour: perHour('agent'),
    frameworkHour: perHour('framework'),
    leaderHour,
    agentConcurrency: conc('agent', agents.length),
    frameworkConcurrency: conc('framework', frameworks.length),
    leaderConcurrency: ledPerHour / 3600,
    tickSeconds: tick.lambdaSeconds,
  };
}

async function taskPhase(region: CloudRegion, agents: readonly SimAgent[], idle: IdleResult, idleFrameworks: number, transport: FrameworkTransport, o: CloudCostOptions): Promise<TaskRunResult> {
  const pollSeconds = o.pollSeconds ?? 20;
  const before = region.snapshot();
  const t0 = performance.now();
  o.progress?.(`tasks: ${o.tasks} short tasks`);
  const fw = await new BenchFramework(region, `bench-tasks-${transport}`, pollSeconds, o.taskCpus, transport).start();
  try {
    await fw.run(o.tasks);
    await waitUntil(() => fw.endedIds.size >= o.tasks, o.timeoutMs ?? 600_000, `${o.tasks} tasks ended`, 50);
    const seconds = (performance.now() - t0) / 1000;
    const units = sumUnits(ledgerSince(region.snapshot(), before));
    // Meanwhile the idle actors (the agents, the other frameworks, the leader) cost what they cost idle.
    const background = addUnits(addUnits(scaleUnits(idle.agentHour, agents.length), scaleUnits(idle.frameworkHour, idleFrameworks)), idle.leaderHour);
    const netUnits = addUnits({ ...units }, scaleUnits(background, -seconds / 3600));
    const lat: number[] = [];
    const latSent: number[] = [];
    for (const a of agents) for (const t of a.tasks.values()) {
      const acc = fw.acceptedAt.get(t.key);
      if (acc !== undefined) lat.push(Math.max(0, t.launchedAt - acc));
      const sent = fw.acceptSentAt.get(t.key);
      if (sent !== undefined) latSent.push(Math.max(0, t.launchedAt - sent));
    }
    return {
      tasks: o.tasks,
      finished: fw.finishedIds.size,
      endedOtherwise: fw.endedIds.size - [...fw.endedIds].filter((id) => fw.finishedIds.has(id)).length,
      seconds,
      units,
      netUnits,
      launchesDeliveredAgain: agents.reduce((n, a) => n + a.duplicateLaunches, 0),
      runningApplied: agents.reduce((n, a) => n + a.runningApplied, 0),
      launchToAgentP50Ms: percentile(lat, 50),
      launchToAgentP99Ms: percentile(lat, 99),
      acceptSentToAgentP50Ms: percentile(latSent, 50),
    };
  } finally {
    await fw.stop();
  }
}

async function startAgents(region: CloudRegion, transport: AgentTransport, o: CloudCostOptions): Promise<SimAgent[]> {
  const agents: SimAgent[] = [];
  for (let i = 0; i < o.sampleAgents; i++) {
    const socket =
      transport === 'websocket'
        ? { transport: new SocketAgentTransport(region.ws.url, region.tokens.agent), heartbeatIntervalMs: o.socketPingMs ?? 5_000, workSafetyIntervalMs: o.socketSafetyPollMs ?? 8_000 }
        : {};
    agents.push(new SimAgent(region.url, `cost-${transport}-${i}`, ['a', 'b', 'c'][i % 3]!, o.cpusPerAgent ?? 8, 16_384, { token: region.tokens.agent, waitSeconds: o.pollSeconds ?? 20, autoFinish: true, ...socket }));
  }
  await Promise.all(agents.map((a) => a.start()));
  return agents;
}

/** The agents of the previous transport leave for good (Mesos's MARK_AGENT_GONE), so nothing is offered from them. */
async function removeAgents(region: CloudRegion, agents: readonly SimAgent[]): Promise<void> {
  await Promise.all(agents.map((a) => a.stop()));
  for (const a of agents) {
    await fetch(`${region.url}/api/v1`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${region.tokens.operator}` },
      body: JSON.stringify({ type: 'MARK_AGENT_GONE', mark_agent_gone: { agent_id: { value: a.agentId } } }),
    }).then((r) => r.text());
  }
}

async function runMode(region: CloudRegion, mode: CostMode, agents: readonly SimAgent[], o: CloudCostOptions): Promise<ModeResult> {
  const pollSeconds = o.pollSeconds ?? 20;
  const frameworks: BenchFramework[] = [];
  try {
    o.progress?.(`${mode.name}: ${o.sampleAgents} agents, ${o.sampleFrameworks} frameworks`);
    for (let i = 0; i < o.sampleFrameworks; i++) frameworks.push(new BenchFramework(region, `idle-${mode.frameworks}-${i}`, pollSeconds, o.taskCpus, mode.frameworks));
    await Promise.all(frameworks.map((f) => f.start()));
    await Promise.all(frameworks.map((f) => f.idle()));
    const idle = await idlePhase(region, agents, frameworks, mode.agents === 'websocket', o);
    const taskRun = await taskPhase(region, agents, idle, frameworks.length, mode.frameworks, o);
    return { mode, idle, taskRun };
  } finally {
    await Promise.all(frameworks.map((f) => f.stop()));
  }
}

export async function runCloudCost(o: CloudCostOptions): Promise<CloudCostResult> {
  const region = await new CloudRegion(o.tickLeadMs, o.tickPeriodMs).start();
  try {
    region.startSchedule();
    const modes: ModeResult[] = [];
    const skipped: { mode: CostMode; why: string }[] = [];
    // Modes with the same agent transport share their agents; a new transport's agents replace them.
    let agents: SimAgent[] = [];
    let transport: AgentTransport | undefined;
    try {
      for (const mode of o.modes ?? [LONG_POLL]) {
        const why = unavailable(mode);
        if (why) {
          skipped.push({ mode, why });
          continue;
        }
        if (transport !== mode.agents) {
          if (agents.length) await removeAgents(region, agents);
          agents = await startAgents(region, mode.agents, o);
          transport = mode.agents;
        }
        modes.push(await runMode(region, mode, agents, o));
      }
    } finally {
      await Promise.all(agents.map((a) => a.stop()));
    }
    await region.ws.settled();
    const api = region.ledger.total((t) => t.startsWith('api:'));
    const wsStats = region.ws.stats;
    const ledgerAll = sumUnits(region.snapshot());
    return {
      modes,
      skipped,
      restStreaming: { requests: region.rest.stats.requests, invocations: region.rest.stats.invocations, ledgerRequests: region.ledger.total((t) => t.startsWith('scheduler-stream:')).restApiRequests },
      httpApi: { requests: region.http.stats.requests, invocations: region.http.stats.invocations, ledgerRequests: api.httpApiRequests, ledgerApiInvocations: api.lambdaInvocations, timeouts: region.http.stats.timeouts },
      webSocket: {
        messageUnits: wsStats.messageUnitsIn + wsStats.messageUnitsOut,
        ledgerMessages: ledgerAll.webSocketMessages,
        invocations: wsStats.invocations,
        ledgerInvocations: region.ledger.total((t) => t.startsWith('agent-socket:')).lambdaInvocations,
        connectionMinutes: wsStats.connectionMs / 60_000,
        ledgerConnectionMinutes: ledgerAll.webSocketConnectionMinutes,
        managementCalls: wsStats.managementCalls,
      },
      untaggedAwsRequests: region.proxyStats.untagged,
      tick: { invocations: region.tickInvocations, throttled: region.tickThrottled, errors: region.tickErrors },
      awsActions: Object.fromEntries(region.proxyStats.actions),
      options: o,
    };
  } finally {
    o.progress?.('stopping the region');
    await region.stop();
  }
}

// ---- tables ----

const month = (hour: Units): Units => scaleUnits(hour, HOURS_PER_MONTH);
const dollars = (u: Units): number => costOf(u).total;

export function cloudCostTables(r: CloudCostResult): BenchTable[] {
  const mesos = mesosControlPlaneMonthly();
  const idleRows: Record<string, Cell>[] = [];
  const actionRows: Record<string, Cell>[] = [];
  const taskRows: Record<string, Cell>[] = [];
  for (const m of r.modes) {
    const i = m.idle;
    const agentMonth = dollars(month(i.agentHour));
    const fwMonth = dollars(month(i.frameworkHour));
    const leaderMonth = dollars(month(i.leaderHour));
    for (const n of r.options.sizes) {
      const total = n * agentMonth + r.options.frameworks * fwMonth + leaderMonth;
      const conc = n * i.agentConcurrency + r.options.frameworks * i.frameworkConcurrency + i.leaderConcurrency;
      idleRows.push({
        mode: m.mode.name,
        agents: n,
        frameworks: r.options.frameworks,
        '$/idle agent-month': agentMonth,
        '$/idle framework-month': fwMonth,
        'leader $/month': leaderMonth,
        'region $/month': total,
        'concurrent executions idle': conc,
        'vs Mesos control plane': total / mesos,
        'target ≤ $60 (1,000 + 5)': n === 1000 ? (total <= 60 ? 'met' : 'MISSED') : '',
      });
    }
    idleRows.push({ mode: 'always-on Mesos (3 masters + 3 ZooKeeper, m5.large)', agents: null, frameworks: null, 'region $/month': mesos, 'concurrent executions idle': 0 });
    const actorCount = { agent: i.sampleAgents, framework: i.sampleFrameworks, leader: 1, other: 1 } as const;
    for (const a of i.actions) {
      // The tick is one long invocation: its units are given per second it led.
      const per = a.actor === 'leader' ? (a.units.lambdaSeconds > 0 ? 1 / a.units.lambdaSeconds : 0) : a.count > 0 ? 1 / a.count : 0;
      const actors = actorCount[a.actor];
      const hourPerActor = a.actor === 'leader' ? m.idle.leaderHour : a.hourUnits;
      actionRows.push({
        mode: m.mode.name,
        action: a.actor === 'leader' ? `${a.tag} (per second led)` : a.tag,
        actor: a.actor,
        'in window': a.count,
        '/actor-hour': a.actor === 'leader' ? hourPerActor.lambdaInvocations : a.tag === CONNECTION_TAG ? `${(a.hourUnits.webSocketConnectionMinutes).toFixed(0)} conn-min` : a.perActorHour,
        'Lambda s each': a.units.lambdaSeconds * per,
        'GB-s each': a.units.lambdaGbSeconds * per,
        'RRU each': a.units.dynamoRru * per,
        'WRU each': a.units.dynamoWru * per,
        'DynamoDB req each': a.units.dynamoRequests * per,
        'WS msgs each': a.units.webSocketMessages * per,
        'concurrent/actor': a.actor === 'leader' ? i.leaderConcurrency : a.concurrency / actors,
        '$/actor-month': a.actor === 'leader' ? leaderMonthPart(a, m) : dollars(month(hourPerActor)),
      });
    }
    const t = m.taskRun;
    const c = costOf(t.units);
    const net = costOf(t.netUnits);
    taskRows.push({
      mode: m.mode.name,
      tasks: t.tasks,
      finished: t.finished,
      'ended otherwise': t.endedOtherwise,
      'run s': t.seconds,
      'API req/task': t.units.httpApiRequests / t.tasks,
      'Lambda GB-s/task': t.units.lambdaGbSeconds / t.tasks,
      'RRU/task': t.units.dynamoRru / t.tasks,
      'WRU/task': t.units.dynamoWru / t.tasks,
      '$/M tasks': (c.total / t.tasks) * 1e6,
      'Lambda $/M': (c.lambda / t.tasks) * 1e6,
      'API GW $/M': (c.apiGateway / t.tasks) * 1e6,
      'WS msgs/task': t.units.webSocketMessages / t.tasks,
      'DynamoDB $/M': (c.dynamo / t.tasks) * 1e6,
      '$/M tasks net of idle': (net.total / t.tasks) * 1e6,
      'launch→agent p50 ms': t.launchToAgentP50Ms,
      'ACCEPT sent→agent p50 ms': t.acceptSentToAgentP50Ms,
      'target p50 ≤ 100 ms': t.launchToAgentP50Ms <= 100 ? 'met' : 'MISSED',
      'RUNNING applied': t.runningApplied,
      'launches re-delivered': t.launchesDeliveredAgain,
    });
  }
  if (r.modes.length > 1) {
    const base = r.modes[0]!;
    for (const m of r.modes.slice(1)) {
      idleRows.push({
        mode: `ratio ${base.mode.name} / ${m.mode.name}`,
        agents: null,
        frameworks: null,
        '$/idle agent-month': dollars(month(base.idle.agentHour)) / dollars(month(m.idle.agentHour)),
        '$/idle framework-month': dollars(month(base.idle.frameworkHour)) / dollars(month(m.idle.frameworkHour)),
      });
    }
  }
  const o = r.options;
  const notes = [
    `Sampled and scaled: ${o.sampleAgents} agents and ${o.sampleFrameworks} idle frameworks (the Stratus SDK driver, SUPPRESSed) ran against the region for a ${r.modes[0]?.idle.windowSeconds.toFixed(0)} s window with the real intervals (agent heartbeat 15 s, long-polls ${o.pollSeconds ?? 20} s, leader tick leading 55 s of every minute, allocation rounds every 1 s); each action's units were booked, then scaled to one actor-hour and × 730 h. The leader's units were measured with ${o.sampleAgents} agents registered.`,
    'Region: the Lambda entry points (api-handler, leader-tick) called in-process with the events AWS sends (HTTP API payload 2.0 through test/support/api-gateway/http-api.ts, EventBridge and the API handler\'s Invoke trigger for the tick; reserved concurrency 1), DynamoDB on moto through a metering proxy; memory as cdk/lib configures it (API 1,024 MB, tick 1,024 MB).',
    'Units at the client: Lambda GB-s = measured duration × configured memory, invocations; HTTP API requests; DynamoDB RRU/WRU from item sizes (GetItem and table Queries strongly consistent, GSI Queries eventually; writes billed on the larger of the last-seen and the written image; transactions twice); SQS per 64 KB chunk.',
    'RecordIO-streaming frameworks: the Stratus SDK driver in stream mode against the REST API stand-in (test/support/api-gateway/rest-streaming.ts) and the scheduler-stream-handler entry point (128 MB); a stream holds one execution while open and re-reads the log head every second. REST streaming is billed per request (REST $3.50/M); the bytes streamed stay far below the 10 MB per response after which streaming is charged extra.',
    `WebSocket agents: the simulated agent over the real agent's socket client (src/agent/master-socket.ts) against the WebSocket stand-in (test/support/api-gateway/websocket-api.ts) running the agent-socket-handler entry point (256 MB): its calls are frames, its work is asked for when the master nudges (PostToConnection from whichever function changed it: API, agent socket, leader). Sampled with the ping every ${(o.socketPingMs ?? 5_000) / 1000} s and the safety work poll every ${(o.socketSafetyPollMs ?? 8_000) / 1000} s, each action's units booked per occurrence and scaled to the real rates (ping every 4 min = 15/h, safety poll every 10 min = 6/h); a reconnect at API Gateway's 2-hour limit played once per agent (0.5/h); connection-minutes as held (60/h). WebSocket messages: every frame in and every PostToConnection message out, per 32 KB; Management API calls themselves are free. The API and agent socket functions share one in-process master here (separate containers in AWS).`,
    'Leader: metered as the scheduled tick (leader-tick, 55 s of every minute at 1,024 MB, plus the API handler\'s Invoke trigger). A deployed region\'s leader is now the reactor (leader-reactor: the table\'s stream and an SQS timer queue, no schedule); the meter does not run it yet (it needs a stand-in for Lambda\'s stream event source mapping with the CDK\'s filter patterns and for the SQS poller), so "leader $/month" is the tick\'s, an upper bound for the reactor\'s.',
    'No peers configured, so no gossip rounds (SQS) and no gossip receiver invocations.',
    ...r.skipped.map((x) => `Not metered: ${x.mode.name}: ${x.why}.`),
  ];
  return [
    { title: 'Idle region: $/month at list prices (long-poll = today\'s design)', columns: ['mode', 'agents', 'frameworks', '$/idle agent-month', '$/idle framework-month', 'leader $/month', 'region $/month', 'concurrent executions idle', 'vs Mesos control plane', 'target ≤ $60 (1,000 + 5)'], rows: idleRows, notes },
    { title: 'Idle actions sampled (units per action, scaled per actor)', columns: ['mode', 'action', 'actor', 'in window', '/actor-hour', 'Lambda s each', 'GB-s each', 'RRU each', 'WRU each', 'DynamoDB req each', 'WS msgs each', 'concurrent/actor', '$/actor-month'], rows: actionRows },
    {
      title: `${o.tasks} short tasks end to end: $ per million tasks`,
      columns: Object.keys(taskRows[0] ?? {}),
      rows: taskRows,
      notes: [
        `${o.sampleAgents} simulated agents (bench/sim-agent.ts: the agent API for real, a containerizer stand-in that reaches RUNNING at once and ends each task FINISHED), ${o.taskCpus ?? 0.25} cpu tasks launched by one SDK framework through the HTTP API stand-in, updates acknowledged. $/M tasks counts everything billed during the run; "net of idle" subtracts what the idle agents, frameworks and leader cost over the same time.`,
      ],
    },
    { title: 'List prices (us-east-1)', columns: ['item', 'price'], rows: PRICE_LABELS.map((p) => ({ ...p })) },
  ];
}

/** The leader's month, spread over its actions by their share of the tick's units. */
function leaderMonthPart(a: ActionSample, m: ModeResult): number {
  const leaderTotal = dollars(month(m.idle.leaderHour));
  const all = m.idle.actions.filter((x) => x.actor === 'leader').reduce((n, x) => n + x.units.lambdaSeconds, 0);
  return all > 0 ? (leaderTotal * a.units.lambdaSeconds) / all : 0;
}

export const cloudCostSuite: BenchSuite = {
  name: 'cloud-cost',
  description: 'what a deployed region pays at list prices: idle agents and frameworks per month, $ per million short tasks (Lambda handlers + moto + API Gateway stand-ins)',
  async run(args): Promise<BenchTable[]> {
    const quick = args.includes('--quick');
    const r = await runCloudCost({
      sampleAgents: quick ? 4 : 10,
      sampleFrameworks: 5,
      windowMs: quick ? 25_000 : 45_000,
      modes: [LONG_POLL, RECORDIO_FRAMEWORKS, WEBSOCKET_AGENTS],
      sizes: [10, 100, 1000],
      frameworks: 5,
      tasks: quick ? 200 : 1000,
      progress: (m) => console.error(`cloud-cost: ${m}`),
    });
    const tables = cloudCostTables(r);
    tables.push({
      title: 'Meter consistency',
      columns: ['check', 'value'],
      rows: [
        { check: 'HTTP API requests (stand-in / ledger)', value: `${r.httpApi.requests} / ${r.httpApi.ledgerRequests}` },
        { check: 'API Lambda invocations (stand-in / ledger)', value: `${r.httpApi.invocations} / ${r.httpApi.ledgerApiInvocations}` },
        { check: 'integration timeouts (29 s)', value: r.httpApi.timeouts },
        { check: 'REST-streaming requests (stand-in / ledger)', value: `${r.restStreaming.requests} / ${r.restStreaming.ledgerRequests}` },
        { check: 'AWS requests without an action tag', value: r.untaggedAwsRequests },
        { check: 'WebSocket message units in+out (stand-in / ledger)', value: `${r.webSocket.messageUnits} / ${r.webSocket.ledgerMessages}` },
        { check: 'agent socket invocations (stand-in / ledger)', value: `${r.webSocket.invocations} / ${r.webSocket.ledgerInvocations}` },
        { check: 'WebSocket connection-minutes (stand-in / ledger)', value: `${r.webSocket.connectionMinutes.toFixed(2)} / ${r.webSocket.ledgerConnectionMinutes.toFixed(2)}` },
        { check: 'tick invocations / throttled / failed', value: `${r.tick.invocations} / ${r.tick.throttled} / ${r.tick.errors.length}${r.tick.errors.length ? ` (${[...new Set(r.tick.errors)].slice(0, 3).join('; ')})` : ''}` },
        { check: 'AWS requests by action', value: Object.entries(r.awsActions).map(([k, v]) => `${k} ${v}`).join(', ') },
      ],
    });
    return tables;
  },
};
