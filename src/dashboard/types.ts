// The shapes the dashboard reads: the parts of the master's JSON answers it shows. The server's
// own types live on the server side; the dashboard imports nothing from there but src/wire.
import type { GroupCounts } from '../wire/autoscaler-api.js';
import type { JobCounts } from '../wire/jobs-api.js';
export type { ErrorBody } from '../wire/api-error.js';

export interface Scalars {
  readonly cpus: number;
  readonly mem: number;
  readonly disk: number;
  readonly ports?: string;
}

export interface StatusJson {
  readonly state: string;
  readonly timestamp: number;
  readonly reason?: string;
  readonly message?: string;
  readonly healthy?: boolean;
}

export interface TaskJson {
  readonly id: string;
  readonly name: string;
  readonly framework_id: string;
  readonly slave_id: string;
  readonly state: string;
  readonly role: string;
  readonly resources: Scalars;
  readonly statuses: readonly StatusJson[];
}

export interface AgentJson {
  readonly id: string;
  readonly hostname: string;
  readonly resources: Scalars;
  readonly used_resources: Scalars;
  readonly offered_resources: Scalars;
  readonly attributes: Readonly<Record<string, string | number>>;
  readonly active: boolean;
  readonly reachability: string;
  readonly healthy: boolean;
  readonly drain_info?: { readonly state: string };
}

export interface OfferJson {
  readonly id: string;
  readonly slave_id: string;
  readonly resources: Scalars;
}

export interface FrameworkJson {
  readonly id: string;
  readonly name: string;
  readonly roles: readonly string[];
  readonly principal?: string;
  readonly active: boolean;
  readonly connected: boolean;
  readonly tasks: readonly TaskJson[];
  readonly completed_tasks: readonly TaskJson[];
  readonly offers: readonly OfferJson[];
  readonly used_resources: Scalars;
  readonly offered_resources: Scalars;
  readonly dominant_share?: number;
}

export interface RoleJson {
  readonly name: string;
  readonly weight: number;
  readonly dominant_share: number;
  readonly weighted_share: number;
  readonly frameworks: readonly string[];
}

export interface MasterState {
  readonly version: string;
  readonly id: string;
  readonly hostname: string;
  readonly leader: string;
  readonly start_time: number;
  readonly activated_slaves: number;
  readonly unreachable_slaves: number;
  readonly slaves: readonly AgentJson[];
  readonly frameworks: readonly FrameworkJson[];
  readonly completed_frameworks: readonly FrameworkJson[];
  readonly roles?: readonly RoleJson[];
}

export interface InstanceJson {
  readonly index: number;
  readonly state: string;
  readonly taskId?: string;
  readonly agentId?: string;
  readonly hostname?: string;
  readonly zone?: string;
  readonly healthy?: boolean;
  readonly outdated: boolean;
  readonly launches: number;
  readonly failures: number;
  readonly pending?: { readonly message: string };
}

export interface JobJson {
  readonly name: string;
  readonly type: string;
  readonly state: string;
  readonly specVersion: number;
  readonly counts: JobCounts;
  readonly pending: readonly { readonly index: number; readonly message: string }[];
  readonly instances?: readonly InstanceJson[];
}

export interface GroupStatusJson extends GroupCounts {
  readonly rule?: { readonly minSize: number; readonly maxSize: number };
}

export interface AutoscalerStatusJson {
  readonly provider: string;
  readonly groups: readonly GroupStatusJson[];
}

export interface ActivityJson {
  readonly at: number;
  readonly group: string;
  readonly action: string;
  readonly outcome: string;
  readonly reason: string;
  readonly count?: number;
  readonly error?: string;
}

export interface PeerJson {
  readonly name: string;
  readonly state: string;
  readonly ageMs?: number;
  readonly health?: { readonly status: string; readonly reasons?: readonly string[] };
  readonly agents?: { readonly total: number; readonly reachable: number };
}
