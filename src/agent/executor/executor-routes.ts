import { streamHeaders } from '../../http/content-negotiation.js';
import { parseJsonBody } from '../../http/json-body.js';
import type { Router } from '../../http/router.js';
import { UnavailableError } from '../../core/errors.js';
import { decodeExecutorCall } from './executor-call.js';
import { callerProof, type ExecutorManager } from './executor-manager.js';

// POST /api/v1/executor on the agent endpoint: Mesos's executor HTTP API. SUBSCRIBE answers
// 200 with the executor's RecordIO event stream (Mesos-Stream-Id names the subscription);
// UPDATE and MESSAGE answer 202. Malformed calls are 400 naming the field, a caller that is not
// the executor 401, a task of another executor 403, an unknown executor 404 — all before any
// state changes.

export function mountExecutorApi(router: Router, executors: () => ExecutorManager | undefined): void {
  router.route('POST', '/api/v1/executor', async (req) => {
    const call = decodeExecutorCall(parseJsonBody(req));
    const proof = callerProof(req.headers, req.connection);
    const manager = executors();
    if (manager === undefined) throw new UnavailableError('the agent is not registered yet: subscribe again shortly');
    if (call.type === 'SUBSCRIBE') {
      const headers = streamHeaders(req);
      const { streamId, channel } = manager.subscribe(call, proof, req.signal);
      return { status: 200, headers: { ...headers, 'Mesos-Stream-Id': streamId }, stream: channel };
    }
    if (call.type === 'UPDATE') manager.update(call, proof);
    else manager.message(call, proof);
    return { status: 202 };
  });
}
