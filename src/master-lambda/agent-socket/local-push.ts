import type { WebSocket } from 'ws';
import type { AgentPush, PushResult } from './agent-push.js';

// AgentPush over the `ws` connections this process accepted (the local server).

export class LocalAgentPush implements AgentPush {
  private readonly sockets = new Map<string, WebSocket>();

  add(connectionId: string, ws: WebSocket): void {
    this.sockets.set(connectionId, ws);
  }

  remove(connectionId: string): void {
    this.sockets.delete(connectionId);
  }

  get size(): number {
    return this.sockets.size;
  }

  /** Closes every connection (the server stops). */
  closeAll(code = 1001, reason = 'server stopping'): void {
    for (const ws of this.sockets.values()) ws.close(code, reason);
    this.sockets.clear();
  }

  send(connectionId: string, text: string): Promise<PushResult> {
    const ws = this.sockets.get(connectionId);
    // OPEN = 1; a connection of another process is unknown here, as one that closed.
    if (ws === undefined || ws.readyState !== 1) return Promise.resolve('gone');
    return new Promise((resolve) => ws.send(text, (err) => resolve(err ? 'failed' : 'sent')));
  }
}
