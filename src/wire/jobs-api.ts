// Shapes of the jobs API's answers that more than one side reads (the jobs routes write them;
// the dashboard and the CLI show them).

/** How many instances of a job are in each state. */
export interface JobCounts {
  readonly desired: number;
  readonly running: number;
  readonly starting: number;
  readonly pending: number;
  readonly killing: number;
  readonly finished: number;
  readonly failed: number;
  readonly outdated: number;
}
