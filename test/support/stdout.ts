import { vi } from 'vitest';

/** Collects what a CLI command prints to stdout (instead of printing it) until `restore()`. */
export function captureStdout(): { text(): string; clear(): void; restore(): void } {
  const chunks: string[] = [];
  const spy = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    chunks.push(String(chunk));
    return true;
  });
  return { text: () => chunks.join(''), clear: () => void chunks.splice(0), restore: () => spy.mockRestore() };
}
