// Typed listeners, run one event at a time: an event's listeners all finish (async ones are
// awaited) before the next event's start, so a framework sees events in order.

type AnyListener = (event: never) => void | Promise<void>;

export class Listeners<M> {
  private readonly byName = new Map<keyof M, AnyListener[]>();
  private chain: Promise<unknown> = Promise.resolve();

  on<K extends keyof M>(name: K, listener: (event: M[K]) => void | Promise<void>): () => void {
    const list = this.byName.get(name) ?? [];
    list.push(listener as AnyListener);
    this.byName.set(name, list);
    return () => {
      const current = this.byName.get(name) ?? [];
      this.byName.set(
        name,
        current.filter((l) => l !== (listener as AnyListener)),
      );
    };
  }

  /** Runs the listeners of `name` after those of earlier events; resolves with the errors they threw. */
  emit<K extends keyof M>(name: K, event: M[K]): Promise<unknown[]> {
    const run = async (): Promise<unknown[]> => {
      const errors: unknown[] = [];
      for (const l of [...(this.byName.get(name) ?? [])]) {
        try {
          await (l as (event: M[K]) => void | Promise<void>)(event);
        } catch (e) {
          errors.push(e);
        }
      }
      return errors;
    };
    const result = this.chain.then(run, run);
    this.chain = result.catch(() => undefined);
    return result;
  }
}
