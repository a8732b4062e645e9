import type { Logger } from '../core/logger.js';
import { ApiError } from '../wire/api-error.js';
import { authorize, openAccess, type Access, type Authenticator } from './auth.js';
import { errorResponse } from './error-response.js';
import type { HttpRequest, HttpResponse } from './types.js';

// The one router: a table of routes, independent of transport. The master, the agent endpoint
// and the jobs, autoscaler and federation routes all mount on one of these; the node server
// and the API Gateway entry points hand it requests.

export type RouteHandler = (req: HttpRequest, params: Record<string, string>) => Promise<HttpResponse>;

export interface RouteOptions {
  /** Checked before the handler runs; default `open`. */
  readonly access?: Access;
}

interface Route {
  readonly method: string;
  readonly pattern: RegExp;
  readonly names: readonly string[];
  readonly handler: RouteHandler;
  readonly access: Access;
  readonly path: string;
}

/** What a request came to: the route (as mounted, e.g. '/api/v1/agents/:agent/:action') and its params. */
export interface RouteMatch {
  route?: string;
  params?: Record<string, string>;
}

/** Told of every request once answered (metrics): the match, if any, the status and the handling time. */
export type RequestObserver = (req: HttpRequest, match: RouteMatch, status: number, seconds: number) => void;

export interface RouterOptions {
  readonly authenticator?: Authenticator;
  /** Larger bodies get 413. Default 1 MiB. */
  readonly maxBodyBytes?: number;
  readonly log: Logger;
  readonly observe?: RequestObserver;
}

export class Router {
  private readonly routes: Route[] = [];
  readonly auth: Authenticator;
  readonly maxBodyBytes: number;
  readonly log: Logger;
  private readonly observe: RequestObserver | undefined;

  constructor(options: RouterOptions) {
    this.auth = options.authenticator ?? openAccess;
    this.maxBodyBytes = options.maxBodyBytes ?? 1024 * 1024;
    this.log = options.log;
    this.observe = options.observe;
  }

  /** Adds a route; `:name` matches one path segment, `:name(a|b)` one of the given words. */
  route(method: string, path: string, handler: RouteHandler, options: RouteOptions = {}): this {
    const names: string[] = [];
    const source = path.replace(/:([a-z_]+)(\(([^)]+)\))?/g, (_m, name: string, _g: string, alt: string | undefined) => {
      names.push(name);
      return alt ? `(${alt})` : '([^/]+)';
    });
    this.routes.push({ method, pattern: new RegExp(`^${source}/?$`), names, handler, access: options.access ?? 'open', path });
    return this;
  }

  async handle(req: HttpRequest): Promise<HttpResponse> {
    if (!this.observe) return this.dispatch(req, {});
    const start = performance.now();
    const match: RouteMatch = {};
    const res = await this.dispatch(req, match);
    try {
      this.observe(req, match, res.status, (performance.now() - start) / 1000);
    } catch (e) {
      this.log.warn('request observer threw', { error: e });
    }
    return res;
  }

  private async dispatch(req: HttpRequest, match: RouteMatch): Promise<HttpResponse> {
    try {
      if (Buffer.byteLength(req.body) > this.maxBodyBytes) {
        throw new ApiError(413, `the request body is larger than ${this.maxBodyBytes} bytes`, 'body');
      }
      let pathMatched = false;
      // HEAD is answered by the GET route (the node server sends no body).
      const method = req.method === 'HEAD' ? 'GET' : req.method;
      for (const r of this.routes) {
        const m = r.pattern.exec(req.path);
        if (!m) continue;
        pathMatched = true;
        if (r.method !== method) continue;
        const params: Record<string, string> = {};
        r.names.forEach((n, i) => {
          try {
            params[n] = decodeURIComponent(m[i + 1]!);
          } catch {
            throw new ApiError(400, `the path segment '${m[i + 1]!.slice(0, 64)}' is not valid percent-encoding`, 'path');
          }
        });
        match.route = r.path;
        match.params = params;
        await authorize(this.auth, r.access, req);
        return await r.handler(req, params);
      }
      if (pathMatched) throw new ApiError(405, `method ${req.method} is not allowed on ${req.path}`, 'method');
      throw new ApiError(404, `no such endpoint: ${req.method} ${req.path}`, 'path');
    } catch (e) {
      return errorResponse(e, this.log);
    }
  }
}
