import type { MasterContext } from '../master-context.js';
import { releaseOffers } from './release-offers.js';

// Offers not used within the offer timeout, and offers a previous leader made, are rescinded
// (RESCIND event) and their resources return to the pool.

export async function expireOffers(ctx: MasterContext, epoch: number): Promise<number> {
  const now = ctx.now();
  // Only offers of *earlier* epochs: a paused ex-leader must never rescind its successor's offers.
  const stale = (await ctx.registry.listOffers()).filter((o) => o.expiresAt <= now || o.epoch < epoch);
  if (stale.length === 0) return 0;
  const n = await releaseOffers(ctx, stale, { rescind: true });
  ctx.log.info('offers rescinded', { count: n, epoch });
  return n;
}
