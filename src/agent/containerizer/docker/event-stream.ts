import type { Readable } from 'node:stream';
import type Docker from 'dockerode';
import { LABEL_AGENT_ID, LABEL_CONTAINER_ID } from '../validation.js';

// The engine's /events stream, filtered on this agent's containers: one per containerizer. It
// tells of `die` and `oom` as they happen; after a reconnect it replays from the last event
// seen (`since`), so nothing that happened while it was away is lost.

interface EngineEvent {
  readonly Type?: string;
  readonly Action?: string;
  readonly Actor?: { readonly ID?: string; readonly Attributes?: Readonly<Record<string, string>> };
  readonly timeNano?: number;
}

export interface EventStreamOptions {
  /** The client for long-lived streams (bounded until the response starts only). */
  readonly streams: Docker;
  readonly agentId: string;
  readonly closed: () => boolean;
  /** The stream is attached: whatever happened while none was is for the caller to find out. */
  readonly onAttached: () => void;
  /** An event about one of this agent's containers, by its Stratus container id. */
  readonly onContainerEvent: (action: string | undefined, containerId: string) => void;
  readonly onError: (e: unknown) => void;
  /** The stream ended while the containerizer was open. */
  readonly onLost: () => void;
}

/** Counts as the engine going away, so that a caller that needs the stream retries until it is back. */
class EventStreamDetached extends Error {
  readonly code = 'ECONNRESET';
}

export class EventStream {
  private stream: Readable | undefined;
  private connecting: Promise<void> | undefined;
  /** Unix seconds (fractional) to replay events from after a reconnect. */
  private since: number | undefined;

  constructor(private readonly o: EventStreamOptions) {}

  get attached(): boolean {
    return this.stream !== undefined;
  }

  /** Throws (as an engine that went away) unless the stream is attached. */
  require(): void {
    if (this.stream === undefined) throw new EventStreamDetached('event stream closed');
  }

  /** Attaches the stream (single flight); a no-op while attached. */
  connect(): Promise<void> {
    if (this.stream !== undefined || this.o.closed()) return Promise.resolve();
    this.connecting ??= this.attach().finally(() => (this.connecting = undefined));
    return this.connecting;
  }

  close(): void {
    this.stream?.destroy();
    this.stream = undefined;
  }

  private async attach(): Promise<void> {
    const since = this.since;
    const raw = await this.o.streams.getEvents({
      ...(since !== undefined && { since }),
      filters: { type: ['container'], label: [`${LABEL_AGENT_ID}=${this.o.agentId}`] },
    });
    const stream = raw as unknown as Readable;
    if (this.o.closed()) {
      stream.destroy();
      return;
    }
    // Replays after a reconnect start a second early: duplicates are harmless, gaps are not.
    this.since ??= Math.floor(Date.now() / 1000) - 1;
    this.stream = stream;
    let pending = '';
    stream.on('data', (chunk: Buffer) => {
      pending += chunk.toString('utf8');
      let nl: number;
      while ((nl = pending.indexOf('\n')) >= 0) {
        const line = pending.slice(0, nl).trim();
        pending = pending.slice(nl + 1);
        if (line) this.onLine(line);
      }
    });
    stream.on('error', (e: Error) => this.o.onError(e));
    stream.on('close', () => {
      if (this.stream !== stream) return;
      this.stream = undefined;
      if (!this.o.closed()) this.o.onLost();
    });
    this.o.onAttached();
  }

  private onLine(line: string): void {
    let ev: EngineEvent;
    try {
      ev = JSON.parse(line) as EngineEvent;
    } catch {
      return;
    }
    if (ev.timeNano !== undefined) this.since = ev.timeNano / 1e9;
    if (ev.Type !== 'container') return;
    const cid = ev.Actor?.Attributes?.[LABEL_CONTAINER_ID];
    if (cid !== undefined) this.o.onContainerEvent(ev.Action, cid);
  }
}
