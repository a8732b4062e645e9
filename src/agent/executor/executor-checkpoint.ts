import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { z } from 'zod';

// What the agent keeps of its custom executors across a restart (Mesos checkpoints ExecutorInfo,
// TaskInfos and the executor's pid the same way): each executor run, its token, its container's
// task ref, and its tasks with the state they last reported. Written whole (tmp + rename) at
// every change, mode 0600 (it holds the executors' tokens).

const taskRecord = z.object({
  taskId: z.string(),
  /** The TaskInfo the executor receives in LAUNCH. */
  taskInfo: z.record(z.string(), z.unknown()),
  state: z.string(),
  /** LAUNCH went out to the executor. */
  sent: z.boolean(),
  killRequested: z.boolean(),
  killGracePeriodMs: z.number().optional(),
  /** Update uuids already journaled (a resend at SUBSCRIBE is not news). */
  uuids: z.array(z.string()),
});
export type ExecutorTaskRecord = z.output<typeof taskRecord>;

const runRecord = z.object({
  agentId: z.string(),
  frameworkId: z.string(),
  executorId: z.string(),
  /** The ExecutorSpec from the master (src/core/task.ts). */
  spec: z.record(z.string(), z.unknown()),
  /** The containerizers' task id of the executor's own container. */
  containerTaskId: z.string(),
  containerId: z.string().optional(),
  sandbox: z.string(),
  token: z.string(),
  subscribedOnce: z.boolean(),
  shuttingDown: z.boolean(),
  /** Its framework asked for the shutdown (scheduler SHUTDOWN): not started again for that request. */
  frameworkShutdown: z.boolean().optional(),
  terminated: z.boolean(),
  tasks: z.array(taskRecord),
});
export type ExecutorRunRecord = z.output<typeof runRecord>;

const fileSchema = z.object({ version: z.literal(1), runs: z.array(runRecord) });

export function readCheckpoint(path: string, log: (m: string) => void): ExecutorRunRecord[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return [];
  }
  try {
    return fileSchema.parse(JSON.parse(text)).runs;
  } catch (e) {
    log(`executor checkpoint ${path} is unreadable (${(e as Error).message}); starting without it`);
    return [];
  }
}

export function writeCheckpoint(path: string, runs: readonly ExecutorRunRecord[]): void {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.tmp`;
  writeFileSync(tmp, JSON.stringify({ version: 1, runs }), { mode: 0o600 });
  renameSync(tmp, path);
}
