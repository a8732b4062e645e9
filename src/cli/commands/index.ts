import type { Command } from '../command.js';
import { agentCommand } from './agent.js';
import { agentsCommand } from './agents.js';
import { autoscalerActivityCommand } from './autoscaler-activity.js';
import { autoscalerRulesCommand } from './autoscaler-rules.js';
import { autoscalerStatusCommand } from './autoscaler-status.js';
import { devCommand } from './dev.js';
import { drainCommand, reactivateCommand } from './drain.js';
import { frameworksCommand } from './frameworks.js';
import { jobsCommand } from './jobs.js';
import { logsCommand } from './logs.js';
import { masterCommand } from './master.js';
import { psCommand } from './ps.js';
import { regionsCommand } from './regions.js';
import { runCommand } from './run.js';
import { scaleCommand } from './scale.js';

// Every `stratus` subcommand, in the order `stratus help` lists them.
export const commands: Command[] = [
  devCommand,
  masterCommand,
  agentCommand,
  runCommand,
  jobsCommand,
  scaleCommand,
  psCommand,
  logsCommand,
  agentsCommand,
  frameworksCommand,
  drainCommand,
  reactivateCommand,
  regionsCommand,
  autoscalerRulesCommand,
  autoscalerActivityCommand,
  autoscalerStatusCommand,
];
