import { describe, expect, it } from 'vitest';
import { conditionalJson, ifNoneMatchHits, strongEtag } from '../../../src/http/etag.js';
import type { HttpRequest } from '../../../src/http/types.js';

const req = (ifNoneMatch?: string): HttpRequest => ({ method: 'GET', path: '/', query: new URLSearchParams(), headers: ifNoneMatch !== undefined ? { 'if-none-match': ifNoneMatch } : {}, body: '' });

describe('ETags', () => {
  it('tags bytes with a quoted strong hash: equal bytes the same tag, any change another', () => {
    const a = strongEtag('{"a":1}');
    expect(a).toMatch(/^"[A-Za-z0-9_-]{27}"$/);
    expect(strongEtag(Buffer.from('{"a":1}'))).toBe(a);
    expect(strongEtag('{"a":2}')).not.toBe(a);
    expect(strongEtag('{"a":1} ')).not.toBe(a);
  });

  it('matches If-None-Match lists, weak forms and *, and nothing else', () => {
    const t = strongEtag('x');
    expect(ifNoneMatchHits(t, t)).toBe(true);
    expect(ifNoneMatchHits(`"a", ${t}`, t)).toBe(true);
    expect(ifNoneMatchHits(`W/${t}`, t)).toBe(true);
    expect(ifNoneMatchHits('*', t)).toBe(true);
    expect(ifNoneMatchHits(undefined, t)).toBe(false);
    expect(ifNoneMatchHits('', t)).toBe(false);
    expect(ifNoneMatchHits(t.slice(1, -1), t)).toBe(false);
    expect(ifNoneMatchHits('"other"', t)).toBe(false);
  });

  it('answers 200 with the tag of the JSON sent, and 304 without a body for that tag', () => {
    const body = { state: { n: 1 } };
    const full = conditionalJson(req(), body);
    expect(full.status).toBe(200);
    expect(full.body).toEqual(body);
    expect(full.headers?.ETag).toBe(strongEtag(JSON.stringify(body)));
    const not = conditionalJson(req(full.headers!.ETag), body);
    expect(not).toEqual({ status: 304, headers: { ETag: full.headers!.ETag, 'Cache-Control': 'no-cache' } });
    expect(conditionalJson(req(full.headers!.ETag), { state: { n: 2 } }).status).toBe(200);
  });
});
