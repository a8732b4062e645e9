import { ConflictError } from '../core/errors.js';
import { contains, format, subtract, type Resources } from '../core/resources.js';

/**
 * An agent's `offered` or `allocated` less what a change gives back. The offers or tasks were
 * read before the agent; when the counter no longer covers them, another writer consumed or
 * released them in between (its transaction changed the agent too), so this is a conflict:
 * read everything again, rather than fail the call on a stale view.
 */
export function giveBack(counter: Resources, amount: Resources, field: 'agent.offered' | 'agent.allocated'): Resources {
  if (!contains(counter, amount)) {
    throw new ConflictError(`${field} ${format(counter)} no longer holds ${format(amount)}: changed concurrently`, field);
  }
  return subtract(counter, amount, field);
}
