import { z } from 'zod';
import { JobsClient } from '../../jobs/index.js';
import { masterUrl, OUTPUT_FLAGS, OUTPUT_USAGE, outputFormat, parseFlags, printJson, printTable, type Command, authHeaders } from '../command.js';
import { missingEndpoint } from '../missing-feature.js';

// `stratus ps`: every task the master has (operator API GET_TASKS), and the jobs framework's
// instances still waiting for a place, with the reason.

const usage = `usage: stratus ps [--all] [--master URL] [-o table|json]

Lists the tasks of all frameworks (from the master's operator API), then the job instances
that are pending, with the reason they are not placed.
  --all                include finished tasks
  --master URL         master (default $STRATUS_MASTER or http://127.0.0.1:5050)
${OUTPUT_USAGE}
                       ({"tasks": [...], "pending": [{"job", "index", "reason"}]})`;

const idValue = z.object({ value: z.string() });
const resource = z.object({ name: z.string(), scalar: z.object({ value: z.number() }).optional() }).passthrough();
const task = z
  .object({
    name: z.string().optional(),
    task_id: idValue,
    framework_id: idValue,
    agent_id: idValue.optional(),
    state: z.string().optional(),
    resources: z.array(resource).optional(),
  })
  .passthrough();
const answer = z.object({
  get_tasks: z.object({ tasks: z.array(task).optional(), completed_tasks: z.array(task).optional() }).passthrough(),
});
type TaskRow = z.output<typeof task>;

function scalar(t: TaskRow, name: string): number {
  return (t.resources ?? []).filter((r) => r.name === name).reduce((s, r) => s + (r.scalar?.value ?? 0), 0);
}

async function masterTasks(master: string, all: boolean): Promise<TaskRow[]> {
  const res = await fetch(`${master}/api/v1`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Accept: 'application/json', ...authHeaders() },
    body: JSON.stringify({ type: 'GET_TASKS' }),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`GET_TASKS failed with HTTP ${res.status}: ${text.slice(0, 200)}`);
  const parsed = answer.safeParse(JSON.parse(text));
  if (!parsed.success) throw new Error(`GET_TASKS answered an unexpected shape: ${parsed.error.issues[0]?.message ?? ''}`);
  return [...(parsed.data.get_tasks.tasks ?? []), ...(all ? (parsed.data.get_tasks.completed_tasks ?? []) : [])];
}

export const psCommand: Command = {
  name: 'ps',
  summary: 'list all tasks, and job instances waiting for a place',
  usage,
  async run(argv) {
    const { values } = parseFlags(argv, { all: { type: 'boolean' }, master: { type: 'string' }, ...OUTPUT_FLAGS }, false);
    const format = outputFormat(values);
    const master = masterUrl(values.master);
    const out = (s: string): void => void process.stdout.write(s + '\n');
    let code = 0;
    let tasks: TaskRow[] = [];
    try {
      tasks = await masterTasks(master, values.all === true);
    } catch (e) {
      process.stderr.write(`stratus ps: ${(e as Error).message}\n`);
      code = 1;
    }
    let pending: { job: string; index: number; reason: string }[] = [];
    try {
      pending = (await new JobsClient(master, { headers: authHeaders() }).list()).flatMap((j) => j.pending.map((p) => ({ job: j.name, index: p.index, reason: p.message })));
    } catch (e) {
      // A master without the jobs framework has no job instances waiting: its tasks are the whole answer.
      if (missingEndpoint(e) === undefined) {
        process.stderr.write(`stratus ps: the jobs API did not answer: ${(e as Error).message}\n`);
        code = 1;
      }
    }
    if (format === 'json') {
      printJson({ tasks, pending }, out);
      return code;
    }
    printTable(
      ['TASK', 'STATE', 'CPUS', 'MEM', 'AGENT', 'FRAMEWORK'],
      tasks.map((t) => [t.task_id.value, (t.state ?? '').replace(/^TASK_/, ''), scalar(t, 'cpus'), scalar(t, 'mem'), t.agent_id?.value ?? '-', t.framework_id.value]),
      out,
    );
    if (pending.length > 0) {
      out('');
      printTable(['PENDING', 'REASON'], pending.map((p) => [`${p.job}/${p.index}`, p.reason]), out);
    }
    return code;
  },
};
