import { AutoscalerClient, type StatusResponse } from '../../autoscaler/client.js';
import { authHeaders, masterUrl, OUTPUT_FLAGS, OUTPUT_USAGE, outputFormat, parseFlags, printJson, printTable, type Command } from '../command.js';

// `stratus autoscaler status`: each group's hosts by state, operations in progress and the
// autoscaler's counters (GET /api/v1/autoscaler/status).

const usage = `usage: stratus autoscaler status [--master URL] [-o table|json]

Shows each agent group's hosts (idle, busy, draining, unreachable, being removed, in flight),
the scale-ups and removals in progress, and the autoscaler's counters.
  --master URL  master (default $STRATUS_MASTER or http://127.0.0.1:5050)
${OUTPUT_USAGE}
Environment: STRATUS_TOKEN or STRATUS_PRINCIPAL/STRATUS_SECRET (operator credential).`;

export function statusRows(s: StatusResponse): string[][] {
  return s.groups.map((g) => [g.group, String(g.hosts), String(g.idle), String(g.busy), String(g.draining), String(g.unreachable), String(g.removing), String(g.inFlight)]);
}

export const autoscalerStatusCommand: Command = {
  name: 'autoscaler status',
  summary: 'show agent groups, autoscaler operations in progress and counters',
  usage,
  async run(argv) {
    const { values } = parseFlags(argv, { master: { type: 'string' }, ...OUTPUT_FLAGS }, false);
    const format = outputFormat(values);
    const s = await new AutoscalerClient(masterUrl(values.master), { headers: authHeaders() }).status();
    if (format === 'json') {
      printJson(s);
      return 0;
    }
    process.stdout.write(`provider: ${s.provider}\n`);
    printTable(['GROUP', 'HOSTS', 'IDLE', 'BUSY', 'DRAINING', 'UNREACHABLE', 'REMOVING', 'IN FLIGHT'], statusRows(s));
    if (s.operations.length > 0) {
      process.stdout.write('\noperations in progress:\n');
      printTable(
        ['ID', 'KIND', 'GROUP', 'PHASE'],
        s.operations.map((o) => [o.id, o.kind, o.group, o.phase]),
      );
    }
    const m = s.metrics;
    process.stdout.write(`\nscale-ups ${m.scaleUps ?? 0} (${m.hostsRequested ?? 0} hosts), scale-downs ${m.scaleDowns ?? 0} (${m.hostsRemoved ?? 0} removed), drains overdue ${m.drainsOverdue ?? 0}, provider errors ${m.providerErrors ?? 0}\n`);
    return 0;
  },
};
