import { EMPTY, type Resources, type ScalarName } from './resources.js';

/** Quota limits per scalar, in fixed units; a scalar not listed is not limited (as in Mesos). */
export type QuotaLimit = Readonly<Partial<Record<ScalarName, number>>>;

/** A role's weight (DRF) and quota limit, set by the operator. */
export interface RoleConfig {
  readonly name: string;
  readonly weight: number;
  /** Never offer the role more than this (Mesos's quota limits); undefined = no limit. */
  readonly quotaLimit?: QuotaLimit;
}

/** The limit as Resources for the allocator: scalars not listed are effectively unlimited. */
export function quotaLimitResources(limit: QuotaLimit): Resources {
  const none = Number.MAX_SAFE_INTEGER;
  return { ...EMPTY, cpus: limit.cpus ?? none, mem: limit.mem ?? none, disk: limit.disk ?? none, network: limit.network ?? none };
}

// Mesos role names: no leading '.', '-', no '/..', no spaces; '*' is the default role.
const ROLE_PATTERN = /^(\*|[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}(\/[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})*)$/;

export function isValidRole(name: unknown): name is string {
  return typeof name === 'string' && ROLE_PATTERN.test(name);
}
