import { ScalingProviderError, type HostRef, type ScalingProvider, type TerminateOutcome } from '../../src/autoscaler/provider.js';

// A ScalingProvider in memory for controller tests: it records every call, keeps a desired size
// per group, and fails on demand (throttling, permanent errors) for the next N calls.

export type FakeCall =
  | { readonly op: 'desiredSize'; readonly group: string }
  | { readonly op: 'growTo'; readonly group: string; readonly size: number; readonly zones: readonly string[] }
  | { readonly op: 'terminate'; readonly host: HostRef };

export class FakeProvider implements ScalingProvider {
  readonly kind = 'fake';
  readonly calls: FakeCall[] = [];
  readonly sizes = new Map<string, number>();
  readonly terminated: string[] = [];
  /** Hosts that are already gone: terminate answers 'gone'. */
  readonly gone = new Set<string>();
  private readonly failures: { op: FakeCall['op']; error: Error }[] = [];
  /** Called after a successful growTo (e.g. to register the new agents). */
  onGrow: ((group: string, from: number, to: number, zones: readonly string[]) => Promise<void> | void) | undefined;

  constructor(private readonly groupNames: readonly string[] = ['general']) {
    for (const g of groupNames) this.sizes.set(g, 0);
  }

  groups(): readonly string[] {
    return this.groupNames;
  }

  /** The next `times` calls of `op` fail with `error`. */
  failNext(op: FakeCall['op'], times: number, error: Error = new ScalingProviderError('Throttling: Rate exceeded', true, 'Throttling')): void {
    for (let i = 0; i < times; i++) this.failures.push({ op, error });
  }

  private maybeFail(op: FakeCall['op']): void {
    const i = this.failures.findIndex((f) => f.op === op);
    if (i >= 0) throw this.failures.splice(i, 1)[0]!.error;
  }

  async desiredSize(group: string): Promise<number> {
    this.calls.push({ op: 'desiredSize', group });
    this.maybeFail('desiredSize');
    return this.sizes.get(group) ?? 0;
  }

  async growTo(group: string, size: number, zones: readonly string[]): Promise<void> {
    this.calls.push({ op: 'growTo', group, size, zones });
    this.maybeFail('growTo');
    const from = this.sizes.get(group) ?? 0;
    if (size <= from) return;
    this.sizes.set(group, size);
    await this.onGrow?.(group, from, size, zones);
  }

  async terminate(host: HostRef): Promise<TerminateOutcome> {
    this.calls.push({ op: 'terminate', host });
    this.maybeFail('terminate');
    if (this.gone.has(host.agentId) || this.terminated.includes(host.agentId)) return 'gone';
    this.terminated.push(host.agentId);
    this.sizes.set(host.group, Math.max(0, (this.sizes.get(host.group) ?? 1) - 1));
    return 'terminated';
  }

  count(op: FakeCall['op']): number {
    return this.calls.filter((c) => c.op === op).length;
  }
}
