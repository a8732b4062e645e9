import { randomUUID } from 'node:crypto';
import { backoffDelay, type BackoffOptions } from '../core/backoff.js';
import { sleep } from '../core/sleep.js';
import { TransactionConflict, TransactionContention, type Item, type ItemStore, type WriteOp } from './item-store.js';
import { keys } from './keys.js';
import { LEASE_NAME } from './registry.js';

// The leader lease: one item holding the holder id, an epoch and a record version number
// (rvn) that changes at every renewal. The epoch is the term, the fencing token leader-only
// writes carry. A term ends only when its holder fails: a lease taken over after it ran out
// (a crash, a pause, our own lease lapsing locally) starts epoch + 1 and fences every write
// the old holder may still have in flight. A lease its holder *released* is taken in the same
// epoch: a holder releases only after its leader work has stopped and every write of it has
// returned (LeaderLoop.stop), so no write of the old holder can arrive under that epoch any
// more, and its offers, agent sessions and term carry on under the successor.
//
// Taking over never compares clocks across machines: a contender waits until it has seen the
// same rvn, unchanged, for a full lease duration on its own monotonic clock (as the DynamoDB
// lock client does), counted from when the read that first showed it returned. The holder
// counts its lease from the moment it *sent* its last successful renewal, so it always gives
// up before any contender can take over, however slow the requests.

export interface LeaseOptions {
  readonly name?: string;
  /** Unique per process incarnation. */
  readonly holderId?: string;
  readonly durationMs?: number;
  /** Monotonic milliseconds; tests inject a fake. */
  readonly now?: () => number;
  /** The holder stops this long before its lease would end, against clock-rate drift. */
  readonly safetyMarginMs?: number;
  /** Pauses between attempts after contention; tests inject an instant one. */
  readonly sleep?: (ms: number) => Promise<void>;
}

/** Contention (a concurrent transaction on the lease item) is retried this often, this fast. */
const CONTENTION_ATTEMPTS = 5;
const CONTENTION_BACKOFF: BackoffOptions = { initialMs: 10, maxMs: 200, jitter: 1 };

export const DEFAULT_LEASE_DURATION_MS = 10_000;

interface LeaseData {
  holder: string;
  epoch: number;
  rvn: string;
  durationMs: number;
}

export interface LeaseView {
  readonly holder: string;
  readonly epoch: number;
  readonly durationMs: number;
}

/** How this holder last came to hold the lease, on its own clock (tests, logs). */
export interface LeaseAcquisition {
  readonly epoch: number;
  /** first: no lease yet; released: a clean handover (same epoch); lapsed: our own lease ran out; takeover: a silent holder's. */
  readonly how: 'first' | 'released' | 'lapsed' | 'takeover';
  /** When the winning write was sent. */
  readonly at: number;
}

export class LeaderLease {
  readonly name: string;
  readonly holderId: string;
  readonly durationMs: number;
  private readonly now: () => number;
  private readonly margin: number;
  private readonly pause: (ms: number) => Promise<void>;
  private held: { epoch: number; version: number; renewedAt: number } | undefined;
  private observed: { rvn: string; at: number; durationMs: number } | undefined;
  /** When this holder sent its last successful lease write (acquire or renewal), on its clock. */
  lastWriteSentAt: number | undefined;
  lastAcquisition: LeaseAcquisition | undefined;
  /** A write of this term ended without an answer (a transport error): it may still commit. */
  private uncertain = false;

  constructor(
    private readonly store: ItemStore,
    options: LeaseOptions = {},
  ) {
    this.name = options.name ?? LEASE_NAME;
    this.holderId = options.holderId ?? `master-${randomUUID()}`;
    this.durationMs = options.durationMs ?? DEFAULT_LEASE_DURATION_MS;
    this.now = options.now ?? (() => performance.now());
    this.margin = options.safetyMarginMs ?? Math.min(1000, this.durationMs / 10);
    this.pause = options.sleep ?? sleep;
  }

  /** The epoch this process leads in, while its lease has not run out locally. */
  get epoch(): number | undefined {
    return this.isLeader() ? this.held!.epoch : undefined;
  }

  isLeader(): boolean {
    if (!this.held) return false;
    if (this.now() - this.held.renewedAt >= this.durationMs - this.margin) {
      this.held = undefined;
      return false;
    }
    return true;
  }

  /**
   * For a contender: milliseconds until the lease it is watching may be taken over, if it has
   * not changed by then (undefined when it watches none). Lets a standby try at that moment.
   */
  takeoverDueIn(): number | undefined {
    if (this.held || !this.observed) return undefined;
    return Math.max(0, this.observed.at + this.observed.durationMs - this.now());
  }

  /** Who holds the lease now, as stored. */
  async read(): Promise<LeaseView | undefined> {
    const item = await this.store.get(keys.lease(this.name));
    if (!item) return undefined;
    const d = item.data as unknown as LeaseData;
    return { holder: d.holder, epoch: d.epoch, durationMs: d.durationMs };
  }

  /**
   * One attempt to become or stay leader: renews when held, takes a released lease at once,
   * and takes a held one only after seeing it unchanged for its full duration.
   */
  async acquire(): Promise<boolean> {
    if (this.held) return this.renew();
    const t = this.now();
    const item = await this.store.get(keys.lease(this.name));
    if (!item) return this.write(t, 1, 'absent', 'first');
    const d = item.data as unknown as LeaseData;
    // Released on purpose: the term goes on, in the same epoch (see the top of this file).
    if (d.holder === '') return this.write(t, d.epoch, item, 'released');
    // Still ours after our own lease ran out locally (nobody wrote since, or the version would
    // differ): take it at once, but in a new epoch, since writes of our lapsed term may still land.
    if (d.holder === this.holderId) return this.write(t, d.epoch + 1, item, 'lapsed');
    if (!this.observed || this.observed.rvn !== d.rvn) {
      // Dated when the read returned: the renewal we saw was sent before then, whatever the
      // read's latency, so the holder's own count ends before ours does.
      this.observed = { rvn: d.rvn, at: this.now(), durationMs: d.durationMs };
      return false;
    }
    if (t - this.observed.at >= d.durationMs) return this.write(t, d.epoch + 1, item, 'takeover');
    return false;
  }

  /** Extends a held lease; false (and no longer leader) when someone else took it. */
  async renew(): Promise<boolean> {
    if (!this.isLeader()) return false;
    const held = this.held!;
    const t = this.now();
    try {
      const op: WriteOp = {
        op: 'put',
        item: { ...keys.lease(this.name), attrs: { epoch: held.epoch }, data: this.data(held.epoch) },
        expect: { version: held.version },
      };
      await this.transact([op], () => this.isLeader());
    } catch (e) {
      if (e instanceof TransactionConflict) {
        this.held = undefined;
        return false;
      }
      throw e; // a failed request: the lease keeps running out locally
    }
    // Only advance if nothing else changed `held` meanwhile.
    if (this.held === held) this.held = { epoch: held.epoch, version: held.version + 1, renewedAt: t };
    this.lastWriteSentAt = t;
    return this.isLeader();
  }

  /**
   * Forgets the lease locally without a write, as a crash would: it runs out in the store, and
   * even this holder takes it again only in a new epoch.
   */
  abandon(): void {
    this.held = undefined;
  }

  /**
   * A write sent during this term ended without a definite answer (a dropped connection, a
   * timeout): it may still be applied after we return. The term is then not handed on: the next
   * release abandons the lease instead, so the successor takes epoch + 1 and fences that write.
   */
  noteUncertainWrite(): void {
    if (this.held) this.uncertain = true;
  }

  /**
   * Gives the lease up so a successor takes it at once, in the same epoch. Call it only once
   * no leader write of this holder is in flight (LeaderLoop.stop awaits them): the successor
   * writes under the same fencing token.
   */
  async release(): Promise<void> {
    const held = this.held;
    this.held = undefined;
    if (!held) return;
    if (this.uncertain) {
      this.uncertain = false;
      return; // left to lapse: see noteUncertainWrite
    }
    try {
      const op: WriteOp = {
        op: 'put',
        item: { ...keys.lease(this.name), attrs: { epoch: held.epoch }, data: { ...this.data(held.epoch), holder: '' } },
        expect: { version: held.version },
      };
      await this.transact([op], () => true);
    } catch (e) {
      // Lost (someone took over) or still contended: the lease then simply runs out.
      if (!(e instanceof TransactionConflict) && !(e instanceof TransactionContention)) throw e;
    }
  }

  /**
   * One write to the lease item, retried while another transaction on it is in flight
   * (DynamoDB cancels such a write without checking its condition: it is no sign of losing
   * the lease, and must not be taken for one) and while `worthIt()` holds.
   */
  private async transact(ops: readonly WriteOp[], worthIt: () => boolean): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        await this.store.transact(ops);
        return;
      } catch (e) {
        if (!(e instanceof TransactionContention) || attempt >= CONTENTION_ATTEMPTS || !worthIt()) throw e;
        await this.pause(backoffDelay(attempt, CONTENTION_BACKOFF));
      }
    }
  }

  private data(epoch: number): { holder: string; epoch: number; rvn: string; durationMs: number } {
    return { holder: this.holderId, epoch, rvn: randomUUID(), durationMs: this.durationMs };
  }

  private async write(t: number, epoch: number, current: Item | 'absent', how: LeaseAcquisition['how']): Promise<boolean> {
    try {
      const op: WriteOp = {
        op: 'put',
        // The epoch is an attribute too: fenced writes check it with a condition.
        item: { ...keys.lease(this.name), attrs: { epoch }, data: this.data(epoch) },
        expect: current === 'absent' ? 'absent' : { version: current.version },
      };
      await this.transact([op], () => true);
    } catch (e) {
      if (e instanceof TransactionConflict || e instanceof TransactionContention) return false;
      throw e;
    }
    this.observed = undefined;
    this.held = { epoch, version: current === 'absent' ? 1 : current.version + 1, renewedAt: t };
    this.lastWriteSentAt = t;
    this.lastAcquisition = { epoch, how, at: t };
    this.uncertain = false;
    return true;
  }
}
