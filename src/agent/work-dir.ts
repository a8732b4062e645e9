import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { z } from 'zod';

// The agent's work dir (Mesos's --work_dir):
//   agent.json               the agent id the master gave and its secret (kept across restarts; mode 0600)
//   agent.lock               pid of the agent using the dir: two agents on one dir would corrupt it
//   status-updates.jsonl     the status update journal
//   containers/<id>/         containerizer checkpoints and default sandboxes

const identitySchema = z.object({ agent_id: z.string().min(1), master: z.string().optional(), agent_secret: z.string().optional() });
export type AgentIdentity = z.output<typeof identitySchema>;

export class WorkDir {
  readonly root: string;

  constructor(root: string) {
    this.root = resolve(root);
  }

  get journalPath(): string {
    return join(this.root, 'status-updates.jsonl');
  }

  private get identityPath(): string {
    return join(this.root, 'agent.json');
  }

  private get lockPath(): string {
    return join(this.root, 'agent.lock');
  }

  create(): void {
    mkdirSync(this.root, { recursive: true });
  }

  readIdentity(): AgentIdentity | undefined {
    let raw: string;
    try {
      raw = readFileSync(this.identityPath, 'utf8');
    } catch {
      return undefined;
    }
    try {
      const parsed = identitySchema.safeParse(JSON.parse(raw));
      return parsed.success ? parsed.data : undefined;
    } catch {
      return undefined;
    }
  }

  writeIdentity(identity: AgentIdentity): void {
    const tmp = `${this.identityPath}.tmp`;
    const fd = openSync(tmp, 'w', 0o600); // it holds the agent's secret
    try {
      writeSync(fd, JSON.stringify(identity));
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, this.identityPath);
  }

  /** Takes the dir for this agent; throws when a live agent holds it. */
  lock(owner: object): void {
    const held = HELD.get(this.root);
    if (held !== undefined && held !== owner) throw new Error(`work dir ${this.root} is in use by another agent in this process`);
    let other: { pid: number; start: string } | undefined;
    try {
      const j = JSON.parse(readFileSync(this.lockPath, 'utf8')) as { pid?: unknown; start?: unknown };
      if (typeof j.pid === 'number' && typeof j.start === 'string') other = { pid: j.pid, start: j.start };
    } catch {
      /* no lock, or a torn one */
    }
    if (other !== undefined && other.pid !== process.pid && processStart(other.pid) === other.start) {
      throw new Error(`work dir ${this.root} is in use by the agent with pid ${other.pid}`);
    }
    writeFileSync(this.lockPath, JSON.stringify({ pid: process.pid, start: processStart(process.pid) ?? '' }));
    HELD.set(this.root, owner);
  }

  unlock(owner: object): void {
    if (HELD.get(this.root) !== owner) return;
    HELD.delete(this.root);
    rmSync(this.lockPath, { force: true });
  }
}

const HELD = new Map<string, object>();

/** /proc start time of a pid: tells a live holder from a recycled pid. */
function processStart(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}
