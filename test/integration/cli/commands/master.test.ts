import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { promisify } from 'node:util';
import { expect, it } from 'vitest';
import { describeWith } from '../../../support/components.js';
import { CLI } from '../../../support/master-process.js';

// `stratus master` on a DynamoDB table that is not there: one clear error and exit 1, not a
// master that retries its lease forever.

await describeWith(['aws'], 'stratus master on DynamoDB', () => {
  it('exits 1 naming the table and the endpoint when the table does not exist', async () => {
    const table = `stratus-missing-${randomUUID().slice(0, 8)}`;
    const run = promisify(execFile)(process.execPath, [CLI, 'master', '--port', '0'], {
      env: { ...process.env, STRATUS_TABLE: table, STRATUS_LOG_LEVEL: 'warn' },
      timeout: 20_000,
    });
    const failed = await run.then(
      () => undefined,
      (e: { code?: number; stderr?: string }) => e,
    );
    expect(failed?.code).toBe(1);
    expect(failed?.stderr).toContain(`DynamoDB table ${table} does not exist at ${process.env.AWS_ENDPOINT_URL}`);
    expect(failed?.stderr).not.toContain('lease attempt failed');
  });
});
