import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../../cdk/lib/paths.js';
import { testConfig } from './support.js';

// `npx cdk synth` from the repository root, as CI and users run it: no AWS account, no
// credentials, no AWS endpoint, and Docker made unusable (CDK_DOCKER), so bundling must be local.

const run = promisify(execFile);
const tmp = mkdtempSync(join(tmpdir(), 'stratus-cdk-cli-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function offlineEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, CDK_DOCKER: join(tmp, 'no-docker'), AWS_EC2_METADATA_DISABLED: 'true', AWS_CONFIG_FILE: join(tmp, 'none'), AWS_SHARED_CREDENTIALS_FILE: join(tmp, 'none'), CI: 'true' };
  for (const k of ['AWS_ENDPOINT_URL', 'AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN', 'AWS_PROFILE', 'CDK_DEFAULT_ACCOUNT']) delete env[k];
  return env;
}

async function cdkSynth(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run('npx', ['cdk', 'synth', '--quiet', ...args], { cwd: REPO_ROOT, env: offlineEnv(), maxBuffer: 32 * 1024 * 1024, timeout: 150_000 });
    return { code: 0, stdout, stderr };
  } catch (e) {
    const err = e as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof err.code === 'number' ? err.code : 1, stdout: err.stdout ?? '', stderr: err.stderr ?? '' };
  }
}

describe('npx cdk synth (cdk.json at the repository root)', () => {
  it('synthesizes the default config (cdk/stratus.config.json) with no account, network or Docker', { timeout: 180_000 }, async () => {
    const out = join(tmp, 'default');
    const result = await cdkSynth(['-o', out]);
    expect(result.code, result.stderr).toBe(0);
    const config = JSON.parse(readFileSync(join(REPO_ROOT, 'cdk/stratus.config.json'), 'utf8')) as { regions: { name: string }[] };
    for (const { name } of config.regions) {
      const template = JSON.parse(readFileSync(join(out, `stratus-${name}.template.json`), 'utf8')) as { Resources: Record<string, { Type: string }> };
      // API handler, leader reactor, gossip receiver, scheduler stream, agent socket.
      expect(Object.values(template.Resources).filter((r) => r.Type === 'AWS::Lambda::Function')).toHaveLength(5);
    }
    expect(result.stdout + result.stderr).not.toMatch(/docker/i);
  });

  it('fails on a bad config given with -c config=..., naming the field', { timeout: 120_000 }, async () => {
    const bad = structuredClone(testConfig());
    bad.regions[0]!.agentGroups![0]!.minSize = 9;
    const file = join(tmp, 'bad.json');
    writeFileSync(file, JSON.stringify(bad));
    const result = await cdkSynth(['-c', `config=${file}`, '-o', join(tmp, 'bad')]);
    expect(result.code).not.toBe(0);
    // With CI=true the CLI may print to stdout what it prints to stderr elsewhere.
    const output = result.stdout + result.stderr;
    expect(output).toContain(`${file}: invalid Stratus config`);
    expect(output).toContain('regions[0].agentGroups[0].minSize: minSize 9 is greater than maxSize 8');
    expect(existsSync(join(tmp, 'bad', 'stratus-us-east-1.template.json'))).toBe(false);
  });
});
