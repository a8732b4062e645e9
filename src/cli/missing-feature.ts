import { ApiError } from '../wire/api-error.js';

// A master answers 404 "no such endpoint" (the router's answer, field `path`) for the routes of a
// part it does not run: the autoscaler, the jobs framework, federation. The CLI turns that answer
// into what is missing and how to turn it on, instead of an opaque "no such endpoint".

interface Feature {
  /** The path prefix of the part's routes. */
  readonly prefix: string;
  readonly missing: string;
  readonly enable: string;
}

const FEATURES: readonly Feature[] = [
  {
    prefix: '/api/v1/autoscaler',
    missing: 'the autoscaler is not enabled on this master',
    enable: "start the dev cluster with 'stratus dev --autoscale-max N' (or --autoscaler-rules FILE), or run 'stratus master' with STRATUS_AGENT_GROUPS set (rules: --autoscaler-rules FILE)",
  },
  {
    prefix: '/api/v1/federation',
    missing: 'federation is not enabled on this master',
    enable: "start several regions with 'stratus dev --regions a,b', or run 'stratus master' with STRATUS_REGION and STRATUS_PEERS set",
  },
  {
    prefix: '/api/v1/jobs',
    missing: 'the jobs framework is not running on this master',
    enable: "run 'stratus master --jobs' ('stratus dev' runs it)",
  },
];

const NO_SUCH_ENDPOINT = /^no such endpoint: ([A-Z]+) (\S+)$/;

/** The route the master said it does not have, when `e` is its 404 "no such endpoint" answer. */
export function missingEndpoint(e: unknown): { method: string; path: string } | undefined {
  if (!(e instanceof ApiError) || e.status !== 404 || e.field !== 'path') return undefined;
  const m = NO_SUCH_ENDPOINT.exec(e.message);
  return m ? { method: m[1]!, path: m[2]! } : undefined;
}

/** What is missing on the master and the flag that turns it on, when `e` is a 404 for one of those parts' routes. */
export function missingFeature(e: unknown): string | undefined {
  const endpoint = missingEndpoint(e);
  if (endpoint === undefined) return undefined;
  const f = FEATURES.find((x) => endpoint.path === x.prefix || endpoint.path.startsWith(`${x.prefix}/`));
  return f ? `${f.missing} (it has no ${endpoint.method} ${endpoint.path}); to enable it, ${f.enable}` : undefined;
}
