import { masterUrl, operatorCall, OUTPUT_FLAGS, OUTPUT_USAGE, outputFormat, parseFlags, printJson, printTable, type Command } from '../command.js';

// `stratus agents`: the region's agents (operator GET_AGENTS).

const usage = `usage: stratus agents [--master URL] [-o table|json]

Lists the region's agents: hostname, zone, group, state (active, draining, unreachable...),
CPUs and memory allocated of their total, CPUs on offer.
  --master URL         master (default $STRATUS_MASTER or http://127.0.0.1:5050)
${OUTPUT_USAGE}
Environment: STRATUS_TOKEN or STRATUS_PRINCIPAL/STRATUS_SECRET (operator credential).`;

interface AgentJson {
  agent_info: { id: { value: string }; hostname: string; attributes?: { name: string; text?: { value: string } }[] };
  active: boolean;
  reachability?: string;
  healthy?: boolean;
  total_resources: { name: string; scalar?: { value: number } }[];
  allocated_resources: { name: string; scalar?: { value: number } }[];
  offered_resources: { name: string; scalar?: { value: number } }[];
  drain_info?: { state: string };
  deactivated?: boolean;
}

export const scalarOf = (rs: { name: string; scalar?: { value: number } }[], name: string): number =>
  rs.filter((r) => r.name === name).reduce((s, r) => s + (r.scalar?.value ?? 0), 0);

export const agentsCommand: Command = {
  name: 'agents',
  summary: 'list agents: zone, state, resources used and offered',
  usage,
  async run(argv) {
    const { values } = parseFlags(argv, { master: { type: 'string' }, ...OUTPUT_FLAGS }, false);
    const format = outputFormat(values);
    const r = (await operatorCall(masterUrl(values.master), { type: 'GET_AGENTS' })) as { get_agents: { agents: AgentJson[] } };
    if (format === 'json') {
      printJson(r.get_agents);
      return 0;
    }
    const attr = (a: AgentJson, n: string): string => a.agent_info.attributes?.find((x) => x.name === n)?.text?.value ?? '-';
    const state = (a: AgentJson): string =>
      a.reachability && a.reachability !== 'REACHABLE' ? a.reachability : a.drain_info ? a.drain_info.state : a.deactivated ? 'DEACTIVATED' : a.healthy === false ? 'UNHEALTHY' : 'ACTIVE';
    const fmt = (used: number, total: number): string => `${+used.toFixed(3)}/${+total.toFixed(3)}`;
    printTable(
      ['ID', 'HOSTNAME', 'ZONE', 'GROUP', 'STATE', 'CPUS', 'MEM MiB', 'OFFERED CPUS'],
      r.get_agents.agents.map((a) => [
        a.agent_info.id.value,
        a.agent_info.hostname,
        attr(a, 'zone'),
        attr(a, 'group'),
        state(a),
        fmt(scalarOf(a.allocated_resources, 'cpus'), scalarOf(a.total_resources, 'cpus')),
        fmt(scalarOf(a.allocated_resources, 'mem'), scalarOf(a.total_resources, 'mem')),
        scalarOf(a.offered_resources, 'cpus'),
      ]),
    );
    return 0;
  },
};
