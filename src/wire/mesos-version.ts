// The versions a client sees: the Mesos API Stratus answers as (what Mesos clients compare
// against, e.g. pymesos asks /version and drops capabilities below 1.0) and Stratus's own.

/** The Apache Mesos release whose v1 HTTP API Stratus is compatible with. */
export const MESOS_COMPATIBLE_VERSION = '1.11.0';

/** Stratus's own version; equals package.json's (a unit test keeps them together). */
export const STRATUS_VERSION = '0.1.0';

/** When and by whom the running build was made, as far as the build knows. */
export interface BuildInfo {
  /** Seconds since the epoch. */
  readonly time: number;
  readonly user: string;
  readonly gitSha?: string;
}

/**
 * The body of `GET /version`, in Mesos's shape: clients compare `version` (pymesos, for one,
 * turns on its >= 1.0 behaviour by it); `stratus_version` says what actually answers.
 */
export function versionBody(build: BuildInfo): Record<string, string | number> {
  const date = new Date(build.time * 1000).toISOString();
  return {
    version: MESOS_COMPATIBLE_VERSION,
    build_date: `${date.slice(0, 10)} ${date.slice(11, 19)}`,
    build_time: build.time,
    build_user: build.user,
    ...(build.gitSha ? { git_sha: build.gitSha } : {}),
    stratus_version: STRATUS_VERSION,
  };
}
