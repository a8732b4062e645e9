import type Docker from 'dockerode';
import { UnavailableError } from '../../../core/errors.js';
import type { FrameworkId, TaskId } from '../../../core/ids.js';
import type { StatusChange, ExitInfo } from '../base.js';
import { nowSeconds, refKey, type ContainerInfo, type RecoverOptions, type RecoveryResult, type TaskRef } from '../containerizer.js';
import { readStates, removeState, type ContainerStateFile } from '../state-file.js';
import { LABEL_CONTAINER_ID, LABEL_FRAMEWORK_ID, LABEL_TASK_ID } from '../validation.js';
import { dockerMessage, httpStatus, NOT_FOUND } from './engine-errors.js';

// After an agent restart: finds this agent's containers by their Stratus labels and adopts
// those of tasks the agent still knows; removes (kills) the others, the orphans; and settles
// checkpoints whose container is gone. A container that ended while the agent was down is
// reported once, with its exit code.

/** What recovery needs of the containerizer that keeps the table of containers. */
export interface RecoveryHost<E extends { removed: boolean }> {
  readonly agentId: string;
  readonly workDir: string;
  readonly removeOnExit: boolean;
  readonly log: (message: string) => void;
  /** This agent's containers, listed once the event stream is attached (so that no exit is missed). */
  listContainers(): Promise<Docker.ContainerInfo[]>;
  /** Force-removes a container (killing it), retrying while the engine does not answer. */
  removeContainer(dockerId: string): Promise<void>;
  /** A container this instance launched itself (already watched). */
  watches(containerId: string): boolean;
  /** A task this instance already tracks. */
  tracks(ref: TaskRef): boolean;
  adopt(ref: TaskRef, containerId: string, dockerId: string | undefined, state: ContainerStateFile | undefined): E;
  /** An adopted container that still runs: follow its logs, check its health, carry on with a kill. */
  watch(entry: E, launchedAtMs: number): void;
  /** Finds out how an adopted container that does not run ended, and reports it. */
  settle(entry: E): Promise<void>;
  release(entry: E): Promise<void>;
  report(entry: E, change: StatusChange): void;
  finish(entry: E, exit: ExitInfo): void;
  info(entry: E): ContainerInfo;
}

/** The Stratus labels of a container: its container id and its task. */
function labelsOf(c: Docker.ContainerInfo): { containerId: string | undefined; ref: TaskRef | undefined } {
  const labels = c.Labels ?? {};
  const taskId = labels[LABEL_TASK_ID] as TaskId | undefined;
  const frameworkId = labels[LABEL_FRAMEWORK_ID] as FrameworkId | undefined;
  return { containerId: labels[LABEL_CONTAINER_ID], ref: taskId !== undefined && frameworkId !== undefined ? { taskId, frameworkId } : undefined };
}

export async function recoverContainers<E extends { removed: boolean }>(host: RecoveryHost<E>, options: RecoverOptions = {}): Promise<RecoveryResult> {
  const known = options.knownTasks ? new Set(options.knownTasks.map(refKey)) : undefined;
  let listed: Docker.ContainerInfo[];
  try {
    listed = await host.listContainers();
  } catch (e) {
    throw e instanceof UnavailableError ? e : new UnavailableError(`cannot list containers: ${dockerMessage(e)}`);
  }
  const states = new Map(readStates(host.workDir, 'docker', host.agentId, host.log).map((s) => [s.containerId, s]));
  const recovered: E[] = [];
  const orphans: (TaskRef & { containerId: string })[] = [];
  const settling: Promise<void>[] = [];

  for (const c of listed) {
    const { containerId, ref } = labelsOf(c);
    const state = containerId === undefined ? undefined : states.get(containerId);
    if (containerId !== undefined) states.delete(containerId);
    // Launched by this instance: already watched.
    if (containerId !== undefined && host.watches(containerId)) continue;
    if (containerId === undefined || ref === undefined || (known !== undefined && !known.has(refKey(ref))) || host.tracks(ref)) {
      try {
        await host.removeContainer(c.Id);
      } catch (e) {
        if (httpStatus(e) !== NOT_FOUND) host.log(`cannot remove orphan container ${c.Id}: ${dockerMessage(e)}`);
      }
      if (containerId !== undefined) removeState(host.workDir, containerId);
      orphans.push({ taskId: ref?.taskId ?? ('' as TaskId), frameworkId: ref?.frameworkId ?? ('' as FrameworkId), containerId: containerId ?? c.Id });
      continue;
    }
    const entry = host.adopt(ref, containerId, c.Id, state);
    if (state?.terminal !== undefined) {
      // Reported before the restart, not yet removed: finish the cleanup only.
      if (host.removeOnExit) await host.release(entry);
      continue;
    }
    recovered.push(entry);
    if (c.State === 'running' || c.State === 'paused' || c.State === 'restarting') {
      host.watch(entry, (state?.launchedAt ?? nowSeconds()) * 1000);
    } else {
      settling.push(host.settle(entry));
    }
  }

  // Checkpoints without a container: reported once if they had not ended, kept for their logs if they had.
  for (const st of states.values()) {
    if (host.watches(st.containerId)) continue;
    const ref = { taskId: st.taskId as TaskId, frameworkId: st.frameworkId as FrameworkId };
    if ((known !== undefined && !known.has(refKey(ref))) || host.tracks(ref)) {
      removeState(host.workDir, st.containerId);
      continue;
    }
    const entry = host.adopt(ref, st.containerId, st.engineId, st);
    entry.removed = true;
    if (st.terminal !== undefined) continue;
    recovered.push(entry);
    if (st.engineId === undefined) host.report(entry, { state: 'FAILED', reason: 'AGENT_RESTARTED', message: 'the agent restarted before the container was created' });
    else host.finish(entry, { lost: 'the container disappeared while the agent was down' });
  }
  await Promise.all(settling);
  return { recovered: recovered.map((e) => host.info(e)), orphans };
}
