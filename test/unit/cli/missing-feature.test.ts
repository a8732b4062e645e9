import { describe, expect, it } from 'vitest';
import { errorMessage } from '../../../src/cli/dispatch.js';
import { missingFeature } from '../../../src/cli/missing-feature.js';
import { ApiError } from '../../../src/wire/api-error.js';

// Only the router's own 404 (no route, field `path`) means a part is missing: a 404 of a route
// that exists (no such job) is the API's answer, shown as it is.

describe('missingFeature', () => {
  const noRoute = (method: string, path: string): ApiError => ApiError.fromAnswer(404, JSON.stringify({ error: `no such endpoint: ${method} ${path}`, field: 'path' }));

  it('names the part of a route the master does not have', () => {
    expect(missingFeature(noRoute('GET', '/api/v1/autoscaler/rules'))).toMatch(/^the autoscaler is not enabled on this master .*--autoscale-max N/);
    expect(missingFeature(noRoute('PUT', '/api/v1/jobs/web'))).toMatch(/^the jobs framework is not running on this master .*stratus master --jobs/);
    expect(missingFeature(noRoute('GET', '/api/v1/federation/peers'))).toMatch(/^federation is not enabled on this master .*--regions a,b.*STRATUS_PEERS/);
  });

  it('leaves other answers alone', () => {
    expect(missingFeature(noRoute('GET', '/api/v1/jobsx'))).toBeUndefined();
    expect(missingFeature(noRoute('GET', '/master/nothing'))).toBeUndefined();
    expect(missingFeature(new ApiError(404, "no job named 'web'", 'name'))).toBeUndefined();
    expect(missingFeature(new ApiError(404, 'no such endpoint: GET /api/v1/jobs'))).toBeUndefined();
    expect(missingFeature(new ApiError(405, 'no such endpoint: GET /api/v1/jobs', 'path'))).toBeUndefined();
    expect(missingFeature(new Error('no such endpoint: GET /api/v1/jobs'))).toBeUndefined();
    expect(errorMessage(new ApiError(400, 'must be at least 1', 'instances'))).toBe('must be at least 1 (field instances)');
  });
});
