import type { Resources } from './resources.js';

/** A role's weight (DRF) and quota limit, set by the operator. */
export interface RoleConfig {
  readonly name: string;
  readonly weight: number;
  /** Never offer the role more than this (Mesos's quota limits); undefined = no limit. */
  readonly quotaLimit?: Resources;
}

// Mesos role names: no leading '.', '-', no '/..', no spaces; '*' is the default role.
const ROLE_PATTERN = /^(\*|[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}(\/[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})*)$/;

export function isValidRole(name: unknown): name is string {
  return typeof name === 'string' && ROLE_PATTERN.test(name);
}
