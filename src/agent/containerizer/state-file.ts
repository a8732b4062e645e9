import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import type { TaskSpec } from '../../core/task.js';

// What a containerizer checkpoints per container, so that a restarted agent can adopt its tasks:
// <workDir>/containers/<containerId>/state.json, written atomically (tmp + rename).

const statusSchema = z.object({
  state: z.enum(['STARTING', 'RUNNING', 'FINISHED', 'FAILED', 'KILLED', 'ERROR']),
  reason: z.string().optional(),
  message: z.string().optional(),
  healthy: z.boolean().optional(),
  exitCode: z.number().int().optional(),
  timestamp: z.number(),
});

export const stateSchema = z.object({
  version: z.literal(1),
  kind: z.enum(['docker', 'process']),
  containerId: z.string().min(1),
  taskId: z.string().min(1),
  frameworkId: z.string().min(1),
  agentId: z.string().min(1),
  // Written by this module from a validated launch; read back as is.
  spec: z.custom<TaskSpec>((v) => typeof v === 'object' && v !== null),
  resources: z.object({ cpus: z.number(), mem: z.number(), disk: z.number(), network: z.number(), ports: z.array(z.object({ begin: z.number(), end: z.number() })) }),
  ports: z.array(z.number().int()),
  sandboxDir: z.string().min(1),
  launchedAt: z.number(),
  /** Docker container id, or the process id. */
  engineId: z.string().optional(),
  /** /proc/<pid>/stat start time: tells a live task from a recycled pid. */
  pidStartTime: z.string().optional(),
  killRequestedAt: z.number().optional(),
  killGracePeriodMs: z.number().optional(),
  killReason: z.string().optional(),
  killMessage: z.string().optional(),
  /** Set once the terminal status was reported. */
  terminal: statusSchema.optional(),
  /** Docker: nanosecond timestamp of the last log line captured, per stream. */
  logCursors: z.object({ stdout: z.string().optional(), stderr: z.string().optional() }).optional(),
});

export type ContainerStateFile = z.infer<typeof stateSchema>;

export const containersDir = (workDir: string): string => join(workDir, 'containers');
export const stateDir = (workDir: string, containerId: string): string => join(containersDir(workDir), containerId);

export function writeState(workDir: string, state: ContainerStateFile): void {
  const dir = stateDir(workDir, state.containerId);
  mkdirSync(dir, { recursive: true });
  const file = join(dir, 'state.json');
  writeFileSync(`${file}.tmp`, JSON.stringify(state));
  renameSync(`${file}.tmp`, file);
}

export function removeState(workDir: string, containerId: string): void {
  rmSync(stateDir(workDir, containerId), { recursive: true, force: true });
}

/** Every readable state file of this kind and agent; unreadable ones are reported and skipped. */
export function readStates(workDir: string, kind: 'docker' | 'process', agentId: string, log: (m: string) => void): ContainerStateFile[] {
  let names: string[];
  try {
    names = readdirSync(containersDir(workDir));
  } catch {
    return [];
  }
  const out: ContainerStateFile[] = [];
  for (const name of names) {
    const file = join(containersDir(workDir), name, 'state.json');
    let raw: string;
    try {
      raw = readFileSync(file, 'utf8');
    } catch {
      continue;
    }
    try {
      const parsed = stateSchema.safeParse(JSON.parse(raw));
      if (!parsed.success) {
        log(`ignoring malformed container state ${file}: ${parsed.error.message}`);
        continue;
      }
      if (parsed.data.kind === kind && parsed.data.agentId === agentId) out.push(parsed.data);
    } catch (e) {
      log(`ignoring unreadable container state ${file}: ${(e as Error).message}`);
    }
  }
  return out;
}
