import { masterUrl, operatorCall, OUTPUT_FLAGS, OUTPUT_USAGE, outputFormat, parseFlags, printJson, printTable, type Command } from '../command.js';
import { scalarOf } from './agents.js';

// `stratus frameworks`: subscribed frameworks (operator GET_FRAMEWORKS).

const usage = `usage: stratus frameworks [--master URL] [--all] [-o table|json]

Lists the subscribed frameworks: id, name, roles, connection, resources held and offered.
  --all                include removed (torn down or failed over) frameworks
  --master URL         master (default $STRATUS_MASTER or http://127.0.0.1:5050)
${OUTPUT_USAGE}
Environment: STRATUS_TOKEN or STRATUS_PRINCIPAL/STRATUS_SECRET (operator credential).`;

interface FrameworkJson {
  framework_info: { id: { value: string }; name: string; roles?: string[]; principal?: string; failover_timeout?: number };
  active: boolean;
  connected: boolean;
  allocated_resources: { name: string; scalar?: { value: number } }[];
  offered_resources: { name: string; scalar?: { value: number } }[];
}

export const frameworksCommand: Command = {
  name: 'frameworks',
  summary: 'list frameworks: roles, connection, resources held',
  usage,
  async run(argv) {
    const { values } = parseFlags(argv, { master: { type: 'string' }, all: { type: 'boolean', default: false }, ...OUTPUT_FLAGS }, false);
    const format = outputFormat(values);
    const r = (await operatorCall(masterUrl(values.master), { type: 'GET_FRAMEWORKS' })) as { get_frameworks: { frameworks: FrameworkJson[]; completed_frameworks: FrameworkJson[] } };
    const rows = [...r.get_frameworks.frameworks.map((f) => ({ f, state: f.connected ? 'CONNECTED' : 'DISCONNECTED' }))];
    if (values.all) rows.push(...r.get_frameworks.completed_frameworks.map((f) => ({ f, state: 'REMOVED' })));
    if (format === 'json') {
      printJson(rows.map((x) => ({ ...x.f, state: x.state })));
      return 0;
    }
    printTable(
      ['ID', 'NAME', 'ROLES', 'STATE', 'CPUS', 'MEM MiB', 'OFFERED CPUS'],
      rows.map(({ f, state }) => [
        f.framework_info.id.value,
        f.framework_info.name,
        (f.framework_info.roles ?? ['*']).join(','),
        state,
        scalarOf(f.allocated_resources, 'cpus'),
        scalarOf(f.allocated_resources, 'mem'),
        scalarOf(f.offered_resources, 'cpus'),
      ]),
    );
    return 0;
  },
};
