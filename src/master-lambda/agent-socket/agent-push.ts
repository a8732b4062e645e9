// The port the master sends agent-socket frames through (replies and work nudges): the `ws`
// connections of this process (local-push.ts) or API Gateway's Management API
// (../lambda/api-gateway-push.ts). The handlers never know which.

/** `gone`: the connection no longer exists (API Gateway's 410): its Registry item should go. */
export type PushResult = 'sent' | 'gone' | 'failed';

export interface AgentPush {
  send(connectionId: string, text: string): Promise<PushResult>;
}
