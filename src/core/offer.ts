import type { AgentId, FrameworkId, OfferId } from './ids.js';
import type { Resources } from './resources.js';

export interface Offer {
  readonly id: OfferId;
  readonly frameworkId: FrameworkId;
  readonly agentId: AgentId;
  readonly hostname: string;
  readonly role: string;
  readonly resources: Resources;
  readonly attributes: Readonly<Record<string, string>>;
  /** The lease epoch the offer was made in: offers from an earlier epoch are invalid. */
  readonly epoch: number;
  readonly createdAt: number;
  /** Rescinded when unused by then. */
  readonly expiresAt: number;
}

/** A DECLINE's refusal: this framework gets no offers from this agent until `until`. */
export interface DeclineFilter {
  readonly frameworkId: FrameworkId;
  readonly agentId: AgentId;
  readonly until: number;
}
