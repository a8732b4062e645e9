import { JobsClient } from '../../jobs/index.js';
import { masterUrl, parseFlags, UsageError, type Command, authHeaders, numberFlag } from '../command.js';

// `stratus scale NAME N`: sets a job's instance count (no task is replaced).

const usage = `usage: stratus scale NAME N [--master URL]

Sets the number of instances of job NAME. Scaling down removes instances that are not
running first, then from the most crowded zone.
  --master URL  master (default $STRATUS_MASTER or http://127.0.0.1:5050)`;

export const scaleCommand: Command = {
  name: 'scale',
  summary: 'set the number of instances of a job',
  usage,
  async run(argv) {
    const { values, positionals } = parseFlags(argv, { master: { type: 'string' } });
    const [name, count, ...rest] = positionals;
    if (name === undefined || count === undefined || rest.length > 0) throw new UsageError('give a job name and an instance count');
    const n = numberFlag('N', count, { integer: true, min: 0 })!;
    const { job } = await new JobsClient(masterUrl(values.master), { headers: authHeaders() }).scale(name, n);
    process.stdout.write(`${job.name} scaled to ${job.spec.instances} instance(s) (${job.counts.running} running now)\n`);
    return 0;
  },
};
