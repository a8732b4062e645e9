import { createHash } from 'node:crypto';
import { UnavailableError } from '../core/errors.js';
import { ApiError } from '../wire/api-error.js';
import type { MasterChannel } from './master-client.js';

// Who may read this agent's endpoint (task logs, the agent's state): the master decides, from
// the caller's credential, as it does for its own API (src/master-lambda/use-cases/reader-access.ts).
// Answers are kept for a short while, so reading a log in a loop does not call the master each time.

export interface ReaderGrant {
  readonly operator: boolean;
  /** Of the frameworks asked about, those whose tasks the caller may read. */
  readonly frameworks: ReadonlySet<string>;
}

const TTL_MS = 30_000;
const MAX_ENTRIES = 1_000;

export class ReaderAccess {
  private readonly cache = new Map<string, { grant: ReaderGrant; until: number }>();

  constructor(
    private readonly client: MasterChannel,
    private readonly agentId: () => string | undefined,
    private readonly now: () => number = Date.now,
  ) {}

  /** Throws the master's 401/403 as an ApiError, and a 503 when the master cannot be asked. */
  async check(authorization: string | undefined, frameworkIds: readonly string[]): Promise<ReaderGrant> {
    const asked = [...new Set(frameworkIds)].sort();
    const key = createHash('sha256').update(`${authorization ?? ''}\u0000${asked.join('\u0000')}`).digest('hex');
    const hit = this.cache.get(key);
    if (hit && hit.until > this.now()) return hit.grant;
    const id = this.agentId();
    if (id === undefined) throw new UnavailableError('the agent is not registered yet: it cannot check credentials');
    let answer;
    try {
      answer = await this.client.authorize(id, { ...(authorization !== undefined && { authorization }), framework_ids: asked });
    } catch (e) {
      if (e instanceof ApiError && (e.status === 401 || e.status === 403)) throw new ApiError(e.status, e.message, e.field);
      throw new UnavailableError(`cannot check the caller's credentials with the master: ${(e as Error).message}`);
    }
    const grant: ReaderGrant = { operator: answer.operator, frameworks: new Set(answer.frameworks) };
    if (this.cache.size >= MAX_ENTRIES) this.cache.clear();
    this.cache.set(key, { grant, until: this.now() + TTL_MS });
    return grant;
  }
}
