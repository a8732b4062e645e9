import type { Readable } from 'node:stream';
import type Docker from 'dockerode';

// Pulling a task's image (POST /images/create): the engine answers 200 at once and reports
// progress, and failure, in the JSON stream that follows.

/** One pull of `image`, bounded by `timeoutMs`; rejects with the engine's error. */
export async function pullImage(streams: Docker, image: string, timeoutMs: number): Promise<void> {
  const stream = (await streams.pull(image, { abortSignal: AbortSignal.timeout(timeoutMs) })) as unknown as Readable;
  await new Promise<void>((resolve, reject) => {
    streams.modem.followProgress(stream, (err: Error | null, output: { error?: string }[]) => {
      // A failed pull still answered 200: the error is a message in the stream, with no status or code.
      const failed = output?.find((o) => o.error !== undefined);
      if (err) reject(err);
      else if (failed) reject(new Error(failed.error));
      else resolve();
    });
  });
}
