// Shapes of the autoscaler API's answers that more than one side reads (the autoscaler's
// routes write them; the dashboard shows them).

/** A group's hosts by what they are doing, and the scaling operations still open on it. */
export interface GroupCounts {
  readonly group: string;
  readonly hosts: number;
  readonly idle: number;
  readonly busy: number;
  readonly draining: number;
  readonly unreachable: number;
  readonly removing: number;
  readonly inFlight: number;
}
