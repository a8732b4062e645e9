import type { ExtensibleMaster } from '../master-lambda/extension.js';
import { AutoscalerController, type AutoscalerOptions } from './controller.js';
import { autoscalerDuty } from './duty.js';
import { autoscalerRoutes } from './routes.js';
import { applyAutoscalerRulesFile } from './rules-file.js';

// One call for an entry point (`stratus dev`, `stratus master`, the tick) to give a master its
// autoscaler: the leader duty, the operator routes, and the rules file if one was given.
//
//   const autoscaler = await attachAutoscaler(master, { provider, pendingTasks: () => jobs.pendingTasks(), rulesFile });
//   ...
//   await autoscaler.stop();   // before stopping the provider

export interface AttachOptions extends AutoscalerOptions {
  /** `--autoscaler-rules FILE`: stored at start (replacing the Registry's rules); a bad file throws, naming the field. */
  readonly rulesFile?: string;
  /** Wait for each pass inside the duty (the Lambda tick); default false. */
  readonly wait?: boolean;
  /** Mount the operator routes (default true). */
  readonly routes?: boolean;
}

export async function attachAutoscaler(master: ExtensibleMaster, options: AttachOptions): Promise<AutoscalerController> {
  const { rulesFile, wait, routes, ...rest } = options;
  const autoscaler = new AutoscalerController({ log: master.ctx.log.child({ component: 'autoscaler' }), ...rest });
  if (rulesFile !== undefined) await applyAutoscalerRulesFile(autoscaler, master.registry, rulesFile);
  master.addDuty(autoscalerDuty(autoscaler, { wait: wait ?? false }));
  master.ctx.metrics.observeAutoscaler(() => autoscaler.metrics);
  if (routes !== false) autoscalerRoutes(master.api, autoscaler, master.registry);
  return autoscaler;
}
