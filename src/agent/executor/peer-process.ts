import { readdirSync, readFileSync, readlinkSync } from 'node:fs';

// Which local process holds the other end of a TCP connection to the agent endpoint (Linux
// /proc). Executors built on libraries that send no credential (pymesos sends none) are known
// by where they call from: the connection must come from a process of the executor's own
// container — its process session (a host process executor runs in a session of its own) or
// its Docker container's cgroup. Nothing else on the host can pass for it.

export interface ConnectionEnds {
  readonly remoteAddress: string;
  readonly remotePort: number;
  readonly localAddress: string;
  readonly localPort: number;
}

/** Where the executor runs: a host process session (its leader's pid) or a Docker container id. */
export type ExecutorPlace = { readonly kind: 'process'; readonly sessionId: number } | { readonly kind: 'docker'; readonly containerId: string };

function hexPort(p: string): number {
  return Number.parseInt(p, 16);
}

/** /proc/net/tcp addresses are little-endian hex; IPv4 (also IPv4-mapped IPv6) decoded, others undefined. */
function hexAddress(h: string): string | undefined {
  const v4 = h.length === 8 ? h : h.length === 32 && h.slice(0, 24) === '0000000000000000FFFF0000' ? h.slice(24) : undefined;
  if (v4 === undefined) return undefined;
  const b = [6, 4, 2, 0].map((i) => Number.parseInt(v4.slice(i, i + 2), 16));
  return b.join('.');
}

function plainAddress(a: string): string {
  return a.startsWith('::ffff:') ? a.slice(7) : a;
}

/** The socket inode of the client's end of the connection, from the agent's network namespace. */
export function clientSocketInode(c: ConnectionEnds, procRoot = '/proc'): string | undefined {
  for (const file of ['net/tcp', 'net/tcp6']) {
    let text: string;
    try {
      text = readFileSync(`${procRoot}/${file}`, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      if (f.length < 10) continue;
      const [localHex, remHex] = [f[1]!, f[2]!];
      const [lAddr = '', lPort = ''] = localHex.split(':');
      const [rAddr = '', rPort = ''] = remHex.split(':');
      // The client's local end is our remote end, and its remote end is our listening socket.
      if (hexPort(lPort) !== c.remotePort || hexPort(rPort) !== c.localPort) continue;
      const la = hexAddress(lAddr);
      const ra = hexAddress(rAddr);
      if (la !== undefined && la !== plainAddress(c.remoteAddress)) continue;
      if (ra !== undefined && ra !== plainAddress(c.localAddress)) continue;
      const inode = f[9]!;
      if (inode !== '0') return inode;
    }
  }
  return undefined;
}

function sessionOf(pid: string, procRoot: string): number | undefined {
  try {
    const raw = readFileSync(`${procRoot}/${pid}/stat`, 'utf8');
    const fields = raw.slice(raw.lastIndexOf(')') + 2).split(' ');
    return Number(fields[3]);
  } catch {
    return undefined;
  }
}

function inContainer(pid: string, containerId: string, procRoot: string): boolean {
  try {
    return readFileSync(`${procRoot}/${pid}/cgroup`, 'utf8').includes(containerId);
  } catch {
    return false;
  }
}

function holdsSocket(pid: string, inode: string, procRoot: string): boolean {
  let fds: string[];
  try {
    fds = readdirSync(`${procRoot}/${pid}/fd`);
  } catch {
    return false;
  }
  const want = `socket:[${inode}]`;
  for (const fd of fds) {
    try {
      if (readlinkSync(`${procRoot}/${pid}/fd/${fd}`) === want) return true;
    } catch {
      /* closed meanwhile */
    }
  }
  return false;
}

/** Whether the calling end of this connection belongs to a process of the executor's place. */
export function connectionFrom(c: ConnectionEnds, place: ExecutorPlace, procRoot = '/proc'): boolean {
  const inode = clientSocketInode(c, procRoot);
  if (inode === undefined) return false;
  let pids: string[];
  try {
    pids = readdirSync(procRoot).filter((d) => /^\d+$/.test(d));
  } catch {
    return false;
  }
  for (const pid of pids) {
    const member = place.kind === 'process' ? sessionOf(pid, procRoot) === place.sessionId : inContainer(pid, place.containerId, procRoot);
    if (member && holdsSocket(pid, inode, procRoot)) return true;
  }
  return false;
}
