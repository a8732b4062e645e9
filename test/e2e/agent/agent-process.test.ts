import { agentLifecycleSuite } from '../../support/agent-lifecycle.js';

// The agent daemon's lifecycle on the process containerizer: needs no Docker engine.
agentLifecycleSuite('process');
