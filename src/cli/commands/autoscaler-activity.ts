import { AutoscalerClient, type ActivityResponse } from '../../autoscaler/client.js';
import { authHeaders, masterUrl, OUTPUT_FLAGS, OUTPUT_USAGE, outputFormat, parseFlags, printJson, printTable, type Command, numberFlag } from '../command.js';

// `stratus autoscaler activity`: what the autoscaler decided and did, newest first
// (GET /api/v1/autoscaler/activity).

const usage = `usage: stratus autoscaler activity [--group G] [--limit N] [--master URL] [-o table|json]

Lists the autoscaler's latest activity, newest first: each decision (scale up or down, why,
how many) and each step of carrying it out (launch, drain, terminate, remove) with its outcome.
  --group G     only this agent group
  --limit N     at most N entries (1-1000, default 50)
  --master URL  master (default $STRATUS_MASTER or http://127.0.0.1:5050)
${OUTPUT_USAGE}
                       (the API's answer, with the autoscaler's counters)
Environment: STRATUS_TOKEN or STRATUS_PRINCIPAL/STRATUS_SECRET (operator credential).`;

export const ACTIVITY_COLUMNS = ['TIME', 'GROUP', 'ACTION', 'OUTCOME', 'HOSTS', 'REASON'] as const;

export function activityRows(r: ActivityResponse): string[][] {
  return r.activity.map((a) => [
    new Date(a.at).toISOString().replace('T', ' ').replace('Z', ''),
    a.group,
    a.action,
    a.outcome,
    a.hosts?.length ? a.hosts.map((h) => h.hostname).join(',') : a.count !== undefined ? String(a.count) : '-',
    a.error ? `${a.reason} [${a.error}]` : a.reason,
  ]);
}

export const autoscalerActivityCommand: Command = {
  name: 'autoscaler activity',
  summary: 'list what the autoscaler decided and did',
  usage,
  async run(argv) {
    const { values } = parseFlags(argv, { group: { type: 'string' }, limit: { type: 'string', default: '50' }, master: { type: 'string' }, ...OUTPUT_FLAGS }, false);
    const format = outputFormat(values);
    const limit = numberFlag('limit', values.limit, { integer: true, min: 1, max: 1000 })!;
    const r = await new AutoscalerClient(masterUrl(values.master), { headers: authHeaders() }).activity({ limit, ...(values.group !== undefined ? { group: values.group } : {}) });
    if (format === 'json') {
      printJson(r);
      return 0;
    }
    if (r.activity.length === 0) process.stdout.write('no autoscaler activity\n');
    else printTable(ACTIVITY_COLUMNS, activityRows(r));
    return 0;
  },
};
