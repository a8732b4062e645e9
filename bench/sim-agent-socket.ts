import { ReregisterRequired } from '../src/agent/master-client.js';
import { SocketMasterClient } from '../src/agent/master-socket.js';
import type { HeartbeatRequest, RegisterRequest, StatusUpdate, WorkRequest } from '../src/wire/agent-api.js';
import { ApiError } from '../src/wire/api-error.js';
import type { SimAgentCall, SimAgentTransport } from './sim-agent.js';

// The simulated agent's socket transport: the real agent's socket client (src/agent/master-socket.ts:
// frames, reply matching, reconnect with backoff, work nudges, a resynchronising nudge after a
// reconnect), its answers turned back into the HTTP status and body SimAgent reads. A reply of
// 404/409 (register again) becomes that status; an unreachable master stays an error.

export class SocketAgentTransport implements SimAgentTransport {
  private readonly client: SocketMasterClient;

  constructor(url: string, token: string | undefined) {
    this.client = new SocketMasterClient(url, token ? { headers: { Authorization: `Bearer ${token}` } } : {});
  }

  /** Connections opened so far (a reconnect is any after the first). */
  get connections(): number {
    return this.client.connections;
  }

  async call(action: SimAgentCall, agentId: string | undefined, body: unknown): Promise<{ status: number; json: Record<string, unknown> }> {
    try {
      switch (action) {
        case 'register':
          return { status: 200, json: { ...(await this.client.register(body as RegisterRequest)) } };
        case 'heartbeat':
          await this.client.heartbeat(agentId!, body as HeartbeatRequest);
          return { status: 200, json: {} };
        case 'work':
          return { status: 200, json: { ...(await this.client.work(agentId!, body as WorkRequest)) } };
        case 'status':
          return { status: 200, json: { ...(await this.client.status(agentId!, body as { session: string; updates: StatusUpdate[] })) } };
      }
    } catch (e) {
      if (e instanceof ReregisterRequired) return { status: 409, json: { error: e.message } };
      if (e instanceof ApiError && e.status > 0) return { status: e.status, json: { error: e.message } };
      throw e;
    }
  }

  onWork(listener: (version: number | undefined) => void): void {
    this.client.onWork(listener);
  }

  close(): void {
    this.client.close();
  }
}
