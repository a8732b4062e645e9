import type { Liveness } from '../../state/registry.js';

// Who has gone quiet, judged without comparing clocks across machines: the leader notes when
// it last saw each heartbeat counter change, on its own monotonic clock. A new leader starts
// with no observations, so it waits a full timeout before judging anyone (the safe side).

export class LivenessWatch {
  private readonly seen = new Map<string, { beats: number; at: number }>();
  private readonly since = new Map<string, number>();

  constructor(private readonly now: () => number = () => performance.now()) {}

  /** Records the current counters. */
  observe(beats: readonly Liveness[]): void {
    const t = this.now();
    for (const b of beats) {
      const prev = this.seen.get(b.id);
      if (!prev || prev.beats !== b.beats) this.seen.set(b.id, { beats: b.beats, at: t });
    }
  }

  /** Milliseconds since `id`'s counter last changed (or since we first looked for it). */
  quietFor(id: string): number {
    const t = this.now();
    let s = this.seen.get(id);
    if (!s) this.seen.set(id, (s = { beats: -1, at: t }));
    return t - s.at;
  }

  /** Milliseconds `id` has been in some state, counting from the first call (e.g. disconnected). */
  inStateFor(id: string): number {
    const t = this.now();
    if (!this.since.has(id)) this.since.set(id, t);
    return t - this.since.get(id)!;
  }

  /**
   * Milliseconds until the quietest watched counter has been quiet for `limit` (undefined when
   * none is watched): the earliest moment a timeout can fall due, if nothing beats meanwhile.
   */
  dueIn(limit: number): number | undefined {
    if (this.seen.size === 0) return undefined;
    const t = this.now();
    let earliest = Infinity;
    for (const s of this.seen.values()) earliest = Math.min(earliest, s.at);
    return Math.max(0, earliest + limit - t);
  }

  leftState(id: string): void {
    this.since.delete(id);
  }

  forget(id: string): void {
    this.seen.delete(id);
    this.since.delete(id);
  }
}
