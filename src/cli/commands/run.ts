import { FederatedJobsClient } from '../../federation/jobs/client.js';
import type { RegionPolicy } from '../../federation/jobs/policy.js';
import { JobsClient, type JobSpecInput } from '../../jobs/index.js';
import { masterUrl, parseFlags, UsageError, type Command, authHeaders, numberFlag } from '../command.js';
import { progressSummary, waitForJob, type WaitOutcome } from '../job-wait.js';
import { ProgressDisplay } from '../progress-display.js';

// `stratus run`: submits a job to the built-in jobs framework. Everything after `--` is the
// command: one word is a shell command line, several are an argv run without a shell. With
// --regions or --region-weights the job is federated: submitted once to this master's region
// (its home), which runs it across regions (POST /api/v1/federation/jobs). It then waits until
// the instances run (or cannot be placed, or fail) unless --detach.

const usage = `usage: stratus run --name NAME [flags] [-- COMMAND...]

Submits a service (kept at N instances, spread over zones) or a batch job (run to completion),
then waits, showing progress, until every instance is RUNNING (a batch instance may also have
FINISHED). It exits 0 then; 1 when a task fails, when instances cannot be placed (with the
reason, as stratus jobs NAME shows it) or at --timeout; 130 on Ctrl-C. The job stays
submitted in every case (stratus scale NAME 0, or DELETE /api/v1/jobs/NAME, removes it).
  --detach               return once submitted, without waiting
  --timeout SECONDS      wait at most this long (default 300)
  --name NAME            the job's name (lower-case letters, digits, dashes)
  --instances N          instances (default 1)
  --cpus C               cores per instance (default 0.1)
  --mem MIB              memory per instance in MiB (default 64)
  --disk MIB             disk per instance in MiB (default 0)
  --ports N              host ports per instance, as $PORT0.. (default 0)
  --image IMAGE          run in this Docker image (e.g. stratus/busybox:latest)
  --type service|batch   default service
  --retries N            batch: relaunches of a failed instance (default 3)
  --zone-spread MODE     hard (default), soft or off
  --max-unavailable N    rolling updates take down at most N instances at once (default 1)
  --unique-host          at most one instance per host
  --attr NAME=V1,V2      only on hosts whose attribute NAME is one of the values (repeatable)
  --env KEY=VALUE        environment variable (repeatable)
  --label KEY=VALUE      task label (repeatable)
  --kill-grace SECONDS   between SIGTERM and SIGKILL
  --regions R=N,...      federate: N instances in each region R (instead of --instances)
  --region-weights R=W,...  federate: --instances in all, spread over regions by weight
  --master URL           master (default $STRATUS_MASTER or http://127.0.0.1:5050)

examples:
  stratus run --name web --instances 6 --cpus 0.5 --mem 64 --image stratus/busybox:latest -- sh -c 'httpd -f -p $PORT0'
  stratus run --name etl --type batch --retries 2 -- 'sleep 5'
  stratus run --name web --regions eu-west-1=3,us-east-1=2 --cpus 0.5 -- serve
  stratus run --name api --region-weights eu-west-1=1,us-east-1=2 --instances 6 -- serve

A federated job is not waited for (see stratus regions and GET /api/v1/federation/jobs/ID).
It spills instances a region has no room for over to the regions with the most
free capacity, and restarts a dead region's share elsewhere until it is back (stratus regions).`;


/** As long as the jobs framework gives a launched task to reach RUNNING (Marathon's task_launch_timeout). */
const DEFAULT_TIMEOUT_SECONDS = 300;

function pairs(values: readonly string[] | undefined, flag: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const v of values ?? []) {
    const i = v.indexOf('=');
    if (i <= 0) throw new UsageError(`--${flag} takes KEY=VALUE (got '${v}')`);
    out[v.slice(0, i)] = v.slice(i + 1);
  }
  return out;
}

/** `--regions a=3,b=2` or `--region-weights a=1,b=2`: region names to numbers (checked by the master). */
function regionNumbers(value: string, flag: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const part of value.split(',').filter(Boolean)) {
    const i = part.indexOf('=');
    const n = Number(part.slice(i + 1));
    if (i <= 0 || part.slice(i + 1).trim() === '' || !Number.isFinite(n)) throw new UsageError(`--${flag} takes REGION=NUMBER,... (got '${part}')`);
    out[part.slice(0, i)] = n;
  }
  if (Object.keys(out).length === 0) throw new UsageError(`--${flag} names no region`);
  return out;
}

/** The job spec `stratus run` argv describes, and its region policy when federated (exported for tests). */
export function runSpec(argv: readonly string[]): { spec: JobSpecInput; master: string; policy?: RegionPolicy; detach: boolean; timeoutMs: number } {
  const dash = argv.indexOf('--');
  const flags = dash < 0 ? argv : argv.slice(0, dash);
  const command = dash < 0 ? [] : argv.slice(dash + 1);
  const { values, positionals } = parseFlags(flags, {
    name: { type: 'string' },
    instances: { type: 'string' },
    cpus: { type: 'string' },
    mem: { type: 'string' },
    disk: { type: 'string' },
    ports: { type: 'string' },
    image: { type: 'string' },
    type: { type: 'string' },
    retries: { type: 'string' },
    'zone-spread': { type: 'string' },
    'max-unavailable': { type: 'string' },
    'unique-host': { type: 'boolean' },
    attr: { type: 'string', multiple: true },
    env: { type: 'string', multiple: true },
    label: { type: 'string', multiple: true },
    'kill-grace': { type: 'string' },
    regions: { type: 'string' },
    'region-weights': { type: 'string' },
    master: { type: 'string' },
    detach: { type: 'boolean' },
    timeout: { type: 'string' },
  });
  if (positionals.length > 0) throw new UsageError(`unexpected '${positionals[0]}': put the command after --`);
  if (!values.name) throw new UsageError('--name is required');
  if (command.length === 0 && !values.image) throw new UsageError('give a command after --, or an --image');
  const type = values.type;
  if (type !== undefined && type !== 'service' && type !== 'batch') throw new UsageError('--type is service or batch');
  const spread = values['zone-spread'];
  if (spread !== undefined && spread !== 'hard' && spread !== 'soft' && spread !== 'off') throw new UsageError('--zone-spread is hard, soft or off');
  const constraints: NonNullable<JobSpecInput['constraints']> = [];
  if (values['unique-host']) constraints.push({ type: 'uniqueHost' });
  for (const [attribute, list] of Object.entries(pairs(values.attr, 'attr'))) constraints.push({ type: 'hostAttribute', attribute, values: list.split(',').filter(Boolean) });
  if (values.regions !== undefined && values['region-weights'] !== undefined) throw new UsageError('give --regions or --region-weights, not both');
  if (values.regions !== undefined && values.instances !== undefined) throw new UsageError('--regions sets the instances of each region: leave out --instances');
  if (values['region-weights'] !== undefined && values.instances === undefined) throw new UsageError('--region-weights spreads --instances N over the regions: give --instances');
  let policy: RegionPolicy | undefined;
  if (values.regions !== undefined) policy = { counts: regionNumbers(values.regions, 'regions') };
  if (values['region-weights'] !== undefined) policy = { weights: regionNumbers(values['region-weights'], 'region-weights'), total: numberFlag('instances', values.instances)! };
  const optional = {
    disk: numberFlag('disk', values.disk),
    ports: numberFlag('ports', values.ports),
    retries: numberFlag('retries', values.retries),
    maxUnavailable: numberFlag('max-unavailable', values['max-unavailable']),
    killGraceSeconds: numberFlag('kill-grace', values['kill-grace']),
  };
  const spec: JobSpecInput = {
    name: values.name,
    instances: numberFlag('instances', values.instances) ?? 1,
    cpus: numberFlag('cpus', values.cpus) ?? 0.1,
    mem: numberFlag('mem', values.mem) ?? 64,
    ...Object.fromEntries(Object.entries(optional).filter(([, v]) => v !== undefined)),
    ...(type ? { type } : {}),
    ...(spread ? { zoneSpread: spread } : {}),
    ...(values.image ? { image: values.image } : {}),
    ...(command.length === 1 ? { command: command[0]! } : command.length > 1 ? { command } : {}),
    ...(values.env ? { env: pairs(values.env, 'env') } : {}),
    ...(values.label ? { labels: pairs(values.label, 'label') } : {}),
    ...(constraints.length > 0 ? { constraints } : {}),
  };
  const timeoutMs = (numberFlag('timeout', values.timeout, { min: 0 }) ?? DEFAULT_TIMEOUT_SECONDS) * 1000;
  return { spec, master: masterUrl(values.master), ...(policy ? { policy } : {}), detach: values.detach === true, timeoutMs };
}

export const runCommand: Command = {
  name: 'run',
  summary: 'submit a service or batch job to the jobs framework',
  usage,
  async run(argv) {
    const { spec, master, policy, detach, timeoutMs } = runSpec(argv);
    if (policy) {
      const { name, instances: _i, ...job } = spec;
      const fed = await new FederatedJobsClient(master, { headers: authHeaders() }).submit({ name, policy, job });
      const shares = fed.regions.filter((r) => r.share > 0).map((r) => `${r.region}=${r.share}`);
      process.stdout.write(`federated ${fed.job.type} ${fed.id} submitted to region ${fed.home}: ${shares.join(', ')} (see: GET /api/v1/federation/jobs/${fed.id})\n`);
      return 0;
    }
    const client = new JobsClient(master, { headers: authHeaders() });
    const job = await client.submit(spec);
    const s = job.spec;
    process.stdout.write(`${s.type} ${job.name} submitted: ${s.instances} instance(s) of ${s.cpus} cpus / ${s.mem} MiB (see: stratus jobs ${job.name})\n`);
    if (detach) return 0;
    const progress = new ProgressDisplay();
    // Ctrl-C stops the wait, not the job.
    const interrupt = new AbortController();
    const stop = (): void => interrupt.abort();
    process.once('SIGINT', stop);
    let outcome: WaitOutcome;
    try {
      outcome = await waitForJob(client, job.name, { timeoutMs, signal: interrupt.signal, onPoll: (j) => progress.update(progressSummary(j)) });
    } finally {
      process.off('SIGINT', stop);
      progress.done();
    }
    if (outcome.kind === 'aborted') {
      process.stderr.write(`stratus run: ${outcomeFailure(outcome, job.name, timeoutMs)!}\n`);
      return 130;
    }
    const fail = outcomeFailure(outcome, job.name, timeoutMs);
    if (fail !== undefined) throw new Error(fail);
    process.stdout.write(`${job.name}: ${s.type === 'batch' ? 'every instance running or finished' : `all ${s.instances} instance(s) running`}\n`);
    return 0;
  },
};

/** Why the wait ended without every instance running, or undefined when they all run. */
export function outcomeFailure(outcome: WaitOutcome, name: string, timeoutMs: number): string | undefined {
  const where = outcome.job ? ` (${progressSummary(outcome.job)})` : '';
  switch (outcome.kind) {
    case 'running':
      return undefined;
    case 'failed':
      return outcome.failed
        .map((f) => `${name}/${f.index} failed: ${f.state}${f.reason ? ` (${f.reason})` : ''}${f.message ? `: ${f.message}` : ''}`)
        .join('; ')
        .concat(`; the job stays submitted: stratus jobs ${name}`);
    case 'unplaceable':
      return outcome.unplaced.map((u) => `${name}/${u.index} cannot be placed: ${u.message}`).join('; ').concat(`; the job stays submitted: stratus jobs ${name}`);
    case 'timeout':
      return `not every instance is running after ${timeoutMs / 1000} s${where}; the job stays submitted: stratus jobs ${name}`;
    case 'aborted':
      return `stopped waiting${where}; the job stays submitted: stratus jobs ${name}`;
  }
}
