import { ConflictError } from '../../core/errors.js';
import type { Registry } from '../../state/registry.js';

// A sender's incarnation: a fresh one every time a process starts sending for its region (a
// restart, or a new lease holder), and always larger than every earlier one, so a receiver
// can tell a restarted region's digests from delayed ones of its previous life. It is
// max(last + 1, this region's wall clock in ms): the counter in the region's own table keeps
// it growing if the clock steps back, the clock keeps it growing if the table is recreated.
// Only one region's own clock is involved: peers never compare clocks with each other.

export const FEDERATION_COLLECTION = 'federation';
const INCARNATION_ID = 'incarnation';

export async function allocateIncarnation(registry: Registry, epoch: number | undefined, wallClock: () => number = Date.now): Promise<number> {
  for (let attempt = 0; ; attempt++) {
    const doc = await registry.getDocument<{ last: number }>(FEDERATION_COLLECTION, INCARNATION_ID);
    const last = typeof doc?.data.last === 'number' ? doc.data.last : 0;
    const next = Math.max(last + 1, Math.floor(wallClock()));
    const tx = registry.transaction();
    // Fenced: a paused ex-leader cannot take an incarnation (and then send) after losing the lease.
    if (epoch !== undefined) tx.fence(epoch);
    tx.putDocument(FEDERATION_COLLECTION, INCARNATION_ID, { last: next }, doc ? { version: doc.version } : 'absent');
    try {
      await tx.commit();
      return next;
    } catch (e) {
      if (!(e instanceof ConflictError) || attempt >= 8) throw e;
    }
  }
}
