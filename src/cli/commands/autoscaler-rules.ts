import { readFileSync } from 'node:fs';
import { AutoscalerClient, type RulesResponse } from '../../autoscaler/client.js';
import { authHeaders, masterUrl, OUTPUT_FLAGS, OUTPUT_USAGE, outputFormat, parseFlags, printJson, printTable, UsageError, type Command } from '../command.js';

// `stratus autoscaler rules [--set FILE]`: shows the autoscaler's rules per agent group, or
// replaces them with a JSON file (PUT /api/v1/autoscaler/rules).

const usage = `usage: stratus autoscaler rules [--set FILE] [--master URL] [-o table|json]

Shows the autoscaling rules of each agent group: size bounds, idle hosts kept, cooldowns and
the resources one new host brings. With --set, replaces every rule with those of FILE:
  {"groups": [{"group": "general", "minSize": 1, "maxSize": 10, "minIdle": 1, "maxIdle": 2,
               "scaleUpCooldownSeconds": 60, "scaleDownCooldownSeconds": 300,
               "shape": {"cpus": 4, "mem": 16384}}]}
  --set FILE    the new rules (JSON); the master refuses bad rules naming the field
  --master URL  master (default $STRATUS_MASTER or http://127.0.0.1:5050)
${OUTPUT_USAGE}
Environment: STRATUS_TOKEN or STRATUS_PRINCIPAL/STRATUS_SECRET (operator credential).`;

export const RULE_COLUMNS = ['GROUP', 'SIZE', 'IDLE', 'UP COOLDOWN', 'DOWN COOLDOWN', 'SHAPE', 'DRAIN'] as const;

export function ruleRows(r: RulesResponse): string[][] {
  return r.groups.map((g) => {
    const rest = g as Record<string, unknown>;
    const drain = `${String(rest.drainTimeoutSeconds ?? '-')}s${rest.drainBusy === true ? ' busy ok' : ''}`;
    return [g.group, `${g.minSize}..${g.maxSize}`, `${g.minIdle}..${g.maxIdle}`, `${g.scaleUpCooldownSeconds}s`, `${g.scaleDownCooldownSeconds}s`, `${g.shape.cpus} cpus, ${g.shape.mem} MiB`, drain];
  });
}

export const autoscalerRulesCommand: Command = {
  name: 'autoscaler rules',
  summary: 'show or set the autoscaler rules of each agent group',
  usage,
  async run(argv) {
    const { values } = parseFlags(argv, { set: { type: 'string' }, master: { type: 'string' }, ...OUTPUT_FLAGS }, false);
    const format = outputFormat(values);
    const client = new AutoscalerClient(masterUrl(values.master), { headers: authHeaders() });
    // A refusal's field is named by the dispatcher (stratus autoscaler rules: ... (field groups.0.maxSize)).
    let rules: RulesResponse;
    if (values.set !== undefined) {
      let text: string;
      try {
        text = readFileSync(values.set, 'utf8');
      } catch (e) {
        throw new UsageError(`cannot read ${values.set}: ${(e as Error).message}`);
      }
      try {
        JSON.parse(text);
      } catch (e) {
        throw new Error(`${values.set} is not JSON: ${(e as Error).message}`);
      }
      rules = await client.setRules(text);
    } else rules = await client.rules();
    if (format === 'json') {
      printJson(rules);
      return 0;
    }
    if (values.set !== undefined) process.stdout.write(`rules set for ${rules.groups.length} group(s)\n`);
    if (rules.groups.length === 0) process.stdout.write(`no autoscaler rules (groups the provider knows: ${rules.knownGroups.join(', ') || 'none'})\n`);
    else printTable(RULE_COLUMNS, ruleRows(rules));
    return 0;
  },
};
