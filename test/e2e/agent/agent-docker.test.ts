import { describeWith } from '../../support/components.js';
import { agentLifecycleSuite } from '../../support/agent-lifecycle.js';

// The agent daemon's lifecycle on the Docker containerizer, with the Docker-only checks.
await describeWith(['docker'], 'agent daemon on Docker', () => agentLifecycleSuite('docker'));
