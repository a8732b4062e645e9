import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { clientSocketInode, connectionFrom } from '../../../../src/agent/executor/peer-process.js';

// Who holds the calling end of a connection, read from a /proc laid out as Linux does.

let proc: string;
const ends = { remoteAddress: '127.0.0.1', remotePort: 40000, localAddress: '127.0.0.1', localPort: 5051 };
// 127.0.0.1:40000 -> 127.0.0.1:5051, established, inode 777; and the server's own end (inode 778).
const TCP = [
  '  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode',
  '   0: 0100007F:9C40 0100007F:13BB 01 00000000:00000000 00:00000000 00000000  1000        0 777 1 0000000000000000 20 4 30 10 -1',
  '   1: 0100007F:13BB 0100007F:9C40 01 00000000:00000000 00:00000000 00000000  1000        0 778 1 0000000000000000 20 4 30 10 -1',
].join('\n');

function processWith(pid: number, session: number, sockets: string[], cgroup = '0::/user.slice\n'): void {
  mkdirSync(join(proc, String(pid), 'fd'), { recursive: true });
  writeFileSync(join(proc, String(pid), 'stat'), `${pid} (python3 (x)) S 1 ${session} ${session} 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 12345\n`);
  writeFileSync(join(proc, String(pid), 'cgroup'), cgroup);
  sockets.forEach((s, i) => symlinkSync(s, join(proc, String(pid), 'fd', String(i + 3))));
}

beforeEach(() => {
  proc = mkdtempSync(join(tmpdir(), 'stratus-proc-'));
  mkdirSync(join(proc, 'net'));
  writeFileSync(join(proc, 'net', 'tcp'), TCP);
  writeFileSync(join(proc, 'net', 'tcp6'), 'header\n');
});
afterEach(() => rmSync(proc, { recursive: true, force: true }));

describe('peer process', () => {
  it("finds the client end's socket", () => {
    expect(clientSocketInode(ends, proc)).toBe('777');
    expect(clientSocketInode({ ...ends, remotePort: 40001 }, proc)).toBeUndefined();
    expect(clientSocketInode({ ...ends, remoteAddress: '10.0.0.1' }, proc)).toBeUndefined();
    expect(clientSocketInode({ ...ends, remoteAddress: '::ffff:127.0.0.1' }, proc)).toBe('777');
  });

  it("is the executor's only when a process of its session (or container) holds that socket", () => {
    processWith(4242, 4200, ['socket:[777]']);
    processWith(5000, 5000, ['socket:[778]', '/dev/null']);
    expect(connectionFrom(ends, { kind: 'process', sessionId: 4200 }, proc)).toBe(true);
    // Another session's process holding it, or the executor's session without it: not the executor.
    expect(connectionFrom(ends, { kind: 'process', sessionId: 5000 }, proc)).toBe(false);
    expect(connectionFrom({ ...ends, remotePort: 40001 }, { kind: 'process', sessionId: 4200 }, proc)).toBe(false);
    expect(connectionFrom(ends, { kind: 'docker', containerId: 'abc123' }, proc)).toBe(false);
    processWith(6000, 6000, ['socket:[777]'], '0::/system.slice/docker-abc123.scope\n');
    expect(connectionFrom(ends, { kind: 'docker', containerId: 'abc123' }, proc)).toBe(true);
  });
});
