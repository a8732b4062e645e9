import { JobsClient, type JobDetail, type JobView } from '../../jobs/index.js';
import { masterUrl, OUTPUT_FLAGS, OUTPUT_USAGE, outputFormat, parseFlags, printJson, printTable, UsageError, type Command, authHeaders } from '../command.js';

// `stratus jobs [NAME]`: the jobs framework's jobs; with NAME, its instances and why the
// pending ones are not placed (Fenzo's reasons).

const usage = `usage: stratus jobs [NAME] [-o table|json] [--master URL]

Lists jobs; with NAME, shows the job's instances (state, host, zone, task) and the reasons
pending instances are not placed.
${OUTPUT_USAGE}
                       (an array of jobs; with NAME, the job with its instances)
  --master URL         master (default $STRATUS_MASTER or http://127.0.0.1:5050)`;

function what(job: JobView): string {
  const s = job.spec;
  const cmd = s.command === undefined ? '' : typeof s.command === 'string' ? s.command : s.command.join(' ');
  const text = [s.image, cmd].filter(Boolean).join(' ');
  return text.length > 48 ? `${text.slice(0, 45)}...` : text;
}

function printJob(job: JobDetail, out: (s: string) => void): void {
  const s = job.spec;
  out(`${job.name}: ${s.type}, ${job.state}, ${job.counts.running}/${s.instances} running, spec version ${job.specVersion}`);
  out(`  ${s.cpus} cpus, ${s.mem} MiB mem${s.disk ? `, ${s.disk} MiB disk` : ''}${s.ports ? `, ${s.ports} port(s)` : ''}; zone spread ${s.zoneSpread}; max unavailable ${s.maxUnavailable}${s.type === 'batch' ? `; retries ${s.retries}` : ''}`);
  out(`  ${what(job)}`);
  out('');
  printTable(
    ['INSTANCE', 'STATE', 'HOST', 'ZONE', 'TASK', 'VERSION', 'LAUNCHES'],
    job.instances.map((i) => [i.index, i.state, i.hostname ?? '-', i.zone ?? '-', i.taskId ?? '-', `${i.specVersion}${i.outdated ? ' (old)' : ''}`, i.launches]),
    out,
  );
  const pending = job.pending;
  if (pending.length > 0) {
    out('');
    out('pending:');
    for (const p of pending) out(`  ${job.name}/${p.index}: ${p.message}`);
  }
}

export const jobsCommand: Command = {
  name: 'jobs',
  summary: 'list jobs, or show one job with its instances and pending reasons',
  usage,
  async run(argv) {
    const { values, positionals } = parseFlags(argv, { ...OUTPUT_FLAGS, master: { type: 'string' } });
    if (positionals.length > 1) throw new UsageError('at most one job name');
    const json = outputFormat(values) === 'json';
    const client = new JobsClient(masterUrl(values.master), { headers: authHeaders() });
    const out = (s: string): void => void process.stdout.write(s + '\n');
    const name = positionals[0];
    if (name !== undefined) {
      const job = await client.get(name);
      if (json) printJson(job, out);
      else printJob(job, out);
      return 0;
    }
    const jobs = await client.list();
    if (json) {
      printJson(jobs, out);
      return 0;
    }
    if (jobs.length === 0) {
      out('no jobs (submit one with: stratus run --name NAME -- COMMAND)');
      return 0;
    }
    printTable(
      ['NAME', 'TYPE', 'STATE', 'RUNNING', 'PENDING', 'CPUS', 'MEM', 'VERSION', 'COMMAND'],
      jobs.map((j) => [j.name, j.type, j.state, `${j.counts.running}/${j.spec.instances}`, j.counts.pending, j.spec.cpus, j.spec.mem, j.specVersion, what(j)]),
      out,
    );
    return 0;
  },
};
