import { expect } from 'vitest';
import { add, EMPTY, format, type Resources } from '../../src/core/resources.js';
import { isTerminal } from '../../src/core/task-state.js';
import type { Registry } from '../../src/state/registry.js';

/**
 * The invariant every change keeps: an agent's `offered` is exactly the sum of its offers and
 * its `allocated` exactly the sum of its non-terminal tasks (so offered + allocated never pass
 * the total). Call it when the cluster is quiet (master stopped).
 */
export async function expectConsistentAccounting(registry: Registry): Promise<void> {
  const [agents, offers, tasks] = await Promise.all([registry.listAgents(), registry.listOffers(), registry.listTasks()]);
  for (const a of agents) {
    const offered = offers.filter((o) => o.agentId === a.id).reduce<Resources>((s, o) => add(s, o.resources), EMPTY);
    const allocated = tasks.filter((t) => t.agentId === a.id && !isTerminal(t.state)).reduce<Resources>((s, t) => add(s, t.resources), EMPTY);
    expect(format(a.offered), `offered on agent ${a.id}`).toBe(format(offered));
    expect(format(a.allocated), `allocated on agent ${a.id}`).toBe(format(allocated));
  }
}
