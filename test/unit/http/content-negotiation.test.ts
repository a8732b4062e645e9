import { describe, expect, it } from 'vitest';
import { mediaRanges, requireJsonAccepted, requireJsonBody, streamHeaders } from '../../../src/http/content-negotiation.js';
import type { HttpRequest } from '../../../src/http/types.js';
import { ApiError } from '../../../src/wire/api-error.js';

// Mesos's content negotiation on its v1 APIs, as Stratus (JSON only) does it.

function req(headers: Record<string, string>): HttpRequest {
  return { method: 'POST', path: '/api/v1/scheduler', query: new URLSearchParams(), headers, body: '{}' };
}

function statusOf(f: () => unknown): { status: number; field: string | undefined } | undefined {
  try {
    f();
    return undefined;
  } catch (e) {
    if (!(e instanceof ApiError)) throw e;
    return { status: e.status, field: e.field };
  }
}

describe('mediaRanges', () => {
  it('orders by q, drops q=0 and keeps the order of equal q', () => {
    expect(mediaRanges('application/x-protobuf;q=0.5, application/json;q=0, application/recordio, application/json')).toEqual([
      { type: 'application/recordio', q: 1 },
      { type: 'application/json', q: 1 },
      { type: 'application/x-protobuf', q: 0.5 },
    ]);
    expect(mediaRanges(undefined)).toEqual([]);
    expect(mediaRanges('  ')).toEqual([]);
  });
});

describe('requireJsonAccepted', () => {
  it.each([[{}], [{ accept: '*/*' }], [{ accept: 'application/*' }], [{ accept: 'application/json' }], [{ accept: 'application/x-protobuf, application/json;q=0.1' }]])('answers JSON for %j', (h) => {
    expect(statusOf(() => requireJsonAccepted(req(h)))).toBeUndefined();
  });

  it('is 406 naming Accept when only protobuf (or nothing JSON) is acceptable', () => {
    expect(statusOf(() => requireJsonAccepted(req({ accept: 'application/x-protobuf' })))).toEqual({ status: 406, field: 'Accept' });
    expect(statusOf(() => requireJsonAccepted(req({ accept: 'application/json;q=0, application/x-protobuf' })))).toEqual({ status: 406, field: 'Accept' });
    expect(statusOf(() => requireJsonAccepted(req({ accept: 'text/html' })))).toEqual({ status: 406, field: 'Accept' });
  });
});

describe('requireJsonBody', () => {
  it('reads JSON, with or without parameters, and an absent Content-Type as JSON', () => {
    const cases: Record<string, string>[] = [{}, { 'content-type': 'application/json' }, { 'content-type': 'Application/JSON; charset=utf-8' }];
    for (const h of cases) {
      expect(statusOf(() => requireJsonBody(req(h)))).toBeUndefined();
    }
  });

  it('is 415 naming Content-Type for a protobuf (or any other) body', () => {
    expect(statusOf(() => requireJsonBody(req({ 'content-type': 'application/x-protobuf' })))).toEqual({ status: 415, field: 'Content-Type' });
    expect(statusOf(() => requireJsonBody(req({ 'content-type': 'text/plain' })))).toEqual({ status: 415, field: 'Content-Type' });
  });
});

describe('streamHeaders', () => {
  it('streams under application/json when asked for JSON or anything (Mesos 1.x, what mesos-go and pymesos ask)', () => {
    expect(streamHeaders(req({ accept: 'application/json' }))).toEqual({ 'Content-Type': 'application/json' });
    expect(streamHeaders(req({}))).toEqual({ 'Content-Type': 'application/json' });
    expect(streamHeaders(req({ accept: '*/*' }))).toEqual({ 'Content-Type': 'application/json' });
  });

  it('streams application/recordio with Message-Content-Type when RecordIO is preferred (the Stratus SDK)', () => {
    const recordio = { 'Content-Type': 'application/recordio', 'Message-Content-Type': 'application/json' };
    expect(streamHeaders(req({ accept: 'application/recordio, application/json' }))).toEqual(recordio);
    expect(streamHeaders(req({ accept: 'application/recordio', 'message-accept': 'application/json' }))).toEqual(recordio);
    expect(streamHeaders(req({ accept: 'application/json;q=0.5, application/recordio' }))).toEqual(recordio);
  });

  it('is 406 when no JSON stream is acceptable: protobuf only, or RecordIO of protobuf messages only', () => {
    expect(statusOf(() => streamHeaders(req({ accept: 'application/x-protobuf' })))).toEqual({ status: 406, field: 'Accept' });
    expect(statusOf(() => streamHeaders(req({ accept: 'application/recordio', 'message-accept': 'application/x-protobuf' })))).toEqual({ status: 406, field: 'Message-Accept' });
  });
});
