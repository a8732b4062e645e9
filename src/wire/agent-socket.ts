import { z } from 'zod';
import { errorBody } from './api-error.js';

// The agent channel over WebSocket: the HTTP agent API's calls as frames (src/wire/agent-api.ts
// holds the bodies; the socket adds only the envelope). The agent sends
//   {id, action, agent_id?, body}        body = the JSON body of the same HTTP call
// and the master answers each with
//   {type:'reply', id, status, body}     status and body as the HTTP call would answer
// (or, for a reply too large for one message, {type:'reply-part', ...} pieces), pushes
//   {type:'work', version}               the agent's work changed: ask for it
// and answers a frame it cannot read (not JSON, unknown action, wrong types, oversize) with
//   {type:'error', id?, field?, message} which changes no state.
// The limits are API Gateway's: 32 KB per frame from a client, 128 KB per message.

/** Where the local server accepts the upgrade (the API Gateway WebSocket API has its own URL). */
export const AGENT_SOCKET_PATH = '/api/v1/agents/socket';

/** A frame from the agent larger than this is refused (API Gateway's frame limit). */
export const MAX_AGENT_FRAME_BYTES = 32 * 1024;

/** A reply frame larger than this goes in parts (API Gateway's message limit is 128 KB). */
export const MAX_REPLY_BYTES = 96 * 1024;

/**
 * Characters of the reply's JSON per part: a character costs at most 3 bytes of UTF-8, or 2
 * once escaped in the part's string, so a part stays under MAX_REPLY_BYTES.
 */
export const REPLY_PART_CHARS = 30_000;

export const AGENT_SOCKET_ACTIONS = ['register', 'heartbeat', 'status', 'work', 'messages', 'authorize'] as const;
export type AgentSocketAction = (typeof AGENT_SOCKET_ACTIONS)[number];

export const agentFrame = z.object({
  /** The caller's id for the call; the reply carries it back. */
  id: z.string().min(1).max(64),
  action: z.enum(AGENT_SOCKET_ACTIONS),
  /** The agent the call acts for (the HTTP path's segment); default the agent this connection registered as. */
  agent_id: z.string().min(1).max(255).optional(),
  body: z.unknown(),
});
export type AgentFrame = z.input<typeof agentFrame>;

export const replyFrame = z.object({ type: z.literal('reply'), id: z.string(), status: z.number().int(), body: z.unknown() });
export type ReplyFrame = z.output<typeof replyFrame>;

export const replyPartFrame = z.object({
  type: z.literal('reply-part'),
  id: z.string(),
  seq: z.number().int().min(0),
  last: z.boolean(),
  /** A piece of the whole reply frame's JSON text; the pieces in seq order make it up. */
  data: z.string(),
});
export type ReplyPartFrame = z.output<typeof replyPartFrame>;

export const workNudgeFrame = z.object({ type: z.literal('work'), version: z.number().int().min(0) });
export type WorkNudgeFrame = z.output<typeof workNudgeFrame>;

export const errorFrame = z.object({ type: z.literal('error'), id: z.string().optional(), field: z.string().optional(), message: z.string() });
export type ErrorFrame = z.output<typeof errorFrame>;

export const masterFrame = z.discriminatedUnion('type', [replyFrame, replyPartFrame, workNudgeFrame, errorFrame]);
export type MasterFrame = z.output<typeof masterFrame>;

/** The body of a non-2xx reply: the HTTP API's error body. */
export const replyErrorBody = errorBody;

/**
 * The texts to send for one reply: the reply frame itself, or, when it is larger than
 * MAX_REPLY_BYTES, reply-part frames the client joins (see ReplyAssembler).
 */
export function replyTexts(reply: ReplyFrame): string[] {
  const text = JSON.stringify(reply);
  if (Buffer.byteLength(text) <= MAX_REPLY_BYTES) return [text];
  const parts: string[] = [];
  for (let at = 0, seq = 0; at < text.length; at += REPLY_PART_CHARS, seq++) {
    const data = text.slice(at, at + REPLY_PART_CHARS);
    const part: ReplyPartFrame = { type: 'reply-part', id: reply.id, seq, last: at + REPLY_PART_CHARS >= text.length, data };
    parts.push(JSON.stringify(part));
  }
  return parts;
}

/** Joins reply-part frames back into their reply (parts of one reply arrive in order on one connection). */
export class ReplyAssembler {
  private readonly pending = new Map<string, { next: number; data: string[] }>();

  /** The whole reply once its last part arrived; undefined before. Throws on a part out of order. */
  add(part: ReplyPartFrame): ReplyFrame | undefined {
    const p = this.pending.get(part.id) ?? { next: 0, data: [] };
    if (part.seq !== p.next) {
      this.pending.delete(part.id);
      throw new Error(`reply ${part.id}: part ${part.seq} arrived, expected ${p.next}`);
    }
    p.data.push(part.data);
    p.next++;
    if (!part.last) {
      this.pending.set(part.id, p);
      return undefined;
    }
    this.pending.delete(part.id);
    return replyFrame.parse(JSON.parse(p.data.join('')));
  }

  /** Drops partial replies (the connection is gone). */
  clear(): void {
    this.pending.clear();
  }
}
