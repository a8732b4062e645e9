import { serve, type RunningServer } from '../http/node-server.js';
import { attachAgentSocket } from './agent-socket/local-socket-server.js';
import type { Master } from './master.js';

// The local server: a master's API on node:http, for `stratus dev`, `stratus master` and tests.
// SUBSCRIBE answers as a chunked RecordIO stream, exactly as a Mesos master does. In a deployed
// region the Lambda entry points (src/master-lambda/lambda/) serve the same router instead.
// Given the whole master, it also accepts agents' WebSockets at /api/v1/agents/socket.

export type { RunningServer } from '../http/node-server.js';

export async function startLocalServer(master: Pick<Master, 'api'> & Partial<Pick<Master, 'ctx'>>, options: { port?: number; host?: string } = {}): Promise<RunningServer> {
  const running = await serve(master.api, { port: options.port ?? 5050, ...(options.host !== undefined ? { host: options.host } : {}) });
  if (master.ctx === undefined) return running;
  const socket = attachAgentSocket(running.server, master.ctx, master.api.auth);
  return {
    ...running,
    close: () => {
      socket.close();
      return running.close();
    },
  };
}
