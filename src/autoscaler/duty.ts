import type { LeaderDuty } from '../master-lambda/extension.js';
import type { AutoscalerController } from './controller.js';

// The autoscaler as a master leader duty: `new Master({ duties: [autoscalerDuty(autoscaler)] })`.
// The master runs duties at every allocation interval on the lease holder; the autoscaler runs a
// pass every `intervalMs` of its own. By default the pass runs in the background so a slow
// provider never delays an allocation round; `wait: true` makes the duty wait for it (a Lambda
// tick that must not return with work in flight, tests).

export interface AutoscalerDutyOptions {
  readonly wait?: boolean;
}

export function autoscalerDuty(autoscaler: AutoscalerController, options: AutoscalerDutyOptions = {}): LeaderDuty {
  // A background pass writes under the leader's epoch: the lease is released (and the epoch
  // handed on) only once it has ended.
  return Object.assign((ctx: Parameters<LeaderDuty>[0], epoch: number) => autoscaler.duty(ctx, epoch, options.wait ?? false), {
    settle: () => autoscaler.settled(),
  });
}
