import { hostname } from 'node:os';
import { Master, storeFromEnv } from '../../master-lambda/master.js';
import { startServer } from '../../master-lambda/server.js';
import { parseFlags, type Command } from '../command.js';

// `stratus master`: one master process (the local server) on the in-memory Registry or, with
// STRATUS_TABLE set, on a DynamoDB table shared with other masters (leader election by lease).

const usage = `usage: stratus master [--port 5050] [--host 127.0.0.1] [--lease-ms 10000]

Runs a master: the Mesos v1 scheduler API, the agent API and the operator API on one port.
Environment: STRATUS_TABLE (DynamoDB table; in-memory when unset), AWS_ENDPOINT_URL, AWS_REGION.`;

export const masterCommand: Command = {
  name: 'master',
  summary: 'run a master process (local server)',
  usage,
  async run(argv) {
    const { values } = parseFlags(argv, {
      port: { type: 'string', default: '5050' },
      host: { type: 'string', default: '127.0.0.1' },
      'lease-ms': { type: 'string' },
      'holder-id': { type: 'string' },
    });
    const port = Number(values.port);
    const master = new Master({
      store: storeFromEnv(),
      config: { port, hostname: hostname(), ...(values['lease-ms'] ? { leaseDurationMs: Number(values['lease-ms']) } : {}) },
      ...(values['holder-id'] ? { holderId: values['holder-id'] } : {}),
    });
    const server = await startServer(master.api, { port, host: values.host });
    master.start();
    process.stdout.write(`stratus master listening on ${server.url} (lease holder id ${master.lease.holderId})\n`);
    await new Promise<void>((resolve) => {
      const stop = (): void => resolve();
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    });
    await master.stop();
    await server.close();
    return 0;
  },
};
