import { JobsClient, JobsClientError, type JobSpecInput } from '../../jobs/index.js';
import { masterUrl, parseFlags, UsageError, type Command } from '../command.js';

// `stratus run`: submits a job to the built-in jobs framework. Everything after `--` is the
// command: one word is a shell command line, several are an argv run without a shell.

const usage = `usage: stratus run --name NAME [flags] [-- COMMAND...]

Submits a service (kept at N instances, spread over zones) or a batch job (run to completion).
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
  --master URL           master (default $STRATUS_MASTER or http://127.0.0.1:5050)

examples:
  stratus run --name web --instances 6 --cpus 0.5 --mem 64 --image stratus/busybox:latest -- sh -c 'httpd -f -p $PORT0'
  stratus run --name etl --type batch --retries 2 -- 'sleep 5'`;

function number(value: string | undefined, flag: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n)) throw new UsageError(`--${flag} must be a number (got '${value}')`);
  return n;
}

function pairs(values: readonly string[] | undefined, flag: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const v of values ?? []) {
    const i = v.indexOf('=');
    if (i <= 0) throw new UsageError(`--${flag} takes KEY=VALUE (got '${v}')`);
    out[v.slice(0, i)] = v.slice(i + 1);
  }
  return out;
}

/** The job spec `stratus run` argv describes (exported for tests). */
export function runSpec(argv: readonly string[]): { spec: JobSpecInput; master: string } {
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
    master: { type: 'string' },
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
  const optional = {
    disk: number(values.disk, 'disk'),
    ports: number(values.ports, 'ports'),
    retries: number(values.retries, 'retries'),
    maxUnavailable: number(values['max-unavailable'], 'max-unavailable'),
    killGraceSeconds: number(values['kill-grace'], 'kill-grace'),
  };
  const spec: JobSpecInput = {
    name: values.name,
    instances: number(values.instances, 'instances') ?? 1,
    cpus: number(values.cpus, 'cpus') ?? 0.1,
    mem: number(values.mem, 'mem') ?? 64,
    ...Object.fromEntries(Object.entries(optional).filter(([, v]) => v !== undefined)),
    ...(type ? { type } : {}),
    ...(spread ? { zoneSpread: spread } : {}),
    ...(values.image ? { image: values.image } : {}),
    ...(command.length === 1 ? { command: command[0]! } : command.length > 1 ? { command } : {}),
    ...(values.env ? { env: pairs(values.env, 'env') } : {}),
    ...(values.label ? { labels: pairs(values.label, 'label') } : {}),
    ...(constraints.length > 0 ? { constraints } : {}),
  };
  return { spec, master: masterUrl(values.master) };
}

export const runCommand: Command = {
  name: 'run',
  summary: 'submit a service or batch job to the jobs framework',
  usage,
  async run(argv) {
    const { spec, master } = runSpec(argv);
    try {
      const job = await new JobsClient(master).submit(spec);
      const s = job.spec;
      process.stdout.write(`${s.type} ${job.name} submitted: ${s.instances} instance(s) of ${s.cpus} cpus / ${s.mem} MiB (see: stratus jobs ${job.name})\n`);
      return 0;
    } catch (e) {
      if (e instanceof JobsClientError && e.field) throw new Error(`${e.message} (field ${e.field})`);
      throw e;
    }
  },
};
