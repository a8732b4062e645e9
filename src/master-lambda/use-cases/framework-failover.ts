import type { MasterContext } from '../master-context.js';
import { checkInterval } from './agent-health.js';
import { retryOnConflict } from '../retry.js';
import { LivenessWatch } from './liveness-watch.js';
import { releaseOffers } from './release-offers.js';
import { removeFramework } from './teardown.js';

// Leader duty: a framework whose connection went quiet is disconnected (its offers withdrawn,
// no new ones); one disconnected longer than its failover_timeout is removed and its tasks
// killed. A framework that resubscribes in time continues with its tasks intact.

export class FrameworkFailover {
  private lastRun = -Infinity;
  constructor(readonly watch = new LivenessWatch()) {}

  private every: number | undefined;
  private limit: number | undefined;
  private watching = false;
  private disconnected = false;

  readonly duty = Object.assign(async (ctx: MasterContext): Promise<void> => {
    if (performance.now() - this.lastRun < checkInterval(ctx.config.frameworkDisconnectMs)) return;
    this.lastRun = performance.now();
    this.every = checkInterval(ctx.config.frameworkDisconnectMs);
    this.limit = ctx.config.frameworkDisconnectMs;
    const [frameworks, beats] = await Promise.all([ctx.registry.listFrameworks(), ctx.registry.listLiveness('framework')]);
    this.watch.observe(beats);
    for (const fw of frameworks) {
      if (fw.removedAt !== undefined) {
        this.watch.forget(fw.id);
        continue;
      }
      if (fw.connected) {
        this.watch.leftState(fw.id);
        // Streams and long-polls beat while open; a master that died holding a stream cannot say goodbye.
        if (this.watch.quietFor(fw.id) >= ctx.config.frameworkDisconnectMs) await disconnect(ctx, fw.id, fw.streamId);
        continue;
      }
      const offers = await ctx.registry.listOffersByFramework(fw.id);
      if (offers.length) await releaseOffers(ctx, offers, { rescind: true });
      if (this.watch.inStateFor(fw.id) >= fw.info.failoverTimeoutSeconds * 1000) {
        await removeFramework(ctx, fw, `failover timeout (${fw.info.failoverTimeoutSeconds} s) expired`);
        this.watch.forget(fw.id);
      }
    }
    this.watching = frameworks.some((f) => f.removedAt === undefined);
    this.disconnected = frameworks.some((f) => f.removedAt === undefined && !f.connected);
  }, { dueIn: () => this.dueIn() });

  /**
   * For an event-driven leader: when the quietest connected framework could pass the disconnect
   * limit, but a look at least every quarter limit (a silent one is caught within 1.25 limits);
   * every check interval while one is disconnected (its failover timeout runs); nothing while
   * no framework is registered.
   */
  private dueIn(): number | undefined {
    if (this.every === undefined || this.limit === undefined) return 0;
    if (!this.watching) return undefined;
    const sinceLook = performance.now() - this.lastRun;
    const quiet = (this.watch.dueIn(this.limit) ?? Infinity) + sinceLook;
    const next = this.disconnected ? this.every : Math.max(this.every, Math.min(this.limit / 4, quiet));
    return Math.max(0, next - sinceLook);
  }
}

async function disconnect(ctx: MasterContext, frameworkId: string, streamId: string): Promise<void> {
  await retryOnConflict(async () => {
    const fw = await ctx.registry.getFramework(frameworkId);
    if (!fw || !fw.connected || fw.streamId !== streamId) return;
    await ctx.registry.transaction().putFramework({ ...fw, connected: false, disconnectedAt: ctx.now() }, { version: fw.version }).commit();
  });
  ctx.log.warn('framework disconnected (no sign of life)', { frameworkId });
}
