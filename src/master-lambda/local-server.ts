import { serve, type RunningServer } from '../http/node-server.js';
import type { Master } from './master.js';

// The local server: a master's API on node:http, for `stratus dev`, `stratus master` and tests.
// SUBSCRIBE answers as a chunked RecordIO stream, exactly as a Mesos master does. In a deployed
// region the Lambda entry points (src/master-lambda/lambda/) serve the same router instead.

export type { RunningServer } from '../http/node-server.js';

export function startLocalServer(master: Pick<Master, 'api'>, options: { port?: number; host?: string } = {}): Promise<RunningServer> {
  return serve(master.api, { port: options.port ?? 5050, ...(options.host !== undefined ? { host: options.host } : {}) });
}
