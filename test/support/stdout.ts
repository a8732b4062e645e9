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

/** Collects what is printed to stdout and to stderr (for a whole `stratus` command line) until `restore()`. */
export function captureOutput(): { stdout(): string; stderr(): string; clear(): void; restore(): void } {
  const out: string[] = [];
  const err: string[] = [];
  const spies = [
    vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      out.push(String(chunk));
      return true;
    }),
    vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
      err.push(String(chunk));
      return true;
    }),
  ];
  return {
    stdout: () => out.join(''),
    stderr: () => err.join(''),
    clear: () => void (out.splice(0), err.splice(0)),
    restore: () => spies.forEach((s) => s.mockRestore()),
  };
}
