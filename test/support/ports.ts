import { randomInt } from 'node:crypto';
import { createServer } from 'node:net';

// A port a task may listen on in a test. Chosen below Linux's ephemeral range (32768-60999 by
// default), so no outgoing connection of another test takes it meanwhile, and checked free
// (with its neighbours) by binding it for a moment.

function isFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/** The first of `count` consecutive free ports in [20000, 32000). */
export async function freePortsBelowEphemeral(count = 1): Promise<number> {
  for (let attempt = 0; attempt < 100; attempt++) {
    const first = 20_000 + randomInt(0, 12_000 - count);
    let ok = true;
    for (let p = first; p < first + count && ok; p++) ok = await isFree(p);
    if (ok) return first;
  }
  throw new Error(`no ${count} consecutive free ports found below the ephemeral range`);
}
