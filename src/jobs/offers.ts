import type { DriverLogger, Offer, SchedulerDriver } from '../sdk/index.js';
import { offerInterestCall, type OfferInterestCall } from './offer-interest.js';

// The offers the jobs framework holds between passes, what goes back (DECLINE), and whether it
// asks for more (REVIVE / SUPPRESS).

export interface OfferStats {
  declined: number;
  revives: number;
  suppresses: number;
}

export class HeldOffers {
  private readonly held = new Map<string, Offer>();
  private suppressed: boolean | undefined;
  private declinedSinceRevive = false;
  private lastLaunchable: ReadonlySet<string> = new Set();

  constructor(
    private readonly driver: () => SchedulerDriver | undefined,
    private readonly stats: OfferStats,
    private readonly log: DriverLogger,
  ) {}

  get size(): number {
    return this.held.size;
  }

  list(): Offer[] {
    return [...this.held.values()];
  }

  add(offers: readonly Offer[]): void {
    for (const o of offers) this.held.set(o.id, o);
  }

  /** Rescinded, or used by a launch. */
  remove(ids: readonly string[]): void {
    for (const id of ids) this.held.delete(id);
  }

  /** A new subscription: the master withdrew the previous one's offers and knows no suppression. */
  reset(): void {
    this.held.clear();
    this.suppressed = undefined;
  }

  /** Declines the offers still held (of `among`, or all of them). */
  async decline(refuseSeconds: number, among?: readonly string[]): Promise<void> {
    const ids = (among ?? [...this.held.keys()]).filter((id) => this.held.has(id));
    this.remove(ids);
    if (ids.length === 0) return;
    this.stats.declined += ids.length;
    this.declinedSinceRevive = true;
    await this.driver()
      ?.decline(ids, { refuse_seconds: refuseSeconds })
      .catch((e: unknown) => this.log.warn('decline failed', { error: e }));
  }

  /** Tells the master whether offers are wanted for `launchable` slots; returns the call that went through. */
  async adjustInterest(launchable: readonly string[]): Promise<OfferInterestCall> {
    const keys = new Set(launchable);
    const call = offerInterestCall(keys, { suppressed: this.suppressed, declinedSinceRevive: this.declinedSinceRevive, lastLaunchable: this.lastLaunchable });
    this.lastLaunchable = keys;
    const driver = this.driver()!;
    try {
      if (call === 'revive') {
        await driver.revive();
        this.stats.revives++;
        this.suppressed = false;
        this.declinedSinceRevive = false;
      } else if (call === 'suppress') {
        await driver.suppress();
        this.stats.suppresses++;
        this.suppressed = true;
      }
      return call;
    } catch (e) {
      this.suppressed = undefined;
      // A driver stopped on purpose (the framework is stopping) refuses calls: that is no fault.
      if (driver.stopReason !== undefined) this.log.debug('revive/suppress skipped: the driver stopped', { reason: driver.stopReason });
      else this.log.warn('revive/suppress failed', { error: e });
      return undefined;
    }
  }
}
