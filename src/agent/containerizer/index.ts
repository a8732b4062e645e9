// The Containerizer port and its adapters, for the agent daemon.
export * from './containerizer.js';
export { DockerContainerizer, type DockerContainerizerOptions, type DockerContainerizerStats } from './docker/docker-containerizer.js';
export { isEngineUnavailable } from './docker/engine-errors.js';
export { ProcessContainerizer, type ProcessContainerizerOptions } from './process-containerizer.js';
export { HealthChecker, httpProbe, tcpProbe, type HealthProbe, type ProbeResult } from './health-check.js';
export { isValidImageReference, portEnvironment, LABEL_AGENT_ID, LABEL_CONTAINER_ID, LABEL_FRAMEWORK_ID, LABEL_TASK_ID } from './validation.js';
