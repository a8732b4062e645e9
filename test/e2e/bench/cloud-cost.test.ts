import { expect, it } from 'vitest';
import { cloudCostTables, LONG_POLL, RECORDIO_FRAMEWORKS, runCloudCost, WEBSOCKET_AGENTS } from '../../../bench/cloud-cost.js';
import { costOf, HOURS_PER_MONTH, LAMBDA_MEMORY_MB, scaleUnits } from '../../../bench/cloud-units.js';
import { describeWith } from '../../support/components.js';

// The cloud-cost meter at a tiny size (2 agents, 1 idle framework, 3 s long-polls, 5 tasks), in the three metered modes:
// the Lambda handlers on moto behind the HTTP API, REST-streaming and WebSocket stand-ins. Its tables have their shape, every
// count it scales is non-zero, and the ledger agrees with the stand-in and with itself.

await describeWith(['aws'], 'cloud-cost benchmark core', () => {
  it('meters an idle region and a short-task run the cloud way', async () => {
    const r = await runCloudCost({ modes: [LONG_POLL, RECORDIO_FRAMEWORKS, WEBSOCKET_AGENTS], sampleAgents: 2, sampleFrameworks: 1, windowMs: 16_000, pollSeconds: 3, sizes: [10, 1000], frameworks: 5, tasks: 5, timeoutMs: 150_000 });
    expect(r.modes.map((x) => x.mode)).toEqual([LONG_POLL, RECORDIO_FRAMEWORKS, WEBSOCKET_AGENTS]);
    expect(r.skipped).toEqual([]);
    const m = r.modes[0]!;
    const idle = m.idle;

    // Every request went through one handler invocation, and every AWS request was booked to an action.
    expect(r.httpApi.requests).toBeGreaterThan(0);
    expect(r.httpApi.ledgerRequests).toBe(r.httpApi.requests);
    expect(r.httpApi.ledgerApiInvocations).toBe(r.httpApi.invocations);
    expect(r.httpApi.timeouts).toBeLessThanOrEqual(r.httpApi.requests); // reported in the table (a loaded moto can push a long-poll past 29 s)
    expect(r.untaggedAwsRequests).toBe(0);
    expect(r.awsActions['dynamodb.GetItem']).toBeGreaterThan(0);

    // Idle agents heartbeat and long-poll; the idle framework long-polls; the leader ticks.
    const tags = idle.actions.map((a) => a.tag);
    expect(tags).toContain('api:agent work poll');
    expect(tags).toContain('api:agent heartbeat');
    expect(tags).toContain('api:framework event poll');
    expect(tags.some((t) => t.startsWith('tick:'))).toBe(true);
    for (const hour of [idle.agentHour, idle.frameworkHour, idle.leaderHour]) {
      expect(hour.lambdaInvocations).toBeGreaterThan(0);
      expect(hour.lambdaGbSeconds).toBeGreaterThan(0);
      expect(hour.dynamoRru).toBeGreaterThan(0);
    }
    expect(idle.agentHour.httpApiRequests).toBeGreaterThan(0);
    // A long-polling agent holds about one execution all the time; its GB-s say the same.
    expect(idle.agentConcurrency).toBeGreaterThan(0.7);
    expect(idle.agentConcurrency).toBeLessThan(1.3);
    const heldGbs = idle.agentConcurrency * 3600 * (LAMBDA_MEMORY_MB.api / 1024);
    expect(idle.agentHour.lambdaGbSeconds / heldGbs).toBeGreaterThan(0.8);
    expect(idle.agentHour.lambdaGbSeconds / heldGbs).toBeLessThan(1.25);
    // Today's design: tens of dollars per idle agent-month (the issue measured ~$44).
    const agentMonth = costOf(scaleUnits(idle.agentHour, HOURS_PER_MONTH)).total;
    expect(agentMonth).toBeGreaterThan(30);
    expect(agentMonth).toBeLessThan(60);

    // The task run: every task once, units counted.
    expect(m.taskRun.finished + m.taskRun.endedOtherwise).toBe(5);
    expect(m.taskRun.finished).toBeGreaterThan(0);
    expect(m.taskRun.runningApplied).toBeGreaterThan(0);
    expect(m.taskRun.units.httpApiRequests).toBeGreaterThan(5);
    expect(m.taskRun.units.dynamoWru).toBeGreaterThan(5);
    expect(m.taskRun.launchToAgentP50Ms).toBeGreaterThanOrEqual(0);

    // RecordIO-streaming frameworks: SUBSCRIBE holds a 128 MB execution; every request went through the REST stand-in once.
    const streamed = r.modes[1]!;
    expect(r.restStreaming.requests).toBeGreaterThan(0);
    expect(r.restStreaming.ledgerRequests).toBe(r.restStreaming.requests);
    expect(streamed.idle.actions.map((a) => a.tag)).toContain('scheduler-stream:framework event stream (SUBSCRIBE)');
    expect(streamed.idle.frameworkConcurrency).toBeGreaterThan(0.7);
    expect(streamed.idle.frameworkConcurrency).toBeLessThan(1.3);
    expect(streamed.idle.frameworkHour.restApiRequests).toBeGreaterThanOrEqual(0);
    expect(streamed.idle.frameworkHour.dynamoRru).toBeGreaterThan(0);
    const streamedMonth = costOf(scaleUnits(streamed.idle.frameworkHour, HOURS_PER_MONTH)).total;
    expect(streamedMonth).toBeGreaterThan(3);
    expect(streamedMonth).toBeLessThan(costOf(scaleUnits(idle.frameworkHour, HOURS_PER_MONTH)).total / 3);
    expect(streamed.taskRun.finished + streamed.taskRun.endedOtherwise).toBe(5);

    // WebSocket agents: pings and safety polls as frames to the 256 MB agent socket function, work pushed.
    const ws = r.modes[2]!;
    const wsTags = ws.idle.actions.map((a) => a.tag);
    expect(wsTags).toContain('agent-socket:agent heartbeat');
    expect(wsTags).toContain('agent-socket:agent work');
    expect(wsTags).toContain('agent-socket:agent connection');
    expect(wsTags.some((t) => t.startsWith('agent-socket:reconnect'))).toBe(true);
    expect(wsTags.some((t) => t.startsWith('api:agent '))).toBe(false); // nothing long-polls
    const ping = ws.idle.actions.find((a) => a.tag === 'agent-socket:agent heartbeat')!;
    expect(ping.count).toBeGreaterThan(0);
    expect(ping.perActorHour).toBe(15); // every 4 minutes, as the master tells a socket agent
    // The frame in, its reply out (a reply may fall just outside the window: one per agent at either edge).
    expect(Math.abs(ping.units.webSocketMessages - 2 * ping.count)).toBeLessThanOrEqual(2);
    expect(ping.units.lambdaGbSeconds).toBeCloseTo(ping.units.lambdaSeconds / 4, 2); // 256 MB
    expect(ws.idle.agentHour.webSocketConnectionMinutes).toBeGreaterThan(50);
    expect(ws.idle.agentHour.webSocketConnectionMinutes).toBeLessThan(70);
    expect(ws.idle.agentHour.webSocketMessages).toBeGreaterThan(0);
    expect(ws.idle.agentHour.httpApiRequests).toBe(0);
    expect(ws.idle.agentConcurrency).toBeLessThan(0.01);
    const wsAgentMonth = costOf(scaleUnits(ws.idle.agentHour, HOURS_PER_MONTH)).total;
    expect(wsAgentMonth).toBeGreaterThan(0);
    expect(wsAgentMonth).toBeLessThan(agentMonth / 100);
    expect(ws.taskRun.finished + ws.taskRun.endedOtherwise).toBe(5);
    expect(ws.taskRun.units.webSocketMessages).toBeGreaterThan(5);
    // The ledger agrees with the WebSocket stand-in: messages both ways, invocations, connection time.
    expect(r.webSocket.messageUnits).toBeGreaterThan(0);
    expect(r.webSocket.ledgerMessages).toBe(r.webSocket.messageUnits);
    expect(r.webSocket.ledgerInvocations).toBe(r.webSocket.invocations);
    expect(r.webSocket.ledgerConnectionMinutes).toBeCloseTo(r.webSocket.connectionMinutes, 1);

    const tables = cloudCostTables(r);
    const [idleTable, actions, tasks, prices] = tables;
    // Per mode: the sizes and the Mesos row; then the ratio of the baseline to the other mode.
    expect(idleTable!.rows.map((x) => x.agents)).toEqual([10, 1000, null, 10, 1000, null, 10, 1000, null, null, null]);
    expect(String(idleTable!.rows[9]!.mode)).toMatch(/^ratio /);
    expect(String(idleTable!.rows[10]!.mode)).toMatch(/^ratio .*WebSocket agents/);
    expect(idleTable!.notes!.some((n) => n.startsWith('Not metered'))).toBe(false);
    const at1000 = idleTable!.rows[1]!;
    expect(at1000['region $/month']).toBeCloseTo(1000 * (at1000['$/idle agent-month'] as number) + 5 * (at1000['$/idle framework-month'] as number) + (at1000['leader $/month'] as number), 6);
    expect(at1000['target ≤ $60 (1,000 + 5)']).toBe('MISSED');
    expect(idleTable!.rows[2]!['region $/month']).toBeCloseTo(6 * 0.096 * 730, 6);
    expect(actions!.rows.length).toBe(r.modes.reduce((n, x) => n + x.idle.actions.length, 0));
    expect(tasks!.rows).toHaveLength(3);
    expect(tasks!.rows[0]!['$/M tasks']).toBeGreaterThan(0);
    expect(prices!.rows.length).toBeGreaterThan(5);
  }, 600_000);
});
