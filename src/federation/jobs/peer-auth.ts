// How this region authenticates to its peers' jobs APIs (federated jobs): an operator
// credential the peers accept, from STRATUS_PEER_AUTHORIZATION (a full Authorization header
// value, e.g. "Bearer <token>").

export function peerHeaders(env: NodeJS.ProcessEnv = process.env): { peerHeaders?: Record<string, string> } {
  const v = env.STRATUS_PEER_AUTHORIZATION;
  return v ? { peerHeaders: { Authorization: v } } : {};
}
