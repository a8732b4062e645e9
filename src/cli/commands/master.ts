import { hostname } from 'node:os';
import { Master } from '../../master-lambda/master.js';
import { storeFromEnv } from '../../state/store-from-env.js';
import { DynamoDbItemStore } from '../../state/dynamodb-item-store.js';
import { startLocalServer } from '../../master-lambda/local-server.js';
import { parseFlags, UsageError, type Command } from '../command.js';
import { startJobsFramework } from '../../jobs/index.js';
import { attachFederationFromEnv } from '../../federation/env.js';
import { attachAutoscaler, ec2ProviderFromEnv, registryPendingTasks } from '../../autoscaler/index.js';
import { authenticatorFromEnv } from '../../http/credentials.js';

// `stratus master`: one master process (the local server) on the in-memory Registry or, with
// STRATUS_TABLE set, on a DynamoDB table shared with other masters (leader election by lease).

const usage = `usage: stratus master [--port 5050] [--host 127.0.0.1] [--lease-ms 10000] [--holder-id ID] [--jobs]

Runs a master: the Mesos v1 scheduler API, the agent API and the operator API on one port.
Several masters on one DynamoDB table elect a leader by lease; all of them serve calls.
Environment: STRATUS_TABLE (DynamoDB table; in-memory when unset), AWS_ENDPOINT_URL, AWS_REGION;
STRATUS_CREDENTIALS or STRATUS_CREDENTIALS_FILE (authentication on);
STRATUS_REGION with STRATUS_PEERS (and STRATUS_GOSSIP_QUEUES) to gossip with peer regions over SQS;
STRATUS_AGENT_GROUPS (group -> Auto Scaling group) to autoscale agent groups (rules: --autoscaler-rules FILE).
--jobs also runs the built-in jobs framework in this process (run it on one master of the region, as
Marathon beside a Mesos master) and serves /api/v1/jobs; with authentication on, it signs in as
STRATUS_JOBS_PRINCIPAL with STRATUS_JOBS_SECRET.`;

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
      'autoscaler-rules': { type: 'string' },
      jobs: { type: 'boolean', default: false },
    });
    const port = Number(values.port);
    const authenticator = authenticatorFromEnv();
    const jobsCredentials = values.jobs ? jobsCredentialsFromEnv(authenticator !== undefined) : undefined;
    const store = storeFromEnv();
    // A missing table is a setup mistake: say so once, rather than failing every lease attempt.
    if (store instanceof DynamoDbItemStore) await store.checkTable();
    const master = new Master({
      store,
      config: { port, hostname: hostname(), ...(values['lease-ms'] ? { leaseDurationMs: Number(values['lease-ms']) } : {}) },
      ...(values['holder-id'] ? { holderId: values['holder-id'] } : {}),
      ...(authenticator ? { authenticator } : {}),
    });
    const server = await startLocalServer(master, { port, host: values.host });
    master.start();
    // The built-in jobs framework, subscribed to this master like any framework.
    const jobs = values.jobs
      ? await startJobsFramework({
          master: server.url,
          registry: master.registry,
          router: master.api,
          ...(jobsCredentials ? { credentials: jobsCredentials } : {}),
          log: master.ctx.log.child({ component: 'jobs' }),
        })
      : undefined;
    // Federation: every master receives; only the lease holder sends, judges peers and decides
    // federated jobs (whose child jobs this region's jobs framework runs, wherever it runs).
    const fed = attachFederationFromEnv(master, { run: 'process', api: server.url });
    // Autoscaling of the region's EC2 Auto Scaling groups (STRATUS_AGENT_GROUPS), leader only.
    const autoscaler = process.env.STRATUS_AGENT_GROUPS
      ? await attachAutoscaler(master, {
          provider: ec2ProviderFromEnv(),
          pendingTasks: jobs ? () => jobs.pendingTasks() : registryPendingTasks(master.registry),
          ...(values['autoscaler-rules'] ? { rulesFile: values['autoscaler-rules'] } : {}),
        })
      : undefined;
    process.stdout.write(`stratus master listening on ${server.url} (lease holder id ${master.lease.holderId})\n`);
    if (jobs) process.stdout.write(`jobs framework running: stratus run/jobs/ps --master ${server.url}\n`);
    await new Promise<void>((resolve) => {
      const stop = (): void => resolve();
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    });
    await autoscaler?.stop();
    await jobs?.stop();
    await fed?.stop();
    await master.stop();
    await server.close();
    return 0;
  },
};

/** The jobs framework's credentials when the master authenticates: a principal and its secret. */
function jobsCredentialsFromEnv(authenticating: boolean): { principal: string; secret: string } | undefined {
  const principal = process.env.STRATUS_JOBS_PRINCIPAL;
  const secret = process.env.STRATUS_JOBS_SECRET;
  if (!authenticating) return undefined;
  if (!principal || !secret) throw new UsageError('--jobs with authentication on needs STRATUS_JOBS_PRINCIPAL and STRATUS_JOBS_SECRET (a framework principal of the credentials)');
  return { principal, secret };
}
