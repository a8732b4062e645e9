// Whether the framework wants offers: SUPPRESS when no slot waits for a task, REVIVE when some
// do and the master may be holding offers back (suppressed, or not known since subscribing),
// and again when new slots wait after a decline (the declined hosts are refused for a while).

export interface OfferInterest {
  /** What the master was last told; undefined when not known (new subscription, failed call). */
  readonly suppressed: boolean | undefined;
  /** Offers were declined since the last REVIVE. */
  readonly declinedSinceRevive: boolean;
  /** The slots that waited at the previous step, `<job>/<index>`. */
  readonly lastLaunchable: ReadonlySet<string>;
}

export type OfferInterestCall = 'revive' | 'suppress' | undefined;

export function offerInterestCall(launchable: ReadonlySet<string>, state: OfferInterest): OfferInterestCall {
  if (launchable.size === 0) return state.suppressed !== true ? 'suppress' : undefined;
  const fresh = [...launchable].some((k) => !state.lastLaunchable.has(k));
  return state.suppressed !== false || (fresh && state.declinedSinceRevive) ? 'revive' : undefined;
}
