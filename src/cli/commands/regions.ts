import { z } from 'zod';
import { apiClient, masterUrl, OUTPUT_FLAGS, OUTPUT_USAGE, outputFormat, parseFlags, printJson, printTable, type Command } from '../command.js';

// `stratus regions`: this region's federation peers as its master sees them, with the age of
// each peer's last digest (GET /api/v1/federation/peers).

const usage = `usage: stratus regions [--master URL] [-o table|json]

Lists the peer regions this region gossips with: state (alive, suspect, dead, or unknown
before a first digest), the age of the last newer digest, incarnation and sequence, agents,
free capacity and health as the peer reported them.
  --master URL         master (default $STRATUS_MASTER or http://127.0.0.1:5050)
${OUTPUT_USAGE}
Environment: STRATUS_MASTER (default http://127.0.0.1:5050), STRATUS_TOKEN (operator bearer token).`;

const scalars = z.object({ cpus: z.number(), mem: z.number() });
const peersResponse = z.object({
  region: z.string(),
  peers: z.array(
    z.object({
      name: z.string(),
      state: z.string(),
      incarnation: z.number().optional(),
      seq: z.number().optional(),
      ageMs: z.number().optional(),
      agents: z.object({ total: z.number(), reachable: z.number() }).optional(),
      capacity: z.object({ free: scalars, total: scalars }).optional(),
      health: z.object({ status: z.string() }).optional(),
    }),
  ),
});
export type PeersResponse = z.infer<typeof peersResponse>;

export function formatAge(ms: number | undefined): string {
  if (ms === undefined) return '-';
  if (ms < 1_000) return `${Math.round(ms)}ms`;
  if (ms < 60_000) return `${(ms / 1_000).toFixed(1)}s`;
  if (ms < 3_600_000) return `${Math.floor(ms / 60_000)}m${Math.floor((ms % 60_000) / 1_000)}s`;
  return `${Math.floor(ms / 3_600_000)}h${Math.floor((ms % 3_600_000) / 60_000)}m`;
}

/** The table rows of `stratus regions` (capacity arrives in fixed units: millicpus, MiB). */
export function regionRows(r: PeersResponse): (string | number)[][] {
  return r.peers.map((p) => [
    p.name,
    p.state,
    formatAge(p.ageMs),
    p.incarnation ?? '-',
    p.seq ?? '-',
    p.agents ? `${p.agents.reachable}/${p.agents.total}` : '-',
    p.capacity ? `${+(p.capacity.free.cpus / 1000).toFixed(1)}/${+(p.capacity.total.cpus / 1000).toFixed(1)}` : '-',
    p.capacity ? `${Math.round(p.capacity.free.mem / 1024)}/${Math.round(p.capacity.total.mem / 1024)}` : '-',
    p.health?.status ?? '-',
  ]);
}

export const REGION_COLUMNS = ['REGION', 'STATE', 'LAST DIGEST', 'INCARNATION', 'SEQ', 'AGENTS', 'FREE CPUS', 'FREE MEM GiB', 'HEALTH'] as const;

export const regionsCommand: Command = {
  name: 'regions',
  summary: 'list peer regions: state and age of their last digest',
  usage,
  async run(argv) {
    const { values } = parseFlags(argv, { master: { type: 'string' }, ...OUTPUT_FLAGS }, false);
    const format = outputFormat(values);
    const body = await apiClient(masterUrl(values.master)).request('GET', '/api/v1/federation/peers', peersResponse);
    if (format === 'json') {
      printJson(body);
      return 0;
    }
    process.stdout.write(`region ${body.region}: ${body.peers.length} peer(s)\n`);
    printTable(REGION_COLUMNS, regionRows(body));
    return 0;
  },
};
