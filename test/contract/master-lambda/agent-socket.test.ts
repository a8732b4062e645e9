import { silentLogger } from '../../../src/core/logger.js';
import { startLocalServer } from '../../../src/master-lambda/local-server.js';
import { Master } from '../../../src/master-lambda/master.js';
import { MemoryItemStore } from '../../../src/state/memory-item-store.js';
import { AGENT_SOCKET_PATH } from '../../../src/wire/agent-socket.js';
import { agentSocketContract, CONTRACT_MASTER, contractAuthenticator } from './agent-socket.contract.js';

// The agent socket on the local server (`stratus dev`, `stratus master`): `ws` on the master's node server.

agentSocketContract('local server', async () => {
  const master = new Master({ store: new MemoryItemStore(), log: silentLogger, authenticator: contractAuthenticator(), config: CONTRACT_MASTER });
  const server = await startLocalServer(master, { port: 0 });
  master.start();
  return {
    socketUrl: `${server.url.replace(/^http/, 'ws')}${AGENT_SOCKET_PATH}`,
    schedulerUrl: server.url,
    registry: master.registry,
    close: async () => {
      await master.stop();
      await server.close();
    },
  };
});
