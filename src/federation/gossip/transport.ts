// The GossipTransport port: how one region's digests reach its peers' inboxes. Delivery is
// at-least-once, unordered and may be late (an SQS standard queue does all three); receivers
// make that harmless by ordering digests by (incarnation, seq). Adapters: SQS
// (sqs-transport.ts) for deployed regions, in-process (in-process-transport.ts) for `stratus dev`.

export interface OutgoingMessage {
  /** The peer region whose inbox gets the message. */
  readonly to: string;
  readonly body: string;
}

export interface IncomingMessage {
  readonly id: string;
  readonly body: string;
  /** What `ack` needs to delete the message (SQS's receipt handle). */
  readonly handle: string;
  /** How many times this message was delivered (1 the first time). */
  readonly receiveCount: number;
}

export interface SendResult {
  readonly messages: number;
  /** Transport requests the messages took (SQS: SendMessageBatch calls). */
  readonly requests: number;
  readonly bytes: number;
  /** Messages that did not reach their inbox; gossip resends state next round, so no retry here. */
  readonly failed: readonly { readonly to: string; readonly error: string }[];
}

export interface ReceiveOptions {
  /** The longest to wait for a first message. */
  readonly waitMs: number;
  readonly maxMessages: number;
  /** Aborting resolves the call with what arrived so far (usually nothing). */
  readonly signal?: AbortSignal;
}

export interface GossipTransport {
  /** The region whose inbox `receive` reads. */
  readonly region: string;
  send(messages: readonly OutgoingMessage[]): Promise<SendResult>;
  receive(options: ReceiveOptions): Promise<IncomingMessage[]>;
  /** Deletes processed messages; those not acknowledged are delivered again later. */
  ack(messages: readonly IncomingMessage[]): Promise<void>;
}
