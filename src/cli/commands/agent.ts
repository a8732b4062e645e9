import { createAgent, parseAttributes, parsePortRanges, type AgentOptions, type AgentTiming, type ContainerizerMode } from '../../agent/index.js';
import { createLogger, type LogLevel } from '../../core/logger.js';
import { AGENT_SOCKET_PATH } from '../../wire/agent-socket.js';
import { masterUrl, parseFlags, UsageError, type Command, numberFlag } from '../command.js';

// `stratus agent`: one agent daemon (Mesos's mesos-agent) on this host.

const usage = `usage: stratus agent [--master URL] [--master-socket WS-URL] [--zone ZONE] [--group GROUP] [--work-dir DIR]
                     [--cpus N] [--mem MiB] [--disk MiB] [--ports 31000-32000]
                     [--containerizer auto|docker|process] [--port 5051] [--host 0.0.0.0]

Runs an agent: registers with the master, runs the tasks it is given (in Docker, or as host
processes), reports their status updates (journaled in the work dir until acknowledged), and
serves GET /health, /api/v1/state and task logs on --port. Restarting it with the same work dir
adopts the tasks that still run. Stop it with SIGINT/SIGTERM (tasks keep running).

  --master URL            master (default $STRATUS_MASTER or http://127.0.0.1:5050)
  --master-socket WS-URL  talk to the master over its agent socket instead of HTTP long-polls:
                          work is pushed, the agent pings every few minutes (default
                          $STRATUS_MASTER_SOCKET; \`auto\` = <master>/api/v1/agents/socket; a
                          deployed region: its WebSocket API URL, wss://...)
  --work-dir DIR          id, status journal, checkpoints and sandboxes (default .stratus/agent)
  --zone ZONE             zone attribute (default: from EC2 instance metadata)
  --group GROUP           group attribute (e.g. the Auto Scaling group)
  --instance-type T       instance_type attribute (default: from EC2 metadata when on EC2)
  --instance-id ID        instance_id attribute (default: from EC2 metadata when on EC2)
  --attributes A          more attributes, Mesos syntax: rack:r1;os:linux
  --ec2-metadata          ask EC2 instance metadata even when --zone is given
  --cpus N --mem MiB --disk MiB
                          resources to offer (default: detected, minus a host reserve)
  --ports RANGES          port ranges to offer (default 31000-32000)
  --containerizer MODE    auto (Docker for images, processes for commands; default), docker, process
  --docker-socket PATH    Docker engine socket (default /var/run/docker.sock)
  --default-image IMAGE   image for tasks without one under --containerizer docker
  --hostname NAME         hostname to register (default: this host's)
  --host ADDR --port N    where the agent endpoint listens (default 0.0.0.0:5051; 0 picks a port)
  --advertise-url URL     endpoint URL to register (default http://<host>:<port>)
  --log-level LEVEL       debug, info, warn, error (default info)
  --heartbeat-ms MS --long-poll-seconds S --status-retry-ms MS --status-retry-max-ms MS
                          timings (tests); defaults: the master's, 20, 1000, 60000
Environment: STRATUS_AGENT_AUTHORIZATION (Authorization header sent to the master).`;


export const agentCommand: Command = {
  name: 'agent',
  summary: 'run an agent daemon on this host',
  usage,
  async run(argv) {
    const { values, positionals } = parseFlags(argv, {
      master: { type: 'string' },
      'master-socket': { type: 'string' },
      'work-dir': { type: 'string', default: '.stratus/agent' },
      zone: { type: 'string' },
      group: { type: 'string' },
      'instance-type': { type: 'string' },
      'instance-id': { type: 'string' },
      attributes: { type: 'string' },
      'ec2-metadata': { type: 'boolean' },
      cpus: { type: 'string' },
      mem: { type: 'string' },
      disk: { type: 'string' },
      ports: { type: 'string' },
      containerizer: { type: 'string', default: 'auto' },
      'docker-socket': { type: 'string' },
      'default-image': { type: 'string' },
      hostname: { type: 'string' },
      host: { type: 'string', default: '0.0.0.0' },
      port: { type: 'string', default: '5051' },
      'advertise-url': { type: 'string' },
      'log-level': { type: 'string', default: process.env.STRATUS_LOG_LEVEL ?? 'info' },
      'heartbeat-ms': { type: 'string' },
      'long-poll-seconds': { type: 'string' },
      'status-retry-ms': { type: 'string' },
      'status-retry-max-ms': { type: 'string' },
    });
    if (positionals.length > 0) throw new UsageError(`unexpected argument '${positionals[0]}'`);
    const mode = values.containerizer;
    if (mode !== 'auto' && mode !== 'docker' && mode !== 'process') throw new UsageError(`--containerizer must be auto, docker or process (got '${mode}')`);
    const level = values['log-level'];
    if (!['debug', 'info', 'warn', 'error'].includes(level)) throw new UsageError(`--log-level must be debug, info, warn or error (got '${level}')`);
    let ports;
    let attributes;
    try {
      ports = values.ports !== undefined ? parsePortRanges(values.ports, '--ports') : undefined;
      attributes = values.attributes !== undefined ? parseAttributes(values.attributes, '--attributes') : undefined;
    } catch (e) {
      throw new UsageError((e as Error).message);
    }
    const timing: AgentTiming = {
      ...(values['heartbeat-ms'] !== undefined && { heartbeatIntervalMs: numberFlag('heartbeat-ms', values['heartbeat-ms'], { integer: true }) }),
      ...(values['long-poll-seconds'] !== undefined && { longPollSeconds: numberFlag('long-poll-seconds', values['long-poll-seconds']) }),
      ...(values['status-retry-ms'] !== undefined && { statusRetryInitialMs: numberFlag('status-retry-ms', values['status-retry-ms'], { integer: true }) }),
      ...(values['status-retry-max-ms'] !== undefined && { statusRetryMaxMs: numberFlag('status-retry-max-ms', values['status-retry-max-ms'], { integer: true }) }),
    };
    const master = masterUrl(values.master);
    const socketFlag = values['master-socket'] ?? process.env.STRATUS_MASTER_SOCKET;
    const masterSocket = socketFlag === 'auto' ? `${master.replace(/^http/, 'ws').replace(/\/$/, '')}${AGENT_SOCKET_PATH}` : socketFlag || undefined;
    const auth = process.env.STRATUS_AGENT_AUTHORIZATION;
    const log = createLogger('stratus-agent', level as LogLevel);
    const options: AgentOptions = {
      master,
      ...(masterSocket !== undefined && { masterSocket }),
      workDir: values['work-dir'],
      containerizer: mode as ContainerizerMode,
      host: values.host,
      port: numberFlag('port', values.port, { integer: true })!,
      log,
      timing,
      ...(values.zone !== undefined && { zone: values.zone }),
      ...(values.group !== undefined && { group: values.group }),
      ...(values['instance-type'] !== undefined && { instanceType: values['instance-type'] }),
      ...(values['instance-id'] !== undefined && { instanceId: values['instance-id'] }),
      ...(attributes !== undefined && { attributes }),
      ...(values['ec2-metadata'] === true && { ec2Metadata: true }),
      ...(values.cpus !== undefined && { cpus: numberFlag('cpus', values.cpus) }),
      ...(values.mem !== undefined && { mem: numberFlag('mem', values.mem) }),
      ...(values.disk !== undefined && { disk: numberFlag('disk', values.disk) }),
      ...(ports !== undefined && { ports }),
      ...(values['docker-socket'] !== undefined && { dockerSocket: values['docker-socket'] }),
      ...(values['default-image'] !== undefined && { defaultImage: values['default-image'] }),
      ...(values.hostname !== undefined && { hostname: values.hostname }),
      ...(values['advertise-url'] !== undefined && { advertiseUrl: values['advertise-url'] }),
      ...(auth !== undefined && auth !== '' && { headers: { Authorization: auth } }),
    };
    let agent;
    try {
      agent = createAgent(options);
    } catch (e) {
      throw new UsageError((e as Error).message);
    }
    // Stop on the first signal even while still registering (a master that never answers).
    const stopped = new Promise<void>((resolve) => {
      process.once('SIGINT', resolve);
      process.once('SIGTERM', resolve);
    });
    const started = agent.start();
    const first = await Promise.race([started.then(() => 'started' as const), stopped.then(() => 'signal' as const)]);
    if (first === 'started') {
      process.stdout.write(`stratus agent ${agent.agentId ?? ''} registered with ${options.masterSocket ?? options.master}; endpoint ${agent.endpoint ?? ''}\n`);
      await stopped;
    }
    await agent.stop();
    await started.catch(() => undefined);
    return 0;
  },
};
