// The boot script of an agent host (Amazon Linux 2023): installs Docker and Node.js, fetches
// the `stratus` bundle and the agent token, and runs `stratus agent` under systemd with the
// region's API URL (and its agent WebSocket, over which the master pushes work), the host's zone (from instance metadata, IMDSv2) and its group; the agent
// reads its instance id and type from instance metadata too (--ec2-metadata), which is how
// the autoscaler maps agents to instances. The token reaches the agent as the Authorization
// header it sends (STRATUS_AGENT_AUTHORIZATION), from a root-only environment file.
// Values may be CloudFormation tokens (the API URL, the bundle's S3 URL): the lines are
// joined at deploy time.

export interface AgentUserDataProps {
  readonly apiUrl: string;
  /** The agents' WebSocket (wss://…): work is pushed, nothing long-polls. Without it the agent long-polls the API. */
  readonly socketUrl?: string;
  readonly region: string;
  readonly group: string;
  readonly bundleS3Url: string;
  readonly agentTokenSecretArn: string;
}

export const AGENT_SERVICE = 'stratus-agent.service';
export const AGENT_AUTHORIZATION_ENV = 'STRATUS_AGENT_AUTHORIZATION';
/** The agent's own endpoint (task logs, state). */
export const AGENT_PORT = 5051;

export function agentUserDataLines(p: AgentUserDataProps): string[] {
  return [
    'set -euo pipefail',
    'exec >>/var/log/stratus-agent-setup.log 2>&1',
    'dnf install -y docker',
    'dnf install -y nodejs22 || dnf install -y nodejs20',
    'systemctl enable --now docker',
    'NODE_BIN="$(command -v node-22 || command -v node-20 || command -v node)"',
    `IMDS_TOKEN="$(curl -sSf -X PUT http://169.254.169.254/latest/api/token -H 'X-aws-ec2-metadata-token-ttl-seconds: 300')"`,
    'ZONE="$(curl -sSf -H "X-aws-ec2-metadata-token: $IMDS_TOKEN" http://169.254.169.254/latest/meta-data/placement/availability-zone)"',
    'install -d -m 0755 /opt/stratus',
    'install -d -m 0700 /var/lib/stratus /var/lib/stratus/agent /etc/stratus',
    `aws s3 cp --region ${p.region} '${p.bundleS3Url}' /opt/stratus/stratus.mjs`,
    `AGENT_TOKEN="$(aws secretsmanager get-secret-value --region ${p.region} --secret-id '${p.agentTokenSecretArn}' --query SecretString --output text)"`,
    'umask 077',
    `printf '${AGENT_AUTHORIZATION_ENV}=Bearer %s\\n' "$AGENT_TOKEN" >/etc/stratus/agent.env`,
    'umask 022',
    `cat >/etc/systemd/system/${AGENT_SERVICE} <<UNIT`,
    '[Unit]',
    'Description=Stratus agent',
    // Wants, not Requires: the agent outlives a Docker restart and recovers its containers.
    'Wants=docker.service network-online.target',
    'After=docker.service network-online.target',
    '',
    '[Service]',
    'EnvironmentFile=/etc/stratus/agent.env',
    `Environment=AWS_REGION=${p.region}`,
    'WorkingDirectory=/var/lib/stratus',
    `ExecStart=$NODE_BIN /opt/stratus/stratus.mjs agent --master ${p.apiUrl}${p.socketUrl !== undefined ? ` --master-socket ${p.socketUrl}` : ''} --zone $ZONE --group ${p.group} --ec2-metadata --work-dir /var/lib/stratus/agent --port ${AGENT_PORT}`,
    'Restart=always',
    'RestartSec=5',
    '',
    '[Install]',
    'WantedBy=multi-user.target',
    'UNIT',
    'systemctl daemon-reload',
    `systemctl enable --now ${AGENT_SERVICE}`,
  ];
}
