import type { MasterContext } from '../master-context.js';
import { openAccess, type Authenticator } from './auth.js';
import { agentRoute } from './agent-routes.js';
import { errorResponse, HttpError } from './errors.js';
import { eventsPoll, schedulerCall } from './scheduler-routes.js';
import { operatorCall, stateEndpoint } from './operator-routes.js';
import type { HttpRequest, HttpResponse } from './types.js';

// The master's HTTP API, independent of transport. Extra routes (operator API, federation,
// jobs) plug in as RouteHandlers so the router stays one table.

export type RouteHandler = (req: HttpRequest, params: Record<string, string>) => Promise<HttpResponse>;

interface Route {
  readonly method: string;
  readonly pattern: RegExp;
  readonly names: readonly string[];
  readonly handler: RouteHandler;
}

export interface MasterApiOptions {
  readonly authenticator?: Authenticator;
  /** False behind API Gateway, where a response cannot stream. */
  readonly canStream: boolean;
}

export class MasterApi {
  private readonly routes: Route[] = [];
  readonly auth: Authenticator;

  constructor(
    readonly ctx: MasterContext,
    options: MasterApiOptions,
  ) {
    this.auth = options.authenticator ?? openAccess;
    this.route('POST', '/api/v1/scheduler', (req) => schedulerCall(ctx, this.auth, req, { canStream: options.canStream }));
    this.route('GET', '/api/v1/scheduler/events', (req) => eventsPoll(ctx, this.auth, req));
    this.route('POST', '/api/v1/agents/register', (req) => agentRoute(ctx, this.auth, req, undefined, 'register'));
    this.route('POST', '/api/v1/agents/:agent/:action(heartbeat|work|status)', (req, p) => agentRoute(ctx, this.auth, req, p.agent, p.action!));
    this.route('POST', '/api/v1', (req) => operatorCall(ctx, this.auth, req));
    this.route('GET', '/master/state', (req) => stateEndpoint(ctx, this.auth, req));
    this.route('GET', '/state', (req) => stateEndpoint(ctx, this.auth, req));
    this.route('GET', '/health', async () => ({ status: 200, body: { ok: true } }));
  }

  /** Adds a route; `:name` matches one path segment, `:name(a|b)` one of the given words. */
  route(method: string, path: string, handler: RouteHandler): this {
    const names: string[] = [];
    const source = path.replace(/:([a-z_]+)(\(([^)]+)\))?/g, (_m, name: string, _g: string, alt: string | undefined) => {
      names.push(name);
      return alt ? `(${alt})` : '([^/]+)';
    });
    this.routes.push({ method, pattern: new RegExp(`^${source}/?$`), names, handler });
    return this;
  }

  async handle(req: HttpRequest): Promise<HttpResponse> {
    try {
      if (Buffer.byteLength(req.body) > this.ctx.config.maxBodyBytes) {
        throw new HttpError(413, `the request body is larger than ${this.ctx.config.maxBodyBytes} bytes`, 'body');
      }
      let pathMatched = false;
      for (const r of this.routes) {
        const m = r.pattern.exec(req.path);
        if (!m) continue;
        pathMatched = true;
        if (r.method !== req.method) continue;
        const params: Record<string, string> = {};
        r.names.forEach((n, i) => {
          try {
            params[n] = decodeURIComponent(m[i + 1]!);
          } catch {
            throw new HttpError(400, `the path segment '${m[i + 1]!.slice(0, 64)}' is not valid percent-encoding`, 'path');
          }
        });
        return await r.handler(req, params);
      }
      if (pathMatched) throw new HttpError(405, `method ${req.method} is not allowed on ${req.path}`, 'method');
      throw new HttpError(404, `no such endpoint: ${req.method} ${req.path}`, 'path');
    } catch (e) {
      return errorResponse(e, this.ctx.log);
    }
  }
}
