// The agent daemon (what `stratus agent` and `stratus dev` run) and its parts.
export { createAgent, type AgentDaemon, type AgentEvent, type AgentHealth, type AgentListener, type AgentTask } from './agent.js';
export type { AgentOptions, AgentTiming } from './options.js';
export type { ContainerizerMode } from './containerizers.js';
export { DEFAULT_PORTS, formatPortRanges, parseAttributes, parsePortRanges } from './host-resources.js';
