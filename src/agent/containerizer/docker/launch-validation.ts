import type { LaunchRequest } from '../containerizer.js';
import { InvalidTask, isValidImageReference } from '../validation.js';

// What the Docker containerizer checks of a launch beyond the common checks (validation.ts).

/** Only a task that names its image may run the image's own command; the default image needs one. */
export function namesImage(req: LaunchRequest): boolean {
  const c = req.spec?.container;
  return c?.type === 'DOCKER' && typeof c.docker?.image === 'string' && c.docker.image !== '';
}

/** Throws InvalidTask for a launch Docker cannot run. */
export function validateDockerLaunch(req: LaunchRequest, defaultImage: string | undefined): void {
  const c = req.spec.container;
  if (c !== undefined) {
    if (c.type !== 'DOCKER') throw new InvalidTask('spec.container.type', `the Docker containerizer runs DOCKER containers, not ${String(c.type)}`);
    if (c.docker === undefined) throw new InvalidTask('spec.container.docker', 'is required for a DOCKER container');
    const image: unknown = c.docker.image;
    if (typeof image !== 'string' || !isValidImageReference(image)) {
      throw new InvalidTask('spec.container.docker.image', `'${String(image)}' is not a valid image reference (name[:tag][@digest], lowercase)`);
    }
    const policy: unknown = c.docker.pullPolicy ?? 'IF_NOT_PRESENT';
    if (policy !== 'ALWAYS' && policy !== 'IF_NOT_PRESENT' && policy !== 'NEVER') {
      throw new InvalidTask('spec.container.docker.pullPolicy', 'must be ALWAYS, IF_NOT_PRESENT or NEVER');
    }
  } else if (defaultImage === undefined) {
    throw new InvalidTask('spec.container', 'the task names no image and this agent has no default image');
  }
  const wd = req.spec.workingDir;
  if (wd !== undefined && !wd.startsWith('/')) throw new InvalidTask('spec.workingDir', 'must be an absolute path inside the container');
  const mem = req.resources.mem;
  if (mem > 0 && mem < 6) throw new InvalidTask('resources.mem', `Docker needs a memory limit of at least 6 MiB (got ${mem})`);
}
