import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { MESOS_COMPATIBLE_VERSION, STRATUS_VERSION } from '../../../src/wire/mesos-version.js';

describe('versions', () => {
  it("Stratus's version is package.json's", () => {
    const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string };
    expect(STRATUS_VERSION).toBe(pkg.version);
  });
  it('the Mesos API version is a 1.x release', () => {
    expect(MESOS_COMPATIBLE_VERSION).toMatch(/^1\.\d+\.\d+$/);
  });
});
