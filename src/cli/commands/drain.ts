import { masterUrl, operatorCall, parseFlags, UsageError, type Command, numberFlag } from '../command.js';

// `stratus drain AGENT`: DRAIN_AGENT (no new offers; tasks killed within the grace period).

const usage = `usage: stratus drain AGENT_ID [--master URL] [--max-grace SECONDS] [--mark-gone]
  Stops offers from the agent and kills its tasks, each within --max-grace seconds (their own
  grace otherwise). The agent goes DRAINING, then DRAINED; with --mark-gone it is then removed.
  Draining an agent that already drains changes nothing. 'stratus reactivate AGENT' undoes it.`;

export const drainCommand: Command = {
  name: 'drain',
  summary: 'drain an agent for maintenance (DRAIN_AGENT)',
  usage,
  async run(argv) {
    const { values, positionals } = parseFlags(argv, { master: { type: 'string' }, 'max-grace': { type: 'string' }, 'mark-gone': { type: 'boolean', default: false } });
    if (positionals.length !== 1) throw new UsageError('name exactly one agent id');
    const grace = numberFlag('max-grace', values['max-grace'], { integer: true, min: 0 });
    await operatorCall(masterUrl(values.master), {
      type: 'DRAIN_AGENT',
      drain_agent: { agent_id: { value: positionals[0] }, ...(grace !== undefined ? { max_grace_period: { seconds: grace } } : {}), mark_gone: values['mark-gone'] },
    });
    process.stdout.write(`agent ${positionals[0]} is draining\n`);
    return 0;
  },
};

export const reactivateCommand: Command = {
  name: 'reactivate',
  summary: 'reactivate a drained or deactivated agent (REACTIVATE_AGENT)',
  usage: 'usage: stratus reactivate AGENT_ID [--master URL]',
  async run(argv) {
    const { values, positionals } = parseFlags(argv, { master: { type: 'string' } });
    if (positionals.length !== 1) throw new UsageError('name exactly one agent id');
    await operatorCall(masterUrl(values.master), { type: 'REACTIVATE_AGENT', reactivate_agent: { agent_id: { value: positionals[0] } } });
    process.stdout.write(`agent ${positionals[0]} is active\n`);
    return 0;
  },
};
