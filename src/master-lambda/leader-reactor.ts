import type { ChangeRecord } from '../state/change-feed.js';
import { itemKind } from '../state/change-feed.js';
import { isTerminal, type TaskState } from '../core/task-state.js';
import type { LeaderLease } from '../state/leader-lease.js';
import type { LeaderLoop } from './leader-loop.js';
import type { MasterContext } from './master-context.js';
import type { WakeTimer } from './wake-timer.js';

// The event-driven leader. It runs when something that matters changes (a batch from the
// change feed: DynamoDB Streams in a deployed region, the in-memory store's feed on one
// machine) or when its timer fires, never on a clock of its own. A pass takes (or renews) the
// lease -- in the same term when it was handed over cleanly --, runs the leader's work once
// (election duties when the term is new to this process, due duties, offer timeouts, one
// allocation round), and arms the timer for when the earliest time-triggered thing falls due.
//
// What the leader writes itself must not wake it again: offers, the lease, framework event logs,
// heartbeats and work markers are filtered out by key kind, and agent items by the versions the
// pass's own round wrote them at (its offers' counters).

export interface LeaderReactorOptions {
  readonly timer: WakeTimer;
  /** Hand the lease back after each pass (a Lambda invocation ends with it; the term goes on). */
  readonly releaseAfterPass?: boolean;
}

export interface ReactorStats {
  passes: number;
  /** Batches that held nothing the leader reacts to. */
  ignored: number;
  timerWakes: number;
  changeWakes: number;
  /** When the timer was last armed for (the master's clock), undefined when nothing is due. */
  armedFor: number | undefined;
}

/** Whether a change can give the leader work: resources freed, demand or a policy changed. */
export function wakesLeader(c: ChangeRecord): boolean {
  switch (itemKind(c.key)) {
    case 'agent': // registered, resized, freed (a task ended), health, drain; own writes are filtered later
    case 'framework': // subscribed, suppressed or revived, disconnected, removed
    case 'role': // weight or quota
      return true;
    case 'offer': // consumed, declined or rescinded: what is left is offered again
    case 'filter': // a REVIVE removed it, or it expired
      return c.kind === 'delete';
    case 'task': // only an end frees resources (a launch also consumes an offer, which wakes it)
      return c.kind === 'delete' || (c.item !== undefined && isTerminal(c.item.data.state as TaskState));
    default: // the lease, event logs and events, heartbeats, work markers, messages, documents
      return false;
  }
}

export class LeaderReactor {
  readonly stats: ReactorStats = { passes: 0, ignored: 0, timerWakes: 0, changeWakes: 0, armedFor: undefined };
  private pending: ChangeRecord[] = [];
  private timerDue = false;
  private running: Promise<void> | undefined;

  constructor(
    private readonly ctx: MasterContext,
    private readonly lease: LeaderLease,
    private readonly leader: LeaderLoop,
    private readonly options: LeaderReactorOptions,
  ) {}

  /** A batch from the change feed. Resolves when the passes it caused have run. */
  onChanges(batch: readonly ChangeRecord[]): Promise<void> {
    const relevant = batch.filter(wakesLeader);
    if (relevant.length === 0) {
      this.stats.ignored++;
      return this.running ?? Promise.resolve();
    }
    this.pending.push(...relevant);
    return this.kick();
  }

  /** The timer fired (or a safety wake-up). Resolves when the pass has run. */
  onTimer(): Promise<void> {
    this.timerDue = true;
    return this.kick();
  }

  /** Resolves once no pass runs. */
  async idle(): Promise<void> {
    while (this.running) await this.running;
  }

  private kick(): Promise<void> {
    this.running ??= this.drain().finally(() => {
      this.running = undefined;
      // Something arrived between the last check and now: go again.
      if (this.timerDue || this.pending.length) void this.kick();
    });
    return this.running;
  }

  private async drain(): Promise<void> {
    for (;;) {
      const own = this.leader.lastRoundAgentWrites;
      const changes = this.pending.splice(0).filter((c) => !(c.kind === 'put' && itemKind(c.key) === 'agent' && own.get(c.key.pk.slice('AGENT#'.length)) === c.item?.version));
      const timer = this.timerDue;
      this.timerDue = false;
      if (!timer && changes.length === 0) return;
      if (timer) this.stats.timerWakes++;
      else this.stats.changeWakes++;
      await this.pass();
    }
  }

  private async pass(): Promise<void> {
    this.stats.passes++;
    let leading = false;
    try {
      leading = await this.lease.acquire();
    } catch (e) {
      this.ctx.log.warn('lease attempt failed', { error: e });
    }
    if (!leading) {
      // Someone else leads (or the store failed): look again when a takeover could fall due.
      await this.arm(this.ctx.now() + (this.lease.takeoverDueIn() ?? this.lease.durationMs));
      return;
    }
    await this.leader.runOnce();
    await this.arm(this.ctx.now() + this.leader.nextDueIn());
    if (this.options.releaseAfterPass) {
      await this.leader.settle();
      await this.lease.release();
    }
  }

  private async arm(at: number): Promise<void> {
    this.stats.armedFor = Number.isFinite(at) ? at : undefined;
    if (Number.isFinite(at)) await this.options.timer.arm(at);
  }
}
