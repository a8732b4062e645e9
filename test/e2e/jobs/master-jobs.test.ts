import { afterAll, beforeAll, expect, it } from 'vitest';
import { JobsClient } from '../../../src/jobs/client.js';
import { generateDevCredentials } from '../../../src/http/credentials.js';
import { startMasterProcess, type MasterProcess } from '../../support/master-process.js';
import { TestAgent } from '../../support/test-agent.js';
import { waitUntil } from '../../support/wait.js';

// `stratus master --jobs`: a master process that also runs the built-in jobs framework (as
// Marathon beside a Mesos master), so a region outside `stratus dev` can run services.

let master: MasterProcess;
const agents: TestAgent[] = [];

beforeAll(async () => {
  master = await startMasterProcess('jobs-master', {}, ['--jobs']);
  for (const zone of ['a', 'b']) agents.push(await new TestAgent({ master: master.url, hostname: `host-${zone}`, cpus: 2, mem: 2048, attributes: { zone } }).start());
}, 60_000);

afterAll(async () => {
  for (const a of agents) await a.stop();
  await master?.kill('SIGTERM');
});

it('serves the jobs API and runs a submitted service spread over the zones', async () => {
  expect(master.output()).toContain(`jobs framework running: stratus run/jobs/ps --master ${master.url}`);
  const jobs = new JobsClient(master.url);
  await jobs.submit({ name: 'web', instances: 2, cpus: 0.5, mem: 64, command: 'serve' });
  const job = await waitUntil(
    async () => {
      const j = await jobs.get('web');
      return j.counts.running === 2 ? j : undefined;
    },
    30_000,
    'both instances running',
  );
  expect(new Set(job.instances.map((i) => i.zone))).toEqual(new Set(['a', 'b']));
});

it('answers a job with zero instances with a 400 naming the field', async () => {
  await expect(new JobsClient(master.url).submit({ name: 'none', instances: 0, cpus: 0.5, mem: 64, command: 'x' })).rejects.toMatchObject({ status: 400, field: 'instances' });
});

it('refuses --jobs with authentication on but no framework credentials for it', async () => {
  const credentials = JSON.stringify(generateDevCredentials().config);
  const env = { STRATUS_CREDENTIALS: credentials, STRATUS_JOBS_PRINCIPAL: '', STRATUS_JOBS_SECRET: '' };
  await expect(startMasterProcess('jobs-no-creds', env, ['--jobs'])).rejects.toThrow(/exited with 2[\s\S]*STRATUS_JOBS_PRINCIPAL and STRATUS_JOBS_SECRET/);
});
