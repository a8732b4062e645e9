import { z } from 'zod';

// The one error type of every HTTP API Stratus serves and calls: the status, the message, and
// the input field it names. The master, the agent endpoint and the route modules throw it for
// transport-level refusals (404, 405, 413, 415); clients (SDK, CLI, jobs/autoscaler/federation
// clients, the agent's master client) throw it for an answer that is not 2xx.

/** A 4xx/5xx body: `{error, field?, code?}`. */
export const errorBody = z.object({ error: z.string(), field: z.string().optional(), code: z.string().optional() });
export type ErrorBody = z.output<typeof errorBody>;

export class ApiError extends Error {
  constructor(
    /** The HTTP status; 0 when the server could not be reached or its answer was cut. */
    readonly status: number,
    message: string,
    readonly field?: string,
    /** The domain error code the server gave (VALIDATION, CONFLICT, ...), when it gave one. */
    readonly code?: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }

  /**
   * From a non-2xx answer's text: the server's message and field when it is an error body,
   * else the text. With `what` (the call), the message says which call failed and how.
   */
  static fromAnswer(status: number, text: string, what?: string): ApiError {
    let body: ErrorBody | undefined;
    try {
      const parsed = errorBody.safeParse(JSON.parse(text));
      if (parsed.success) body = parsed.data;
    } catch {
      // not JSON: keep the text
    }
    const said = body?.error ?? (text.slice(0, 300) || `HTTP ${status}`);
    const message = what ? `${what} failed with HTTP ${status}: ${said}` : body ? said : `HTTP ${status}: ${said}`;
    return new ApiError(status, message, body?.field, body?.code);
  }

  /** A 4xx other than 408 (timeout) and 429 (throttled): this request will not work as it is. */
  get rejected(): boolean {
    return this.status >= 400 && this.status < 500 && this.status !== 408 && this.status !== 429;
  }
}
