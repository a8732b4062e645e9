// A DECLINE with a refusal filter keeps an agent's resources away from one framework
// until the filter expires. The allocation round use case passes the live filters to the
// engine as a set of keys built here, so both sides agree on the format.

/** The key of a framework's refusal filter for an agent, as in `AllocationInput.filters`. */
export function declineFilterKey(frameworkId: string, agentId: string): string {
  return `${frameworkId}#${agentId}`;
}
