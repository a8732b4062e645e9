// The versions a client sees: the Mesos API Stratus answers as (what Mesos clients compare
// against, e.g. pymesos asks /version and drops capabilities below 1.0) and Stratus's own.

/** The Apache Mesos release whose v1 HTTP API Stratus is compatible with. */
export const MESOS_COMPATIBLE_VERSION = '1.11.0';

/** Stratus's own version; equals package.json's (a unit test keeps them together). */
export const STRATUS_VERSION = '0.1.0';
