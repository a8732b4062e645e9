import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { CHROMIUM, describeWith } from '../../support/components.js';
import { CLI } from '../../support/master-process.js';
import { waitUntil } from '../../support/wait.js';

// The dashboard in a real browser (Debian's chromium, headless) against `stratus dev` run as
// the README runs it: the page shows the region, a job submitted with `stratus run` appears
// with its instances, a task page shows the status history and the log read through the
// master; with --authenticate the data is refused until the operator signs in. Screenshots
// go to test-artifacts/ (with STRATUS_UPDATE_SCREENSHOT=1, one overview to docs/dashboard.png for the README).

// The page's globals, for the callbacks run in the browser (tests compile without the DOM lib).
interface PageElement {
  readonly textContent: string | null;
}
declare const document: {
  querySelectorAll(selector: string): ArrayLike<PageElement> & Iterable<PageElement>;
  querySelector(selector: string): PageElement | null;
  readonly documentElement: { readonly scrollWidth: number };
};
declare const sessionStorage: { getItem(key: string): string | null };
declare const window: { fetch: (input: unknown, init?: unknown) => Promise<unknown>; stateCalls?: number };

const exec = promisify(execFile);
const ARTIFACTS = resolve('test-artifacts');
const DESKTOP = { width: 1280, height: 800 };
const PHONE = { width: 390, height: 844 };

interface Dev {
  readonly url: string;
  readonly child: ChildProcess;
  output(): string;
  stop(): Promise<void>;
}

async function startDev(extra: string[] = []): Promise<Dev> {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run npm run build first`);
  const child = spawn(process.execPath, [CLI, 'dev', '--port', '0', '--containerizer', 'process', ...extra], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  await waitUntil(() => /Ctrl-C stops everything/.test(out) || child.exitCode !== null, 60_000, 'the dev cluster to start', 50);
  const url = /master (http:\/\/[\d.]+:\d+)/.exec(out)?.[1];
  if (!url) throw new Error(`stratus dev did not start:\n${out}`);
  return {
    url,
    child,
    output: () => out,
    stop: async () => {
      if (child.exitCode !== null) return;
      child.kill('SIGINT');
      await waitUntil(() => child.exitCode !== null, 60_000, 'the dev cluster to stop', 50);
    },
  };
}

/** Submits a job with the CLI; the page, not `stratus run`'s own wait, is what the test watches. */
function runJob(url: string, name: string, instances: number, command: string, env: Record<string, string> = {}, cpus = 0.1): Promise<unknown> {
  return exec(process.execPath, [CLI, 'run', '--detach', '--master', url, '--name', name, '--instances', String(instances), '--cpus', String(cpus), '--mem', '32', '--', command], {
    env: { ...process.env, ...env },
  });
}

const runningInstances = (page: Page, job: string): Promise<number> =>
  page.evaluate((j) => [...document.querySelectorAll(`[data-job="${j}"] [data-instance]`)].filter((e) => e.textContent?.includes('running')).length, job);

await describeWith(['chromium'], 'the dashboard in a real browser', () => {
  let browser: Browser;

  beforeAll(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox'] });
  });

  afterAll(async () => {
    await browser?.close();
  });

  it('shows the region, a job submitted with stratus run and its instances, and a task page with history and log; polls with ETags', async () => {
    const dev = await startDev();
    const page = await browser.newPage({ viewport: DESKTOP });
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    const stateAnswers: number[] = [];
    let conditional = 0;
    page.on('request', (r) => {
      if (new URL(r.url()).pathname === '/master/state' && r.headers()['if-none-match']) conditional++;
    });
    page.on('response', (r) => {
      if (new URL(r.url()).pathname === '/master/state') stateAnswers.push(r.status());
    });
    try {
      await page.goto(dev.url);
      // Three agents, one per zone.
      await page.waitForFunction(() => document.querySelectorAll('#agents .agent').length === 3);
      expect(await page.locator('#agents .zone h3').allTextContents()).toEqual([expect.stringContaining('zone a'), expect.stringContaining('zone b'), expect.stringContaining('zone c')]);

      const marker = `dashboard-${Date.now().toString(36)}`;
      await runJob(dev.url, 'web', 3, `echo ${marker} is up; sleep 600`);
      // The page updates on its own: the instances appear and come up running.
      await page.waitForFunction(() => document.querySelectorAll('[data-job="web"] [data-instance]').length === 3, undefined, { timeout: 60_000 });
      await waitUntil(async () => (await runningInstances(page, 'web')) === 3, 60_000, 'three running instances on the page', 100);
      await page.waitForFunction(() => document.querySelectorAll('#tasks [data-task]').length === 3);
      expect(await page.locator('#frameworks').textContent()).toContain('stratus-jobs');
      // A job no agent has room for (each holds a web instance): it waits, and the page says why.
      await runJob(dev.url, 'too-big', 1, 'sleep 600', {}, 1.95);
      await page.waitForFunction(() => document.querySelector('[data-job="too-big"] .pending')?.textContent?.includes('waits') ?? false, undefined, { timeout: 30_000 });
      expect(await page.locator('[data-job="too-big"] [data-instance]').textContent()).toContain('pending');
      // Nothing changed for a while: the state poll asked with If-None-Match and got 304s.
      await waitUntil(() => stateAnswers.includes(304), 30_000, 'a 304 answer to the state poll', 100);
      expect(conditional).toBeGreaterThan(0);
      expect(stateAnswers.every((s) => s === 200 || s === 304)).toBe(true);

      await page.screenshot({ path: join(ARTIFACTS, 'dashboard-overview-1280x800.png'), fullPage: false });
      await page.screenshot({ path: join(ARTIFACTS, 'dashboard-overview-1280-full.png'), fullPage: true });
      // README's picture is refreshed on request only: a test run must not change the tree.
      if (process.env.STRATUS_UPDATE_SCREENSHOT === '1') {
        mkdirSync(resolve('docs'), { recursive: true });
        copyFileSync(join(ARTIFACTS, 'dashboard-overview-1280x800.png'), resolve('docs/dashboard.png'));
      }
      await page.setViewportSize(PHONE);
      await page.screenshot({ path: join(ARTIFACTS, 'dashboard-overview-390x844.png'), fullPage: true });
      // Nothing wider than the phone's screen but the tables' own scroll areas.
      expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(PHONE.width);
      await page.setViewportSize(DESKTOP);

      // The task page: from an instance, its status history and its log (through the master).
      await page.locator('[data-job="web"] a.instance').first().click();
      await page.waitForSelector('.task-head');
      expect(page.url()).toMatch(/#\/task\//);
      await page.waitForFunction((m) => document.querySelector('pre.log')?.textContent?.includes(m) ?? false, marker, { timeout: 30_000 });
      const history = await page.locator('#history .badge').allTextContents();
      expect(history).toEqual(['RUNNING', 'STARTING', 'STAGING']);
      await page.screenshot({ path: join(ARTIFACTS, 'dashboard-task-1280x800.png'), fullPage: true });
      await page.setViewportSize(PHONE);
      await page.screenshot({ path: join(ARTIFACTS, 'dashboard-task-390x844.png'), fullPage: true });
      expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(PHONE.width);
      expect(errors).toEqual([]);
    } finally {
      await page.close();
      await dev.stop();
    }
  }, 180_000);

  it('polls the state while the tab is visible and makes no call while it is hidden', async () => {
    const dev = await startDev();
    const page = await browser.newPage({ viewport: DESKTOP });
    try {
      // Counted in the page, where fetch is called synchronously from the poll's timer.
      await page.addInitScript(() => {
        const original = window.fetch;
        window.stateCalls = 0;
        window.fetch = (input, init) => {
          if (String(input).startsWith('/master/state')) window.stateCalls! += 1;
          return original(input, init);
        };
      });
      // The page's timers run on a clock the test moves.
      await page.clock.install();
      await page.goto(dev.url);
      await page.waitForFunction(() => document.querySelectorAll('#agents .agent').length === 3);
      const calls = (): Promise<number> => page.evaluate(() => window.stateCalls ?? 0);
      const advanceUntilCalls = async (above: number): Promise<void> => {
        await waitUntil(async () => {
          await page.clock.runFor(500);
          return (await calls()) > above;
        }, 30_000, `a state call after call ${above}`, 10);
      };
      await advanceUntilCalls(await calls());
      await advanceUntilCalls(await calls());

      const setHidden = (hidden: boolean): Promise<void> =>
        page.evaluate((h) => {
          Object.defineProperty(document, 'hidden', { configurable: true, get: () => h });
          (document as unknown as { dispatchEvent(e: unknown): void }).dispatchEvent(new Event('visibilitychange'));
        }, hidden);
      await setHidden(true);
      const hiddenAt = await calls();
      // A minute of the page's time with the tab hidden: not one call.
      await page.clock.runFor(60_000);
      expect(await calls()).toBe(hiddenAt);
      await setHidden(false);
      await advanceUntilCalls(hiddenAt);
    } finally {
      await page.close();
      await dev.stop();
    }
  }, 120_000);

  it('with authentication on, refuses the data without the operator credential, says so for a wrong one, and shows the region after signing in', async () => {
    const dev = await startDev(['--authenticate']);
    const page = await browser.newPage({ viewport: DESKTOP });
    try {
      const out = dev.output();
      const operator = /operator\s+principal (\S+)\s+secret (\S+)/.exec(out);
      const framework = /framework\s+principal (\S+)\s+secret (\S+)/.exec(out);
      expect(operator && framework, out).toBeTruthy();
      const [, opName, opSecret] = operator!;
      const [, fwName, fwSecret] = framework!;
      const basic = (n: string, s: string): string => `Basic ${Buffer.from(`${n}:${s}`).toString('base64')}`;

      // The shell is open; its data is not.
      expect((await fetch(`${dev.url}/`)).status).toBe(200);
      expect((await fetch(`${dev.url}/master/state`)).status).toBe(401);

      await page.goto(dev.url);
      await page.waitForSelector('form.login');
      expect(await page.locator('#agents').count()).toBe(0);
      await page.screenshot({ path: join(ARTIFACTS, 'dashboard-login-1280x800.png') });

      // A wrong secret: a clear refusal, and still no data.
      await page.fill('input[name=principal]', opName!);
      await page.fill('input[name=secret]', `${opSecret}-wrong`);
      await page.click('button[type=submit]');
      await page.waitForSelector('.refusal');
      expect(await page.locator('.refusal').textContent()).toMatch(/refused.*401/);
      expect(await page.locator('#agents').count()).toBe(0);
      // A framework credential is not an operator's either.
      await page.fill('input[name=principal]', fwName!);
      await page.fill('input[name=secret]', fwSecret!);
      await page.click('button[type=submit]');
      await page.waitForFunction(() => document.querySelector('.refusal')?.textContent?.includes('refused') ?? false);
      expect(await page.locator('#agents').count()).toBe(0);

      await page.fill('input[name=principal]', opName!);
      await page.fill('input[name=secret]', opSecret!);
      await page.click('button[type=submit]');
      await page.waitForFunction(() => document.querySelectorAll('#agents .agent').length === 3);
      expect(await page.evaluate(() => sessionStorage.getItem('stratus.authorization'))).toBe(basic(opName!, opSecret!));

      await runJob(dev.url, 'secured', 1, 'echo secured; sleep 600', { STRATUS_PRINCIPAL: opName!, STRATUS_SECRET: opSecret! });
      await waitUntil(async () => (await runningInstances(page, 'secured')) === 1, 60_000, 'the instance running on the page', 100);

      // The master's log route, from the attacker's side: no credential, a wrong one, and a
      // framework principal that does not own the task are refused; the operator reads it.
      const state = (await (await fetch(`${dev.url}/master/state`, { headers: { authorization: basic(opName!, opSecret!) } })).json()) as {
        frameworks: { id: string; tasks: { id: string }[] }[];
      };
      const fw = state.frameworks.find((f) => f.tasks.length > 0)!;
      const logUrl = `${dev.url}/api/v1/tasks/${fw.id}/${fw.tasks[0]!.id}/logs`;
      expect((await fetch(logUrl)).status).toBe(401);
      expect((await fetch(logUrl, { headers: { authorization: basic(opName!, 'wrong') } })).status).toBe(401);
      const foreign = await fetch(logUrl, { headers: { authorization: basic(fwName!, fwSecret!) } });
      expect(foreign.status).toBe(403);
      expect(await foreign.text()).not.toContain('secured');
      await waitUntil(async () => (await (await fetch(logUrl, { headers: { authorization: basic(opName!, opSecret!) } })).text()).includes('secured'), 30_000, 'the log through the master');
      const malformed = await fetch(`${dev.url}/api/v1/tasks/${encodeURIComponent('no such/../id')}/x/logs`, { headers: { authorization: basic(opName!, opSecret!) } });
      expect(malformed.status).toBe(400);
      expect(await malformed.json()).toMatchObject({ field: 'framework_id' });

      // Signing out forgets the credential: the data is refused again.
      await page.click('text=sign out');
      await page.waitForSelector('form.login');
      expect(await page.evaluate(() => sessionStorage.getItem('stratus.authorization'))).toBeNull();
    } finally {
      await page.close();
      await dev.stop();
    }
  }, 180_000);
});
