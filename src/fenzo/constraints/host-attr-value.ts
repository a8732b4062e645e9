import type { ConstraintEvaluator, VirtualMachineCurrentState } from '../plugin.js';

// The host's attribute must be one of the given values (e.g. instanceType in [m5.large, m5.xlarge]).

export class HostAttrValueConstraint implements ConstraintEvaluator {
  readonly name: string;
  private readonly allowed: ReadonlySet<string>;

  constructor(
    readonly attribute: string,
    values: string | readonly string[],
  ) {
    this.allowed = new Set(typeof values === 'string' ? [values] : values);
    this.name = `HostAttrValueConstraint[${attribute}]`;
  }

  evaluate(_task: unknown, host: VirtualMachineCurrentState): boolean {
    const v = host.attributes[this.attribute];
    return v !== undefined && this.allowed.has(v);
  }

  explain(_task: unknown, host: VirtualMachineCurrentState): string {
    const v = host.attributes[this.attribute];
    const want = [...this.allowed].join(', ');
    return v === undefined
      ? `host ${host.hostname} has no ${this.attribute} attribute (wanted ${want})`
      : `${this.attribute}=${v} is not one of ${want}`;
  }
}
